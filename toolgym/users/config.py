"""``UserConfig``: which simulated user plays the episodes, as one typed, serialisable config.

``UserConfig(kind="llm", model="smollm2-135m").build()`` gives a fresh ``LLMUser`` per call (one
per env, since a user holds one conversation at a time) that shares one loaded model, one HTTP
client and one record/replay cache with every other user built from the same config.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from toolgym.llm.backends import ChatBackend, EndpointBackend, LocalBackend
from toolgym.users.base import UserSimulator
from toolgym.users.cache import CacheMode, UserCache
from toolgym.users.llm import Ending, LLMUser
from toolgym.users.scripted import ScriptedUser


class UserConfig(BaseModel):
    """A scripted user, or an LLM user backed by a local model or an OpenAI-compatible endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["scripted", "llm"] = Field(
        default="scripted", description="scripted (rules, no model) or llm."
    )
    model: str = Field(
        default="smollm2-135m",
        description="llm: a local model (smollm2-135m, tiny), the endpoint's model id when "
        "base_url is set, or (in training) 'policy': a frozen copy of the policy's starting weights.",
    )
    base_url: str | None = Field(
        default=None, description="llm: an OpenAI-compatible API root (None: run model locally)."
    )
    temperature: float = Field(default=0.7, ge=0, le=2, description="llm: sampling temperature.")
    max_tokens: int = Field(default=96, ge=1, description="llm: longest user turn, in tokens.")
    seed: int = Field(default=0, ge=0, description="llm: seed of the user's sampling.")
    ending: Ending = Field(
        default="signal",
        description="llm: 'signal' (only ###STOP### ends) or 'signal_or_answer' (a message "
        "without a question also ends, for small user models).",
    )
    cache: Path | None = Field(default=None, description="llm: record/replay cache (SQLite file).")
    cache_mode: CacheMode = Field(
        default="record", description="llm: record (replay hits, record misses) or replay only."
    )
    timeout: float = Field(default=60.0, gt=0, description="llm endpoint: seconds per attempt.")
    max_retries: int = Field(default=2, ge=0, description="llm endpoint: retries after a failure.")

    def build(self, backend: ChatBackend | None = None) -> UserSimulator:
        """A new user simulator (its model, client and cache are shared across builds).

        Args:
            backend: The llm user's model, when the caller has it already (the trainer passes a
                frozen copy of the policy for ``model="policy"``); default: from these fields.
        """
        if self.kind == "scripted":
            return ScriptedUser()
        return LLMUser(
            backend or _backend(self), cache=_cache(self), seed=self.seed, ending=self.ending
        )


@functools.cache
def _backend(config: UserConfig) -> ChatBackend:
    if config.base_url is not None:
        from toolgym.llm.config import OpenAIConfig

        return EndpointBackend(
            OpenAIConfig(
                base_url=config.base_url,
                model=config.model,
                temperature=config.temperature,
                max_tokens=config.max_tokens,
                read_timeout=config.timeout,
                attempt_timeout=config.timeout,
                max_retries=config.max_retries,
                backoff_base=0.2,
                max_concurrency=1,
            )
        )
    from toolgym.llm import models

    if config.model == "policy":
        raise ValueError("user.model='policy' is for training (the trainer supplies the policy)")
    model, tokenizer = models.load(config.model)  # type: ignore[arg-type]
    return LocalBackend(
        model,
        tokenizer,
        name=config.model,
        temperature=config.temperature,
        max_new_tokens=config.max_tokens,
    )


@functools.cache
def _cache(config: UserConfig) -> UserCache | None:
    return UserCache(config.cache, config.cache_mode) if config.cache else None
