"""Agents: text-level reference policies, an OpenAI-compatible endpoint, and the play loop.

The local transformers policy (needs torch) lives in ``toolgym.policies.hf_text``; the clients
and samplers these agents use live in :mod:`toolgym.llm`.
"""

from toolgym.llm.client import PolicyStats
from toolgym.llm.config import OpenAIConfig
from toolgym.llm.errors import (
    EndpointError,
    EndpointTimeout,
    EndpointUnavailable,
    MalformedResponse,
    OpenAIPolicyError,
)
from toolgym.llm.protocol import Completion
from toolgym.policies.openai import OpenAIPolicy
from toolgym.policies.play import EpisodeResult, TextPolicy, play
from toolgym.policies.reference import ExpertPolicy, OraclePolicy, RandomPolicy

__all__ = [
    "Completion",
    "EndpointError",
    "EndpointTimeout",
    "EndpointUnavailable",
    "EpisodeResult",
    "ExpertPolicy",
    "MalformedResponse",
    "OpenAIConfig",
    "OpenAIPolicy",
    "OpenAIPolicyError",
    "OraclePolicy",
    "PolicyStats",
    "RandomPolicy",
    "TextPolicy",
    "play",
]
