"""Named reward components, so env specs and rubrics can refer to them by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from toolgym.episode import Episode, Turn

StepReward = Callable[[Turn], float]
EpisodeReward = Callable[[Episode], float]
R = TypeVar("R", bound=Callable[..., float])

STEP_REWARDS: dict[str, StepReward] = {}
EPISODE_REWARDS: dict[str, EpisodeReward] = {}


def step_reward(name: str) -> Callable[[R], R]:
    """Register a per-turn component ``(Turn) -> float`` under ``name``."""
    return _register(STEP_REWARDS, name)


def episode_reward(name: str) -> Callable[[R], R]:
    """Register an end-of-episode component ``(Episode) -> float`` under ``name``."""
    return _register(EPISODE_REWARDS, name)


def _register(table: dict[str, Callable[..., float]], name: str) -> Callable[[R], R]:
    def add(fn: R) -> R:
        if name in STEP_REWARDS or name in EPISODE_REWARDS:
            raise ValueError(f"a reward component called {name!r} is already registered")
        table[name] = fn
        return fn

    return add
