"""DPO: best-vs-worst pairs of each rollout group (or a file of pairs) against a frozen reference.

Sequence log-probs sum the assistant (loss-masked) tokens only; the loss is ``losses.dpo_loss``
at inverse temperature ``dpo.beta``. With ``dpo.data`` the tasks are the file's lines.

Under torchrun every rank builds the same pairs (from the gathered rollout, or the file) and
each minibatch's pairs are shared (``distributed.share``): the pair-mean loss is scaled by the
share's weight, and the margin and accuracy are the whole minibatch's.
"""

from __future__ import annotations

from typing import Any

import torch

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch, collate
from toolgym.train import distributed
from toolgym.train.algos.base import (
    Algorithm,
    Needs,
    Run,
    apply_gradients,
    minibatches,
    rows,
    step_metrics,
)
from toolgym.train.lora import reference_logprobs
from toolgym.train.losses import dpo_loss, sequence_logprobs
from toolgym.train.preferences import Pair, preference_dataset
from toolgym.train.rollouts import Rollout
from toolgym.train.selection import preference_pairs


class DPO(Algorithm):
    """``dpo``: always needs the reference; pairs from rollouts or from ``dpo.data``."""

    dataset: dict[str, Pair]

    @property
    def needs(self) -> Needs:
        """The frozen reference; rollouts or the JSONL of ``dpo.data``."""
        return Needs(
            reference=True, data="jsonl" if self.config.dpo.data is not None else "rollouts"
        )

    def prepare(self, run: Run) -> list[str] | None:
        """The pairs of ``dpo.data`` as (chosen, rejected) streams; their keys are the tasks."""
        self.dataset = {}
        if self.config.dpo.data is None:
            return None
        tool_format = run.env("train").unwrapped.tool_format  # type: ignore[attr-defined]
        self.dataset = preference_dataset(
            self.config.dpo.data, run.chat, tool_format, self.config.max_tokens
        )
        return list(self.dataset) or None

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """A pair needs a group whose rewards differ."""
        return bool(metrics.get("zero_variance_groups", 0.0) < 1.0)

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """Pairs (best vs worst of each group, or from ``dpo.data``) -> the DPO loss."""
        config = self.config
        rollout: Rollout | None = None
        if self.dataset:
            pairs = [self.dataset[key] for key in tasks]
        else:
            rollout = run.rollout(tasks, score_reference=False)
            chosen_rows = preference_pairs(rollout.rewards, config.group_size)
            pairs = [(rollout.trajectories[c], rollout.trajectories[r]) for c, r in chosen_rows]
        stats: dict[str, float] = {}
        if pairs:
            pad = run.tokenizer.pad_token_id
            chosen = collate([c for c, _ in pairs], pad, run.device)
            rejected = collate([r for _, r in pairs], pad, run.device)
            with torch.no_grad():
                ref_chosen, ref_rejected = (
                    sequence_logprobs(reference_logprobs(run.reference, b), b.loss_mask)
                    for b in (chosen, rejected)
                )
            for minibatch in minibatches(config, len(pairs)):
                part = distributed.share(minibatch, chosen.loss_mask, "sequence_mean")
                index = part.index  # all the minibatch's pairs alone
                stats = dpo_step(run.model, run.optimizer, rows(chosen, index), rows(rejected, index),
                                 ref_chosen[index], ref_rejected[index], config.dpo.beta,
                                 config.max_grad_norm, part)  # fmt: skip
        stats["pairs"] = len(pairs)
        return step_metrics(rollout, stats, config.group_size) if rollout is not None else stats


def dpo_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    chosen: Batch,
    rejected: Batch,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float = 0.1,
    max_grad_norm: float = 1.0,
    part: distributed.Share | None = None,
) -> dict[str, float]:
    """One DPO update on P pairs: row i of ``chosen`` is preferred to row i of ``rejected``.

    ``ref_chosen`` / ``ref_rejected`` are the (P,) reference sequence log-probs; every sequence
    log-prob sums the assistant (loss-masked) tokens only. ``part``: under torchrun, this rank's
    share of the minibatch's pairs (a pair mean: its weight is its pairs / the minibatch's).
    """
    model.train()
    policy_chosen = sequence_logprobs(token_logprobs(model, chosen), chosen.loss_mask)
    policy_rejected = sequence_logprobs(token_logprobs(model, rejected), rejected.loss_mask)
    losses = dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta)
    loss = losses.mean()
    grad_norm = apply_gradients(optimizer, distributed.scale(loss, part), max_grad_norm)
    with torch.no_grad():
        margins = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    stats = {"loss": loss.item(), "dpo_margin": margins.mean().item(),
             "dpo_accuracy": (margins > 0).float().mean().item()}  # fmt: skip
    if part is not None:  # pair means: each rank's part of the minibatch's
        stats = distributed.reduce_weighted(stats, [part.weight] * len(stats))
    return stats | {"grad_norm": grad_norm}
