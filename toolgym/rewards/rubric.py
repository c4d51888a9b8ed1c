"""A weighted combination of reward components; weight 0 means "log only"."""

from __future__ import annotations

from collections.abc import Mapping

from toolgym.episode import Episode, Turn
from toolgym.rewards.registry import EPISODE_REWARDS, STEP_REWARDS, EpisodeReward


class Rubric:
    """Weights over named components. Every registered component is computed and logged.

    ``Rubric({"completion": 1.0, "format": 0.1})`` pays task completion at the end of the episode
    and 0.1 per well-formed turn; every other component is logged with weight 0.

    Components that belong to one rubric rather than to the registry (e.g. the LLM judge's
    ``judge`` and ``judge_failed``, which need a judge object) come in ``extra_episode_rewards``;
    they are computed and weighted like the registered end-of-episode components.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        extra_episode_rewards: Mapping[str, EpisodeReward] | None = None,
    ) -> None:
        """Check the weights' names and fill every other component with weight 0.

        Args:
            weights: Weight by component name; unnamed components are logged with weight 0.
            extra_episode_rewards: End-of-episode components ``(Episode) -> float`` of this
                rubric only, by name (names must differ from the registered components').

        Raises:
            ValueError: a weight names an unknown component, or an extra component's name is
                already registered.
        """
        extra = dict(extra_episode_rewards or {})
        clash = sorted(set(extra) & {*STEP_REWARDS, *EPISODE_REWARDS})
        if clash:
            raise ValueError(f"extra reward component(s) {clash} clash with registered ones")
        known = {*STEP_REWARDS, *EPISODE_REWARDS, *extra}
        unknown = sorted(set(weights) - known)
        if unknown:
            hint = (
                " ('judge' and 'judge_failed' exist only when the env is given a judge)"
                if {"judge", "judge_failed"} & set(unknown)
                else ""
            )
            raise ValueError(
                f"unknown reward component(s) {unknown}; known components: {sorted(known)}{hint}"
            )
        self.extra_episode_rewards = extra
        self.weights = {name: float(weights.get(name, 0.0)) for name in known}

    def with_episode_rewards(self, extra: Mapping[str, EpisodeReward]) -> Rubric:
        """A copy of this rubric (same weights) with more end-of-episode components."""
        return Rubric(self.weights, {**self.extra_episode_rewards, **extra})

    def score_turn(self, turn: Turn) -> dict[str, float]:
        """Every per-turn component for ``turn``."""
        return {name: fn(turn) for name, fn in STEP_REWARDS.items()}

    def score_episode(self, episode: Episode) -> dict[str, float]:
        """Every end-of-episode component for ``episode``, the extra ones last."""
        table = {**EPISODE_REWARDS, **self.extra_episode_rewards}
        return {name: fn(episode) for name, fn in table.items()}

    def total(self, components: Mapping[str, float]) -> float:
        """The weighted sum of ``components``."""
        return sum(self.weights[name] * value for name, value in components.items())

    def __repr__(self) -> str:
        active = {k: v for k, v in sorted(self.weights.items()) if v}
        return f"Rubric({active})"
