"""A run's envs, built alike by the learner and by Ray rollout workers in their own processes."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from toolgym.llm.backends import LocalBackend
from toolgym.train.config import TrainConfig


def make_env(config: TrainConfig, split: str, user_backend: LocalBackend | None = None) -> gym.Env:
    """A fresh text-level env of ``config.env``: its user simulator and reward weights."""
    user = config.user
    fields: dict[str, Any] = {"user": user.build(user_backend) if user_backend else user}
    if config.rewards is not None:
        fields["rewards"] = config.rewards
    return gym.make(config.env, split=split, **fields)


def policy_as_user(config: TrainConfig, model: Any, tokenizer: Any) -> LocalBackend | None:
    """A frozen copy of the starting policy, to play an llm user (``user.model="policy"``)."""
    user = config.user
    if user.model != "policy" or user.kind != "llm" or user.base_url is not None:
        return None
    return LocalBackend(
        model, tokenizer, name=f"policy:{config.init or config.model}",
        temperature=user.temperature, max_new_tokens=user.max_tokens, frozen_copy=True,
    )  # fmt: skip
