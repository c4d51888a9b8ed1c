r"""Choosing what to learn from in a rollout of G samples per task (generate-and-select).

- ReST / ReST-EM (Gulcehre et al., 2023; Singh et al., 2024): keep each task's top m samples by
  reward (or every success), then fit them by reward-weighted maximum likelihood with
  :math:`w_i = r_i / \sum_{j \in kept} r_j`.
- DPO pairs from groups: each task's best sample against its worst; a group whose rewards are all
  equal says nothing about preference and gives no pair.

Rewards arrive flat, task by task: indices ``[g * G, (g + 1) * G)`` are task g's samples.
"""

from __future__ import annotations

import torch  # noqa: F401  (the doctests use it)
from torch import Tensor


def rest_selection(
    rewards: Tensor, successes: Tensor, group_size: int, top_m: int | None
) -> list[int]:
    """Indices of the samples ReST learns from, in rollout order.

    Args:
        rewards: (B,) episode rewards, B = tasks * group_size.
        successes: (B,) 1.0 where the task was completed.
        group_size: Samples per task (K).
        top_m: Keep each task's m highest-reward samples among those with reward > 0 (ties: the
            earlier sample); None keeps every success (with reward > 0).

    >>> rest_selection(torch.tensor([1.0, 0.0, 0.5, 0.25]), torch.tensor([1.0, 0.0, 0.0, 0.0]), 2, 1)
    [0, 2]
    >>> rest_selection(torch.tensor([1.0, 0.0, 0.5, 0.25]), torch.tensor([1.0, 0.0, 0.0, 0.0]), 2, None)
    [0]
    """
    if rewards.shape != successes.shape or rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    kept: list[int] = []
    for start in range(0, rewards.numel(), group_size):
        group = range(start, start + group_size)
        if top_m is None:
            kept += [i for i in group if successes[i] > 0 and rewards[i] > 0]
            continue
        positive = [i for i in group if rewards[i] > 0]
        best = sorted(positive, key=lambda i: (-float(rewards[i]), i))[:top_m]
        kept += sorted(best)
    return kept


def rest_weights(rewards: Tensor) -> Tensor:
    """(N,) positive rewards of the kept samples -> (N,) weights r_i / sum_j r_j (they sum to 1).

    >>> [round(w, 6) for w in rest_weights(torch.tensor([1.0, 0.5])).tolist()]
    [0.666667, 0.333333]
    """
    if rewards.numel() == 0 or bool((rewards <= 0).any()):
        raise ValueError("reward-weighted ML needs at least one kept sample, all with reward > 0")
    return rewards / rewards.sum()


def preference_pairs(rewards: Tensor, group_size: int) -> list[tuple[int, int]]:
    """(chosen, rejected) indices: each group's best sample vs its worst; tied groups dropped.

    Among equal rewards the earlier sample is taken, so pairs are deterministic.

    >>> preference_pairs(torch.tensor([0.0, 1.0, 0.5, 1.0, 1.0, 1.0]), 3)
    [(1, 0)]
    """
    if rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    pairs = []
    for start in range(0, rewards.numel(), group_size):
        group = rewards[start : start + group_size].tolist()
        best, worst = max(group), min(group)
        if best > worst:
            pairs.append((start + group.index(best), start + group.index(worst)))
    return pairs
