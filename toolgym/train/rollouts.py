"""What the trainer reads from a step's episodes: which to train on, success, and the step's metrics."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from toolgym.collector import RolloutStats
from toolgym.episode import UNSCORED_REASONS, succeeded
from toolgym.tokens.trajectory import Batch, Trajectory
from toolgym.train.advantages import zero_variance_fraction


@dataclass
class Rollout:
    """One step's episodes, collated, with the reference log-probs (when beta or KL-in-reward)."""

    trajectories: list[Trajectory]
    stats: RolloutStats
    batch: Batch
    rewards: torch.Tensor  # (B,) episode rewards
    reference: torch.Tensor | None
    finished: float  # perf_counter() when the rollout (and reference scoring) ended
    dropped: int = 0  # episodes left out: groups with a user_error or env_error episode
    broken: dict[str, int] | None = None  # episodes per unscored end reason, before dropping


def without_broken_groups(trajectories: list[Trajectory], group_size: int) -> list[Trajectory]:
    """Drop every group that holds a ``user_error`` or ``env_error`` episode.

    Such an episode (the user's model failed, or an exception escaped the env) says nothing
    about the policy, and a group without it would compare fewer samples than the advantage
    estimators assume, so the whole group sits this step out.
    """
    kept = []
    for start in range(0, len(trajectories), group_size):
        group = trajectories[start : start + group_size]
        if all(t.end_reason not in UNSCORED_REASONS for t in group):
            kept += group
    return kept


def broken_counts(trajectories: list[Trajectory]) -> dict[str, int]:
    """How many episodes ended in each unscored reason (``user_error``, ``env_error``)."""
    return {r: sum(t.end_reason == r for t in trajectories) for r in sorted(UNSCORED_REASONS)}


class NoRewardSignal(RuntimeError):
    """Training stopped: too many steps in a row gave the policy nothing to learn from."""


def no_signal_advice(steps: int, metrics: dict[str, float]) -> str:
    """What to do when rewards are flat: the message of the warning and of the stop."""
    return (
        f"no reward signal for {steps} step(s) in a row: every group's rewards were equal "
        f"(mean reward {metrics.get('reward_mean', 0.0):.3f}), so the policy gradient is zero. "
        "Start from an SFT run (`--init runs/sft`, or `toolgym recipe`), use a denser reward "
        "(e.g. --set 'rewards={completion=1.0, toolrl=0.1}'), an easier curriculum "
        "(generated.categories = ['single']), a larger group_size or a higher temperature"
    )


def solved_advice(metrics: dict[str, float]) -> str:
    """The warning for a flat step where every episode succeeded."""
    return (
        "no reward signal: every episode of the step succeeded (mean reward "
        f"{metrics.get('reward_mean', 0.0):.3f}), so these tasks teach nothing more; add harder "
        "tasks (more generated tasks, other categories) or raise the temperature so a group's samples differ"
    )


def success_rate(trajectories: list[Trajectory]) -> float:
    """Task completion over episodes neither the user simulator nor the env broke."""
    finals = [
        float(succeeded(t.components[-1] if t.components else {}))
        for t in trajectories
        if t.end_reason not in UNSCORED_REASONS
    ]
    return sum(finals) / len(finals) if finals else 0.0


def rollout_metrics(
    trajectories: list[Trajectory], rewards: torch.Tensor, group_size: int
) -> dict[str, float]:
    """Reward mean/std, success, turns, tokens, zero-variance groups, and every component's mean/std."""
    metrics = {
        "reward_mean": float(rewards.mean()),
        "reward_std": float(rewards.std(correction=0)),
        "success": success_rate(trajectories),
        "turns": sum(len(t.turn_rewards) for t in trajectories) / len(trajectories),
        "tokens": sum(len(t) for t in trajectories) / len(trajectories),
        "zero_variance_groups": zero_variance_fraction(rewards, group_size),
    }
    names = {name for t in trajectories for c in t.components for name in c}
    for name in sorted(names):
        values = torch.tensor(
            [
                sum(c.get(name, 0.0) for c in t.components) / max(1, len(t.components))
                for t in trajectories
            ]
        )
        metrics[f"{name}_mean"], metrics[f"{name}_std"] = (
            float(values.mean()),
            float(values.std(correction=0)),
        )
    return metrics
