"""PPO: the clipped policy gradient with GAE over generated tokens and a clipped critic.

Per-token rewards (each turn's reward on its last token, minus ``ppo.kl_in_reward`` x the k1 KL
to the reference), GAE advantages and returns against the critic's values at rollout time, then
epochs x minibatches of: clipped policy loss (:func:`pg.policy_loss`) + ``vf_coef`` x clipped
value loss. The critic (``critic.py``) shares the policy's body or trains a copy of it.

Under torchrun every rank holds the whole gathered rollout, so values, GAE and whitening are the
whole batch's on every rank; each minibatch's rows are then shared (``distributed.share``): the
policy loss is scaled by the share's weight, the token-mean value loss by its token weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from toolgym.tokens.scoring import score
from toolgym.tokens.trajectory import Batch
from toolgym.train import distributed
from toolgym.train.advantages import gae, token_rewards, whiten
from toolgym.train.algos.base import (
    Algorithm,
    Needs,
    Run,
    apply_gradients,
    minibatches,
    rows,
    step_metrics,
)
from toolgym.train.algos.pg import PolicyLossConfig, diagnostics, loss_config, policy_loss
from toolgym.train.critic import Critic
from toolgym.train.losses import clipped_value_loss, explained_variance, masked_mean


class PPO(Algorithm):
    """``ppo``: needs a critic, and a reference when ``beta`` or ``ppo.kl_in_reward`` > 0."""

    critic: Critic | None = None

    @property
    def needs(self) -> Needs:
        """A critic; the reference for the KL terms."""
        c = self.config
        return Needs(reference=c.beta > 0 or c.ppo.kl_in_reward > 0, critic=True)

    def build(self, model: Any) -> None:
        """The value head, on the policy's body or on a copy (``ppo.critic``)."""
        self.critic = Critic(model, self.config.ppo.critic)

    def parameters(self) -> list[torch.nn.Parameter]:
        """The critic's trainable parameters, optimised with the policy's."""
        assert self.critic is not None
        return self.critic.trainable_parameters()

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """Roll out, GAE against the critic, then epochs x minibatches of PPO steps."""
        config, settings, critic = self.config, self.config.ppo, self.critic
        assert critic is not None
        rollout = run.rollout(tasks)
        batch, reference, mask = rollout.batch, rollout.reference, rollout.batch.loss_mask
        with torch.no_grad():
            old_values = critic(batch) * mask
        rewards = token_rewards(batch.turn_ends, batch.turn_rewards, batch.input_ids.shape[1])
        if reference is not None and settings.kl_in_reward:
            penalty = settings.kl_in_reward * (batch.old_logprobs - reference) * mask  # k1 KL
            rewards = rewards - penalty
        advantages, returns = gae(rewards, old_values, mask, settings.gamma, settings.lam)
        if settings.whiten_advantages:
            advantages = whiten(advantages, mask)
        targets = PPOTargets(batch, advantages, returns, old_values, reference)
        value_config = ValueLossConfig(settings.vf_coef, settings.clip_value)
        stats: dict[str, float] = {}
        for minibatch in minibatches(config, len(rollout.trajectories)):
            part = distributed.share(minibatch, mask, config.aggregation)  # all rows alone
            stats = ppo_step(run.model, critic, run.optimizer, targets.rows(part.index),
                             loss_config(config), value_config, config.max_grad_norm,
                             part)  # fmt: skip
        return step_metrics(rollout, stats, config.group_size)

    def state(self) -> dict[str, Any]:
        """The critic's head (and its body when separate)."""
        assert self.critic is not None
        body = self.critic.body.state_dict() if self.critic.kind == "separate" else None
        return {"critic": {"head": self.critic.head.state_dict(), "body": body}}

    def restore(self, state: dict[str, Any]) -> None:
        """Load the critic of a checkpoint."""
        assert self.critic is not None
        if state.get("critic") is not None:
            self.critic.head.load_state_dict(state["critic"]["head"])
            if state["critic"]["body"] is not None:
                self.critic.body.load_state_dict(state["critic"]["body"])


@dataclass(frozen=True)
class ValueLossConfig:
    """PPO's critic terms.

    Attributes:
        vf_coef: Weight of the value loss.
        value_clip: Clip range of the value update around the old values (``ppo.clip_value``).
    """

    vf_coef: float = 0.5
    value_clip: float = 0.2


