"""Online EM: Robbins-Monro averages G and M of the reward-weighted score, one step per minibatch.

The optimizer is :class:`toolgym.train.online_em.OnlineEM` (not AdamW): ``lr`` is eta, the
stepsizes are ``(t + online_em.t0)^-online_em.alpha``; ``max_grad_norm`` caps each step's norm.

Under torchrun each minibatch's rows are shared (``distributed.share``): the sample weights
(1/B, or the self-normalised importance weights over the whole minibatch's log-ratios, gathered
from the ranks) stay the minibatch's, each rank's surrogate sums its own rows, and the summed
gradients make every rank's G, M and step the one process's.
"""

from __future__ import annotations

from typing import Any

import torch

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch
from toolgym.train import distributed
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
            batch = rows(rollout.batch, index)
            part = distributed.share(torch.arange(len(index)), batch.loss_mask, "sequence_mean")
            stats = online_em_step(
                run.model, optimizer, batch, rollout.rewards[index],
                settings.off_policy, settings.clip, config.temperature, part,
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
    part: distributed.Share | None = None,
) -> dict[str, float]:
    """One online-EM step (see ``online_em``): G, M and the parameters move once.

    On-policy the batch average weighs every sample 1/B; ``off_policy`` weighs by self-normalised
    importance ratios pi_theta / pi_old of whole sequences (``clip`` caps each ratio). Log-probs
    are taken at the sampling ``temperature``, as the behaviour log-probs were.

    ``part``: under torchrun, this rank's share of the minibatch (positions in ``batch``, which
    holds the whole minibatch): the rank scores its rows only, with the minibatch's weights.
    """
    model.train()
    mine = torch.arange(len(rewards)) if part is None else part.index
    own = part is None or part.weight > 0  # a rank without rows scores row 0 with weight 0
    local = rows(batch, mine)
    logprobs = token_logprobs(model, local, temperature)
    sequence = sequence_logprobs(logprobs, local.loss_mask)
    log_ratios = (sequence - sequence_logprobs(local.old_logprobs, local.loss_mask)).detach()
    if off_policy:
        weights = importance_weights(minibatch_values(log_ratios, own), clip)
    else:
        weights = torch.full_like(rewards, 1.0 / rewards.numel())
    mine_weights = weights[mine] if own else torch.zeros_like(sequence)
    baseline = optimizer.baseline
    surrogate = -(mine_weights * (rewards[mine] - baseline) * sequence).sum()
    optimizer.zero_grad(set_to_none=True)
    surrogate.backward()
    distributed.all_reduce_gradients([p for g in optimizer.param_groups for p in g["params"]])
    reward = float((weights * rewards).sum())
    optimizer.step(reward=reward)
    t, average_reward = optimizer.averages
    stats = {"loss": surrogate.item(), "approx_kl": approx_kl(
        logprobs.detach(), local.old_logprobs, local.loss_mask).item()}  # fmt: skip
    if part is not None:  # the surrogate adds up over the ranks; approx_kl is a token mean
        stats = distributed.reduce_weighted(stats, [1.0, part.token_weight])
    return stats | {
        "em_t": float(t),
        "em_M": average_reward,
        "em_baseline": baseline,
        "em_weight_max": float(weights.max()),
    }


def minibatch_values(values: torch.Tensor, own: bool = True) -> torch.Tensor:
    """This rank's (n,) ``values`` of its rows -> the whole minibatch's, in row order (alone: as is).

    ``own`` False: the rank holds no rows of its own (its one computed row is not counted).
    """
    if not distributed.active():
        return values
    parts = distributed.all_gather(values.tolist() if own else [])
    return torch.tensor([v for part in parts for v in part], dtype=values.dtype)
