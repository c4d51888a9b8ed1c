"""Policies: text-level reference policies, local transformers models, OpenAI-compatible endpoints."""

from toolgym.policies.reference import EpisodeResult, OraclePolicy, RandomPolicy, TextPolicy, play

__all__ = ["EpisodeResult", "OraclePolicy", "RandomPolicy", "TextPolicy", "play"]