@dataclass(frozen=True)
class PPOTargets:
    """What one PPO update fits, per row of the rollout batch (token-level tensors).

    Attributes:
        batch: The rollout's token streams.
        advantages: GAE advantages over generated tokens.
        returns: The critic's targets.
        old_values: The critic's values at rollout time (the value clip's centre).
        ref_logprobs: The reference's log-probs, for the k3 KL term (None: no KL).
    """

    batch: Batch
    advantages: torch.Tensor
    returns: torch.Tensor
    old_values: torch.Tensor
    ref_logprobs: torch.Tensor | None = None

    def rows(self, index: torch.Tensor) -> PPOTargets:
        """The targets of the rows ``index`` (one minibatch)."""
        ref = self.ref_logprobs[index] if self.ref_logprobs is not None else None
        return PPOTargets(rows(self.batch, index), self.advantages[index], self.returns[index],
                          self.old_values[index], ref)  # fmt: skip


def ppo_step(
    model: Any,
    critic: Critic,
    optimizer: torch.optim.Optimizer,
    targets: PPOTargets,
    config: PolicyLossConfig,
    value_config: ValueLossConfig,
    max_grad_norm: float = 1.0,
    part: distributed.Share | None = None,
) -> dict[str, float]:
    """One PPO update: clipped policy loss + clipped value loss (+ k3 KL, - entropy).

    ``part``: under torchrun, this rank's share of the minibatch (``distributed.share``): the
    policy loss is scaled by its weight, the value loss (a token mean) by its token weight, and
    the diagnostics are the whole minibatch's.
    """
    batch, advantages, returns = targets.batch, targets.advantages, targets.returns
    old_values, ref_logprobs = targets.old_values, targets.ref_logprobs
    model.train()
    shared = critic.kind == "shared"
    scores = score(
        model,
        batch,
        config.temperature,
        entropy=True,
        entropy_grad=config.entropy_coef > 0,
        hidden=shared,
    )
    logprobs, entropy = scores.logprobs, scores.entropy
    assert entropy is not None
    values = (
        critic.values_from_hidden(scores.hidden) if scores.hidden is not None else critic(batch)
    )
    pg_loss, kl = policy_loss(logprobs, entropy, batch, advantages, config, ref_logprobs)
    value_terms = clipped_value_loss(values, old_values, returns, value_config.value_clip)
    value_loss = masked_mean(value_terms, batch.loss_mask)
    loss = distributed.scale(pg_loss, part) + value_config.vf_coef * scale_tokens(value_loss, part)
    grad_norm = apply_gradients(optimizer, loss, max_grad_norm)
    stats = {"policy_loss": pg_loss.item(), "value_loss": value_loss.item(),
             **diagnostics(logprobs, entropy, kl, batch, config)}  # fmt: skip
    if part is not None:
        weights = [part.weight] + [part.token_weight] * (len(stats) - 1)
        stats = distributed.reduce_weighted(stats, weights)
    variance = shared_explained_variance(values.detach(), returns, batch.loss_mask, part)
    return {
        "loss": stats["policy_loss"] + value_config.vf_coef * stats["value_loss"],
        **stats,
        "explained_variance": variance,
        "grad_norm": grad_norm,
    }


def scale_tokens(loss: torch.Tensor, part: distributed.Share | None) -> torch.Tensor:
    """A token-mean ``loss`` times this rank's token weight (``loss`` itself alone)."""
    return loss if part is None or not distributed.active() else loss * part.token_weight


@torch.no_grad()
def shared_explained_variance(
    values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    part: distributed.Share | None = None,
) -> float:
    """:func:`losses.explained_variance` of the whole minibatch when rows are shared.

    Alone (or ``part`` None) it is that function on these rows. Shared, each variance is
    E[x^2] - E[x]^2 of token means summed over the ranks with their token weights (float64).
    """
    if part is None or not distributed.active():
        return explained_variance(values, returns, mask).item()
    residual = (returns - values).double()
    returns = returns.double()
    moments = {
        "returns": masked_mean(returns, mask).item(),
        "returns_sq": masked_mean(returns**2, mask).item(),
        "residual": masked_mean(residual, mask).item(),
        "residual_sq": masked_mean(residual**2, mask).item(),
    }
    means = distributed.reduce_weighted(moments, [part.token_weight] * len(moments))
    var_returns = max(means["returns_sq"] - means["returns"] ** 2, 0.0)
    var_residual = max(means["residual_sq"] - means["residual"] ** 2, 0.0)
    return 1.0 - var_residual / max(var_returns, 1e-8)
