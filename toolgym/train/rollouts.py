"""What the trainer reads from a step's episodes: which to train on, success, and the step's metrics."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from toolgym.rollout import RolloutStats
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
    dropped: int = 0  # episodes left out: groups with a user_error episode


def without_broken_groups(trajectories: list[Trajectory], group_size: int) -> list[Trajectory]:
    """Drop every group that holds a ``user_error`` episode (the user's model failed).

    Such an episode says nothing about the policy, and a group without it would compare fewer
    samples than the advantage estimators assume, so the whole group sits this step out.
    """
    kept = []
    for start in range(0, len(trajectories), group_size):
        group = trajectories[start : start + group_size]
        if all(t.end_reason != "user_error" for t in group):
            kept += group
    return kept


def success_rate(trajectories: list[Trajectory]) -> float:
    """Task completion over episodes the user simulator did not break (``user_error``)."""
    finals = [
        t.components[-1].get("completion", 0.0) if t.components else 0.0
        for t in trajectories
        if t.end_reason != "user_error"
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
