"""ReST: generate K per task, keep the top m (or every success), fit them by reward-weighted ML.

The selection and the weights r_i / sum_j r_j over the kept rows are ``selection.py``'s.

Under torchrun every rank selects on the gathered rollout (the same rows), computes the weights
over the whole minibatch's kept rows and fits its own share of them (:func:`rest_step`).
"""

from __future__ import annotations

from typing import Any

import torch

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch, collate
from toolgym.train import distributed
from toolgym.train.algos.base import (
    Algorithm,
    Run,
    apply_gradients,
    minibatches,
    rows,
    step_metrics,
)
from toolgym.train.losses import reward_weighted_nll, sequence_logprobs, sft_loss
from toolgym.train.rollouts import success_rate
from toolgym.train.selection import rest_selection, rest_weights


class ReST(Algorithm):
    """``rest``: learns only when some sample was kept."""

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """A kept sample is signal."""
        return bool(metrics.get("kept", 0) > 0)

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """Generate K per task -> keep the top m (or the successes) -> reward-weighted ML."""
        config = self.config
        rollout = run.rollout(tasks)
        successes = torch.tensor(
            [success_rate([t]) for t in rollout.trajectories], device=rollout.rewards.device
        )
        kept = rest_selection(rollout.rewards, successes, config.group_size, config.rest.top_m)
        stats: dict[str, float] = {}
        if kept:
            batch = collate(
                [rollout.trajectories[i] for i in kept], run.tokenizer.pad_token_id, run.device
            )
            rewards = rollout.rewards[kept]
            for index in minibatches(config, len(kept)):
                minibatch = rows(batch, index)
                part = distributed.share(torch.arange(len(index)), minibatch.loss_mask)
                stats = rest_step(run.model, run.optimizer, minibatch, rewards[index],
                                  config.max_grad_norm, part)  # fmt: skip
        return step_metrics(rollout, stats, config.group_size) | {"kept": len(kept)}


def rest_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    rewards: torch.Tensor,
    max_grad_norm: float = 1.0,
    part: distributed.Share | None = None,
) -> dict[str, float]:
    """ReST's M-step on kept samples: reward-weighted ML, weights r_i / sum_j r_j over these rows.

    ``part``: under torchrun, this rank's rows of the minibatch ``batch`` (``distributed.share``
    over its positions). The weights stay the whole minibatch's, so each rank's loss is its rows'
    part of one weighted sum: the ranks' losses add up unscaled, and ``nll_per_token`` (a token
    mean) is reduced by the share's token weight.
    """
    model.train()
    weights = rest_weights(rewards)
    if part is not None and distributed.active():
        batch, weights = rows(batch, part.index), local_weights(weights, part)
    logprobs = token_logprobs(model, batch)
    loss = reward_weighted_nll(sequence_logprobs(logprobs, batch.loss_mask), weights)
    grad_norm = apply_gradients(optimizer, loss, max_grad_norm)
    with torch.no_grad():
        stats = {"loss": loss.item(), "nll_per_token": sft_loss(logprobs, batch.loss_mask).item()}
    if part is not None:
        stats = distributed.reduce_weighted(stats, [1.0, part.token_weight])
    return stats | {"grad_norm": grad_norm}


def local_weights(weights: torch.Tensor, part: distributed.Share) -> torch.Tensor:
    """The minibatch's (N,) ``weights`` at this rank's rows; zeros for a rank without rows.

    A rank without rows of its own computes the minibatch's first row with share weight 0
    (``distributed.Share``), so its weights must add nothing to the sum.

    >>> part = distributed.Share(torch.tensor([1, 2]), 0.5, 0.5)
    >>> local_weights(torch.tensor([0.5, 0.25, 0.25]), part).tolist()
    [0.25, 0.25]
    >>> local_weights(torch.tensor([1.0]), distributed.Share(torch.tensor([0]), 0.0, 0.0)).tolist()
    [0.0]
    """
    local = weights[part.index]
    return local if part.weight > 0 else torch.zeros_like(local)
