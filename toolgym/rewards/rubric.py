"""A weighted combination of reward components; weight 0 means "log only"."""

from __future__ import annotations

from collections.abc import Mapping

from toolgym.episode import Episode, Turn
from toolgym.rewards.registry import EPISODE_REWARDS, STEP_REWARDS


class Rubric:
    """Weights over named components. Every registered component is computed and logged.

    ``Rubric({"completion": 1.0, "format": 0.1})`` pays task completion at the end of the episode
    and 0.1 per well-formed turn; every other component is logged with weight 0.
    """

    def __init__(self, weights: Mapping[str, float]) -> None:
        unknown = sorted(set(weights) - set(STEP_REWARDS) - set(EPISODE_REWARDS))
        if unknown:
            known = sorted({*STEP_REWARDS, *EPISODE_REWARDS})
            raise ValueError(f"unknown reward component(s) {unknown}; known components: {known}")
        self.weights = {
            name: float(weights.get(name, 0.0)) for name in {*STEP_REWARDS, *EPISODE_REWARDS}
        }

    def score_turn(self, turn: Turn) -> dict[str, float]:
        """Every per-turn component for ``turn``."""
        return {name: fn(turn) for name, fn in STEP_REWARDS.items()}

    def score_episode(self, episode: Episode) -> dict[str, float]:
        """Every end-of-episode component for ``episode``."""
        return {name: fn(episode) for name, fn in EPISODE_REWARDS.items()}

    def total(self, components: Mapping[str, float]) -> float:
        """The weighted sum of ``components``."""
        return sum(self.weights[name] * value for name, value in components.items())

    def __repr__(self) -> str:
        active = {k: v for k, v in sorted(self.weights.items()) if v}
        return f"Rubric({active})"
