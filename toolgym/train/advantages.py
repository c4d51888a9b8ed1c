r"""Advantage estimators, one equation each.

Sequence-level (one scalar reward per episode, spread over its generated tokens):

- GRPO, group-relative (Shao et al., 2024):
  :math:`A_i = (r_i - \bar r_g) / (\sigma_g + \epsilon)`; without the division (``scale=False``)
  it is Dr. GRPO's (Liu et al., 2025) unbiased form.
- RLOO, leave-one-out (Ahmadian et al., 2024): :math:`A_i = r_i - \frac{1}{G-1}\sum_{j \ne i} r_j`.
- REINFORCE with a batch-mean baseline: :math:`A_i = r_i - \bar r`.

Token-level (PPO): GAE (Schulman et al., 2016) over the trainable tokens only, per-turn rewards at
each assistant turn's last token (see :func:`token_rewards`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def group_advantages(
    rewards: Tensor, group_size: int, *, scale: bool = True, ddof: int = 1, eps: float = 1e-6
) -> Tensor:
    """(B,) rewards of B = n_groups * group_size episodes -> (B,) group-relative advantages.

    >>> [round(a, 3) for a in group_advantages(torch.tensor([1.0, 0.0, 1.0, 0.0]), 4).tolist()]
    [0.866, -0.866, 0.866, -0.866]
    """
    grouped = _groups(rewards, group_size)
    centered = grouped - grouped.mean(dim=1, keepdim=True)
    if not scale:
        return centered.flatten()
    std = (
        grouped.std(dim=1, keepdim=True, correction=ddof)
        if group_size > ddof
        else torch.zeros_like(grouped[:, :1])
    )
    return (centered / (std + eps)).flatten()


def rloo_advantages(rewards: Tensor, group_size: int) -> Tensor:
    """(B,) -> (B,) leave-one-out: each reward minus the mean of the other G-1 in its group."""
    if group_size < 2:
        raise ValueError("RLOO needs group_size >= 2")
    grouped = _groups(rewards, group_size)
    others = (grouped.sum(dim=1, keepdim=True) - grouped) / (group_size - 1)
    return (grouped - others).flatten()


def reinforce_advantages(rewards: Tensor) -> Tensor:
    """(B,) -> (B,) reward minus the batch mean."""
    return rewards - rewards.mean()


def zero_variance_fraction(rewards: Tensor, group_size: int) -> float:
    """Fraction of groups whose rewards are all equal (they carry no GRPO/RLOO signal)."""
    grouped = _groups(rewards, group_size)
    return float((grouped.max(dim=1).values == grouped.min(dim=1).values).float().mean())


def token_rewards(turn_ends: Tensor, turn_rewards: Tensor, width: int) -> Tensor:
    """(B, K) turn end positions (-1 = none) and rewards -> (B, T) with each reward at its turn end."""
    out = torch.zeros(
        turn_ends.shape[0], width, dtype=turn_rewards.dtype, device=turn_rewards.device
    )
    valid = turn_ends >= 0
    rows = torch.arange(turn_ends.shape[0], device=turn_ends.device)[:, None].expand_as(turn_ends)
    out.index_put_((rows[valid], turn_ends[valid]), turn_rewards[valid], accumulate=True)
    return out


def gae(
    rewards: Tensor, values: Tensor, loss_mask: Tensor, gamma: float = 1.0, lam: float = 0.95
) -> tuple[Tensor, Tensor]:
    r"""Generalised advantage estimation over the trainable tokens of each row.

    Observation tokens are not actions: the recursion skips them, so the "next state" of a
    generated token is the next generated token (possibly after a tool result).

    .. math::
        \delta_t = r_t + \gamma V_{t'} - V_t, \qquad A_t = \delta_t + \gamma \lambda A_{t'}

    with :math:`t'` the next trainable position (:math:`V_{t'} = A_{t'} = 0` after the last).

    Args:
        rewards: (B, T) reward of each token (see :func:`token_rewards`).
        values: (B, T) value estimates.
        loss_mask: (B, T) 1 on generated tokens.
        gamma: Discount.
        lam: GAE lambda.

    Returns:
        (advantages, returns), both (B, T), zero where the mask is 0.
    """
    values = values.detach()
    advantages = torch.zeros_like(values)
    for row in range(values.shape[0]):
        positions = loss_mask[row].nonzero().flatten().tolist()
        next_value, next_advantage = 0.0, 0.0
        for t in reversed(positions):
            value = float(values[row, t])
            delta = float(rewards[row, t]) + gamma * next_value - value
            next_advantage = delta + gamma * lam * next_advantage
            advantages[row, t] = next_advantage
            next_value = value
    returns = (advantages + values) * loss_mask
    return advantages, returns


def whiten(advantages: Tensor, mask: Tensor, eps: float = 1e-8) -> Tensor:
    """Zero mean, unit variance over the masked (generated) tokens; 0 elsewhere."""
    count = mask.sum().clamp(min=1)
    mean = (advantages * mask).sum() / count
    var = (((advantages - mean) * mask) ** 2).sum() / count
    return (advantages - mean) / torch.sqrt(var + eps) * mask


def _groups(rewards: Tensor, group_size: int) -> Tensor:
    if rewards.ndim != 1 or rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    return rewards.view(-1, group_size).float()
