"""GRPO, RLOO and REINFORCE: the clipped policy gradient with sequence-level advantages.

Each episode's reward becomes one advantage (``ADVANTAGES``, keyed by algo: the group-normalised
reward, the leave-one-out baseline, or reward minus the batch mean), spread over its generated
tokens; the loss is the clipped ratio term + ``beta`` x k3 KL to the reference - the entropy bonus,
reduced by ``aggregation`` (``losses.py``). PPO reuses :func:`policy_loss` with GAE advantages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from toolgym.tokens.scoring import score
from toolgym.tokens.trajectory import Batch
from toolgym.train import distributed
from toolgym.train.advantages import group_advantages, reinforce_advantages, rloo_advantages
from toolgym.train.algos.base import (
    Algorithm,
    Run,
    micro_batches,
    minibatches,
    optimizer_step,
    rows,
    step_metrics,
)
from toolgym.train.config import Aggregation, TrainConfig
from toolgym.train.losses import (
    aggregate,
    approx_kl,
    clip_fraction,
    clipped_policy_loss,
    k3_kl,
    masked_mean,
)

ADVANTAGES: dict[str, Callable[[torch.Tensor, TrainConfig], torch.Tensor]] = {
    "grpo": lambda rewards, c: group_advantages(
        rewards, c.group_size, scale=c.grpo.scale_rewards, ddof=c.grpo.std_ddof
    ),
    "rloo": lambda rewards, c: rloo_advantages(rewards, c.group_size),
    "reinforce": lambda rewards, c: reinforce_advantages(rewards),
}


class PolicyGradient(Algorithm):
    """``grpo``, ``rloo`` or ``reinforce`` (``config.algo`` picks the advantage)."""

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """GRPO and RLOO compare within a task's group: some group must have differing rewards."""
        return bool(metrics.get("zero_variance_groups", 0.0) < 1.0)

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """Roll out, one advantage per episode, then epochs x minibatches of clipped PG steps."""
        config = self.config
        rollout = run.rollout(tasks)
        batch, reference = rollout.batch, rollout.reference
        advantages = ADVANTAGES[config.algo](rollout.rewards, config)[:, None] * batch.loss_mask
        stats: dict[str, float] = {}
        skipped = 0.0
        for minibatch in minibatches(config, len(rollout.trajectories)):
            part = distributed.share(minibatch, batch.loss_mask, config.aggregation)
            index = part.index  # this rank's rows (all of them alone)
            ref = reference[index] if reference is not None else None
            stats = policy_step(run.model, run.optimizer, rows(batch, index), advantages[index],
                                loss_config(config), ref, config.max_grad_norm, part,
                                config.micro_batch_size)  # fmt: skip
            skipped += stats["rows_skipped"]
        return step_metrics(rollout, stats | {"rows_skipped": skipped}, config.group_size)


class Reinforce(PolicyGradient):
    """``reinforce``: reward minus the batch mean, so any differing episode is signal."""

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """Some episode's reward differs from the rest."""
        return bool(metrics["reward_std"] > 0.0)


@dataclass(frozen=True)
class PolicyLossConfig:
    """Terms of the policy-gradient loss.

    Attributes:
        eps_low: Lower clip range of the ratio (1 - eps_low).
        eps_high: Upper clip range (1 + eps_high); above eps_low = DAPO's clip-higher.
        beta: Weight of the k3 KL to the reference policy (0 skips the reference entirely).
        entropy_coef: Weight of the entropy bonus.
        aggregation: How per-token losses reduce (see ``losses.aggregate``).
        constant: The normaliser for ``aggregation="constant"`` (Dr. GRPO: max generation length).
        temperature: Sampling temperature the log-probs are computed at.
    """

    eps_low: float = 0.2
    eps_high: float = 0.2
    beta: float = 0.0
    entropy_coef: float = 0.0
    aggregation: Aggregation = "token_mean"
    constant: float | None = None
    temperature: float = 1.0


def loss_config(c: TrainConfig) -> PolicyLossConfig:
    """The policy-loss terms of a run's config."""
    return PolicyLossConfig(c.eps_low, c.eps_high, c.beta, c.entropy_coef, c.aggregation,
                            float(c.max_new_tokens), c.temperature)  # fmt: skip


