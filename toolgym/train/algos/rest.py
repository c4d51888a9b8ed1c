"""ReST: generate K per task, keep the top m (or every success), fit them by reward-weighted ML.

The selection and the weights r_i / sum_j r_j over the kept rows are ``selection.py``'s.
"""

from __future__ import annotations

from typing import Any

import torch

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch, collate
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
                stats = rest_step(run.model, run.optimizer, rows(batch, index), rewards[index],
                                  config.max_grad_norm)  # fmt: skip
        return step_metrics(rollout, stats, config.group_size) | {"kept": len(kept)}


def rest_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    rewards: torch.Tensor,
    max_grad_norm: float = 1.0,
) -> dict[str, float]:
    """ReST's M-step on kept samples: reward-weighted ML, weights r_i / sum_j r_j over these rows."""
    model.train()
    logprobs = token_logprobs(model, batch)
    loss = reward_weighted_nll(sequence_logprobs(logprobs, batch.loss_mask), rest_weights(rewards))
    with torch.no_grad():
        nll = sft_loss(logprobs, batch.loss_mask).item()
    return {"loss": loss.item(), "nll_per_token": nll,
            "grad_norm": apply_gradients(optimizer, loss, max_grad_norm)}  # fmt: skip
