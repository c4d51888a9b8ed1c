"""Policies: text-level reference policies and OpenAI-compatible endpoints.

The local transformers policy (needs torch) lives in ``toolgym.policies.hf``.
"""

from toolgym.policies.openai import OpenAIConfig, OpenAIPolicy, PolicyStats
from toolgym.policies.openai_protocol import (
    Completion,
    EndpointError,
    EndpointTimeout,
    EndpointUnavailable,
    MalformedResponse,
    OpenAIPolicyError,
)
from toolgym.policies.reference import (
    EpisodeResult,
    ExpertPolicy,
    OraclePolicy,
    RandomPolicy,
    TextPolicy,
    play,
)

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