def policy_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    advantages: torch.Tensor,
    config: PolicyLossConfig,
    ref_logprobs: torch.Tensor | None = None,
    max_grad_norm: float = 1.0,
    part: distributed.Share | None = None,
    micro_batch_size: int | None = None,
) -> dict[str, float]:
    """One clipped policy-gradient update on (B, T) token advantages; returns diagnostics.

    Rows that cannot move the loss (:func:`rows_with_gradient`) are left out of the forward and
    backward pass; the loss and the gradient are the same as with them. The diagnostics (KL,
    entropy, approx KL, clip fraction) are over the rows computed; ``rows_skipped`` counts the
    others (over every rank). ``micro_batch_size``: the rows are computed in passes of at most
    that many (:func:`~toolgym.train.algos.base.micro_batches`), their gradients summed before
    the one optimizer step: the same update, with the activations of that many rows at a time.

    ``part``: under torchrun, this rank's share of the minibatch (``distributed.share``): its
    loss is scaled to its share and the diagnostics are the whole minibatch's.
    """
    model.train()
    kept = rows_with_gradient(advantages, batch.loss_mask, config)
    optimizer.zero_grad(set_to_none=True)
    stats: dict[str, float] = {}
    for micro in micro_batches(batch, kept.index, micro_batch_size, config.aggregation):
        piece = micro.batch(batch)
        scores = score(
            model, piece, config.temperature, entropy=True, entropy_grad=config.entropy_coef > 0
        )
        logprobs, entropy = scores.logprobs, scores.entropy
        assert entropy is not None
        ref = micro.take(ref_logprobs) if ref_logprobs is not None else None
        loss, kl = policy_loss(logprobs, entropy, piece, micro.take(advantages), config, ref)
        loss = loss * (kept.weight * micro.part.weight)
        distributed.scale(loss, part).backward()
        add_weighted(stats, {"loss": loss.item()}, 1.0)
        terms = diagnostics(logprobs, entropy, kl, piece, config)
        add_weighted(stats, terms, micro.part.token_weight)
    grad_norm = optimizer_step(optimizer, max_grad_norm)
    stats["rows_skipped"] = float(len(advantages) - len(kept.index))
    if part is not None:  # loss: the ranks' weighted sum; rows_skipped: their plain sum
        weights = [part.weight] + [part.token_weight] * (len(stats) - 2) + [1.0]
        stats = distributed.reduce_weighted(stats, weights)
    return stats | {"grad_norm": grad_norm}


def add_weighted(totals: dict[str, float], values: dict[str, float], weight: float) -> None:
    """``totals[k] += weight * values[k]``: a mean over passes, from each pass's mean and share."""
    for key, value in values.items():
        totals[key] = totals.get(key, 0.0) + weight * value


def rows_with_gradient(
    advantages: torch.Tensor, loss_mask: torch.Tensor, config: PolicyLossConfig
) -> distributed.Share:
    """The rows whose loss has a gradient, weighted so that the batch's loss is unchanged.

    Without a KL term (``beta`` 0) or an entropy bonus, a token's loss is the clipped term
    -min(r A, clip(r) A): 0, with gradient 0, where A = 0. A row whose advantage is 0 at every
    token (GRPO: every row of a group whose rewards were all equal) adds exactly nothing, so it
    is not computed, and the rows left are weighted by their part of the aggregation's
    normaliser (``distributed.subset``). If no row is left, the first is kept at weight 0: the
    optimizer still steps on a zero gradient, as it would on the whole batch.

    >>> mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    >>> kept = rows_with_gradient(mask * torch.tensor([[0.0], [0.5], [-0.5]]), mask, PolicyLossConfig())
    >>> kept.index.tolist(), kept.weight  # token_mean: 3 of the 6 tokens
    ([1, 2], 0.5)
    """
    every = torch.arange(len(advantages))
    if config.beta > 0 or config.entropy_coef > 0:
        return distributed.Share(every)
    moving = every[advantages.ne(0).any(dim=1).cpu()]
    return distributed.subset(moving, every, loss_mask.cpu(), config.aggregation)


def policy_loss(
    logprobs: torch.Tensor,
    entropy: torch.Tensor,
    batch: Batch,
    advantages: torch.Tensor,
    config: PolicyLossConfig,
    ref_logprobs: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Aggregated clipped loss + beta * k3 KL - entropy bonus; returns (loss, per-token KL)."""
    per_token = clipped_policy_loss(
        logprobs, batch.old_logprobs, advantages, config.eps_low, config.eps_high
    )
    use_kl = config.beta and ref_logprobs is not None
    kl = k3_kl(logprobs, ref_logprobs) if use_kl else torch.zeros_like(logprobs)  # type: ignore[arg-type]
    per_token = per_token + config.beta * kl - config.entropy_coef * entropy
    return aggregate(per_token, batch.loss_mask, config.aggregation, config.constant), kl


@torch.no_grad()
def diagnostics(
    logprobs: torch.Tensor,
    entropy: torch.Tensor,
    kl: torch.Tensor,
    batch: Batch,
    config: PolicyLossConfig,
) -> dict[str, float]:
    """KL to the reference, entropy, approximate KL to the behaviour policy, clip fraction."""
    mask, old = batch.loss_mask, batch.old_logprobs
    return {
        "kl": masked_mean(kl, mask).item(),
        "entropy": masked_mean(entropy, mask).item(),
        "approx_kl": approx_kl(logprobs, old, mask).item(),
        "clipfrac": clip_fraction(logprobs, old, mask, config.eps_low, config.eps_high).item(),
    }
