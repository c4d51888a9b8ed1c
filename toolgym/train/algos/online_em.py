"""Online EM: Robbins-Monro averages G and M of the reward-weighted score, one step per minibatch.

The optimizer is :class:`toolgym.train.online_em.OnlineEM` (not AdamW): ``lr`` is eta, the
stepsizes are ``(t + online_em.t0)^-online_em.alpha``; ``max_grad_norm`` caps each step's norm.
"""

from __future__ import annotations

from typing import Any

import torch

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch
from toolgym.train.algos.base import Algorithm, Needs, Run, minibatches, rows, step_metrics
from toolgym.train.losses import approx_kl, sequence_logprobs
from toolgym.train.online_em import OnlineEM, importance_weights


class OnlineEMAlgorithm(Algorithm):
    """``online-em``: its own optimizer; equal non-zero rewards still move it."""

    @property
    def needs(self) -> Needs:
        """Online EM's parameter update instead of AdamW."""
        return Needs(reference=self.config.beta > 0, optimizer="online-em")

    def optimizer(self, model: Any) -> torch.optim.Optimizer:
        """:class:`OnlineEM` over the trainable parameters."""
        c, settings = self.config, self.config.online_em
        parameters = [p for p in model.parameters() if p.requires_grad]
        return OnlineEM(parameters, lr=c.lr, t0=settings.t0, alpha=settings.alpha, eps=settings.eps,
                        max_step_norm=c.max_grad_norm, use_baseline=settings.baseline)  # fmt: skip

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """Differing rewards, or equal non-zero ones (M moves, and G with it)."""
        return bool(metrics["reward_std"] > 0.0 or metrics["reward_mean"] != 0.0)

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """Robbins-Monro updates of G and M, one per minibatch, then the parameter step."""
        config, settings, optimizer = self.config, self.config.online_em, run.optimizer
        assert isinstance(optimizer, OnlineEM)
        rollout = run.rollout(tasks)
        stats: dict[str, float] = {}
        for index in minibatches(config, len(rollout.trajectories)):
            stats = online_em_step(
                run.model, optimizer, rows(rollout.batch, index), rollout.rewards[index],
                settings.off_policy, settings.clip, config.temperature,
            )  # fmt: skip
        return step_metrics(rollout, stats, config.group_size)


def online_em_step(
    model: Any,
    optimizer: OnlineEM,
    batch: Batch,
    rewards: torch.Tensor,
    off_policy: bool = False,
    clip: float | None = None,
    temperature: float = 1.0,
) -> dict[str, float]:
    """One online-EM step (see ``online_em``): G, M and the parameters move once.

    On-policy the batch average weighs every sample 1/B; ``off_policy`` weighs by self-normalised
    importance ratios pi_theta / pi_old of whole sequences (``clip`` caps each ratio). Log-probs
    are taken at the sampling ``temperature``, as the behaviour log-probs were.
    """
    model.train()
    logprobs = token_logprobs(model, batch, temperature)
    sequence = sequence_logprobs(logprobs, batch.loss_mask)
    log_ratios = (sequence - sequence_logprobs(batch.old_logprobs, batch.loss_mask)).detach()
    if off_policy:
        weights = importance_weights(log_ratios, clip)
    else:
        weights = torch.full_like(sequence, 1.0 / sequence.numel())
    baseline = optimizer.baseline
    surrogate = -(weights * (rewards - baseline) * sequence).sum()
    optimizer.zero_grad(set_to_none=True)
    surrogate.backward()
    reward = float((weights * rewards).sum())
    optimizer.step(reward=reward)
    t, average_reward = optimizer.averages
    return {
        "loss": surrogate.item(),
        "em_t": float(t),
        "em_M": average_reward,
        "em_baseline": baseline,
        "em_weight_max": float(weights.max()),
        "approx_kl": approx_kl(logprobs.detach(), batch.old_logprobs, batch.loss_mask).item(),
    }
