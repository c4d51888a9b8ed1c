"""Simulated users: the rule-based ``ScriptedUser`` and the model-backed ``LLMUser``.

``LLMUser`` talks through a chat backend (``LocalBackend``: a transformers model in this process;
``EndpointBackend``: any OpenAI-compatible server; both from :mod:`toolgym.llm.backends`, and
re-exported here with the users that need them) and can record and replay its turns
(``UserCache``). Either plugs into an env: ``gym.make(env_id, user=LLMUser(...))``.
"""

from toolgym.llm.backends import (
    BackendError,
    BackendReply,
    ChatBackend,
    EndpointBackend,
    LocalBackend,
)
from toolgym.users.base import UserReply, UserSimulator, UserStats, UserUnavailable
from toolgym.users.cache import CacheMiss, UserCache
from toolgym.users.llm import STOP_SIGNAL, LLMUser, profile_prompt
from toolgym.users.scripted import ScriptedUser

__all__ = [
    "STOP_SIGNAL",
    "BackendError",
    "BackendReply",
    "CacheMiss",
    "ChatBackend",
    "EndpointBackend",
    "LLMUser",
    "LocalBackend",
    "ScriptedUser",
    "UserCache",
    "UserReply",
    "UserSimulator",
    "UserStats",
    "UserUnavailable",
    "profile_prompt",
]
