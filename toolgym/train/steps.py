"""One optimisation step per algorithm, on a collated batch. The training loop calls these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from toolgym.tokens.scoring import score, token_logprobs
from toolgym.tokens.trajectory import Batch
from toolgym.train.config import Aggregation
from toolgym.train.critic import Critic
from toolgym.train.losses import (
    aggregate,
    approx_kl,
    clip_fraction,
    clipped_policy_loss,
    clipped_value_loss,
    dpo_loss,
    explained_variance,
    k3_kl,
    masked_mean,
    reward_weighted_nll,
    sequence_logprobs,
    sft_loss,
)
from toolgym.train.online_em import OnlineEM, importance_weights
from toolgym.train.selection import rest_weights


def sft_step(
    model: Any, optimizer: torch.optim.Optimizer, batch: Batch, max_grad_norm: float = 1.0
) -> dict[str, float]:
    """Cross-entropy on the generated (assistant) tokens only; returns loss and grad norm."""
    model.train()
    loss = sft_loss(token_logprobs(model, batch), batch.loss_mask)
    return {"loss": loss.item(), "grad_norm": _update(optimizer, loss, max_grad_norm)}


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
            "grad_norm": _update(optimizer, loss, max_grad_norm)}  # fmt: skip


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


def dpo_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    chosen: Batch,
    rejected: Batch,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float = 0.1,
    max_grad_norm: float = 1.0,
) -> dict[str, float]:
    """One DPO update on P pairs: row i of ``chosen`` is preferred to row i of ``rejected``.

    ``ref_chosen`` / ``ref_rejected`` are the (P,) reference sequence log-probs; every sequence
    log-prob sums the assistant (loss-masked) tokens only.
    """
    model.train()
    policy_chosen = sequence_logprobs(token_logprobs(model, chosen), chosen.loss_mask)
    policy_rejected = sequence_logprobs(token_logprobs(model, rejected), rejected.loss_mask)
    losses = dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta)
    loss = losses.mean()
    with torch.no_grad():
        margins = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    return {
        "loss": loss.item(),
        "dpo_margin": margins.mean().item(),
        "dpo_accuracy": (margins > 0).float().mean().item(),
        "grad_norm": _update(optimizer, loss, max_grad_norm),
    }


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


def policy_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    advantages: torch.Tensor,
    config: PolicyLossConfig,
    ref_logprobs: torch.Tensor | None = None,
    max_grad_norm: float = 1.0,
) -> dict[str, float]:
    """One clipped policy-gradient update on (B, T) token advantages; returns diagnostics."""
    model.train()
    scores = score(
        model, batch, config.temperature, entropy=True, entropy_grad=config.entropy_coef > 0
    )
    logprobs, entropy = scores.logprobs, scores.entropy
    assert entropy is not None
    loss, kl = policy_loss(logprobs, entropy, batch, advantages, config, ref_logprobs)
    grad_norm = _update(optimizer, loss, max_grad_norm)
    return {
        "loss": loss.item(),
        **_diagnostics(logprobs, entropy, kl, batch, config),
        "grad_norm": grad_norm,
    }


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


@dataclass(frozen=True)
class ValueLossConfig:
    """PPO's critic terms.

    Attributes:
        vf_coef: Weight of the value loss.
        value_clip: Clip range of the value update around the old values.
    """

    vf_coef: float = 0.5
    value_clip: float = 0.2


def ppo_step(
    model: Any,
    critic: Critic,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    old_values: torch.Tensor,
    config: PolicyLossConfig,
    value_config: ValueLossConfig,
    ref_logprobs: torch.Tensor | None = None,
    max_grad_norm: float = 1.0,
) -> dict[str, float]:
    """One PPO update: clipped policy loss + clipped value loss (+ k3 KL, - entropy)."""
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
    loss = pg_loss + value_config.vf_coef * value_loss
    grad_norm = _update(optimizer, loss, max_grad_norm)
    with torch.no_grad():
        variance = explained_variance(values, returns, batch.loss_mask).item()
    return {
        "loss": loss.item(),
        "policy_loss": pg_loss.item(),
        "value_loss": value_loss.item(),
        **_diagnostics(logprobs, entropy, kl, batch, config),
        "explained_variance": variance,
        "grad_norm": grad_norm,
    }


def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor, max_grad_norm: float) -> float:
    """Backward, clip the gradient norm over every optimised parameter, step; returns the norm."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    grad_norm = torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    optimizer.step()
    return grad_norm.item()


@torch.no_grad()
def _diagnostics(
    logprobs: torch.Tensor,
    entropy: torch.Tensor,
    kl: torch.Tensor,
    batch: Batch,
    config: PolicyLossConfig,
) -> dict[str, float]:
    mask, old = batch.loss_mask, batch.old_logprobs
    return {
        "kl": masked_mean(kl, mask).item(),
        "entropy": masked_mean(entropy, mask).item(),
        "approx_kl": approx_kl(logprobs, old, mask).item(),
        "clipfrac": clip_fraction(logprobs, old, mask, config.eps_low, config.eps_high).item(),
    }
