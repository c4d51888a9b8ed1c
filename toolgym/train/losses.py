r"""Loss terms and their reductions, one equation each. Every per-token term is masked by ``loss_mask``.

- Clipped policy loss (PPO), with separate low/high clip ranges (DAPO's clip-higher):
  :math:`\ell_t = \max(-A_t \rho_t,\ -A_t\,\mathrm{clip}(\rho_t, 1-\epsilon_{low}, 1+\epsilon_{high}))`,
  :math:`\rho_t = \exp(\log\pi_\theta - \log\pi_{old})`.
- k3 KL to a frozen reference (Schulman, 2020): :math:`k_3 = e^{d} - d - 1`,
  :math:`d = \log\pi_{ref} - \log\pi_\theta`; unbiased for KL(pi_theta || pi_ref) and always >= 0.
- Clipped value loss: :math:`\tfrac12\max((V-R)^2, (V_{old} + \mathrm{clip}(V - V_{old}, \pm\epsilon) - R)^2)`.
- SFT: the mean negative log-likelihood of the generated (assistant) tokens.
- Reward-weighted maximum likelihood (ReST-EM): :math:`-\sum_i w_i \log\pi_\theta(y_i)`, with
  :math:`w_i = r_i / \sum_j r_j` over the kept samples and :math:`\log\pi(y)` summed over y's
  generated tokens.
- DPO (Rafailov et al., 2023): :math:`-\log\sigma(\beta[(\log\pi_\theta(y_w) -
  \log\pi_{ref}(y_w)) - (\log\pi_\theta(y_l) - \log\pi_{ref}(y_l))])`; equal log-ratios
  give :math:`\log 2`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from toolgym.train.config import Aggregation


def masked_sum(values: Tensor, mask: Tensor) -> Tensor:
    """Sum of ``values`` where ``mask`` is 1."""
    return (values * mask).sum()


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` over positions where ``mask`` is 1 (0 if the mask is empty).

    >>> masked_mean(torch.tensor([1.0, 100.0, 3.0]), torch.tensor([1.0, 0.0, 1.0])).item()
    2.0
    """
    return masked_sum(values, mask) / mask.sum().clamp(min=1)


def aggregate(
    per_token: Tensor, mask: Tensor, mode: Aggregation, constant: float | None = None
) -> Tensor:
    """Reduce a (B, T) per-token loss.

    Args:
        per_token: (B, T) loss of each token.
        mask: (B, T) loss mask.
        mode: ``token_mean`` (every generated token weighs the same), ``sequence_mean`` (mean per
            sequence, then over sequences: GRPO's original), or ``constant`` (sum / (B * constant):
            Dr. GRPO's length-unbiased normaliser, ``constant`` = the max generation length).
        constant: The normaliser for ``constant``.
    """
    if mode == "token_mean":
        return masked_mean(per_token, mask)
    if mode == "sequence_mean":
        per_sequence = (per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        return per_sequence.mean()
    if mode == "constant":
        if not constant:
            raise ValueError(
                "aggregation 'constant' needs constant > 0 (e.g. the max generation length)"
            )
        return masked_sum(per_token, mask) / (per_token.shape[0] * constant)
    raise ValueError(f"unknown aggregation {mode!r}")


def ratio(logprobs: Tensor, old_logprobs: Tensor) -> Tensor:
    r""":math:`\rho_t = \pi_\theta / \pi_{old}` per token."""
    return torch.exp(logprobs - old_logprobs)


def clipped_policy_loss(
    logprobs: Tensor,
    old_logprobs: Tensor,
    advantages: Tensor,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
) -> Tensor:
    """(B, T) per-token PPO loss: the pessimistic (max) of the unclipped and clipped objectives."""
    rho = ratio(logprobs, old_logprobs)
    pg_loss1 = -advantages * rho
    pg_loss2 = -advantages * torch.clamp(rho, 1.0 - eps_low, 1.0 + eps_high)
    return torch.maximum(pg_loss1, pg_loss2)


def k3_kl(logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """(B, T) per-token k3 estimate of KL(pi_theta || pi_ref); >= 0, and 0 where they agree."""
    d = ref_logprobs - logprobs
    return torch.exp(d) - d - 1.0


def clipped_value_loss(
    values: Tensor, old_values: Tensor, returns: Tensor, clip: float = 0.2
) -> Tensor:
    """(B, T) per-token PPO value loss with the value update clipped around the old values."""
    clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    return 0.5 * torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)


def entropy_from_logits(logits: Tensor) -> Tensor:
    """(B, T, V) logits -> (B, T) entropy of each next-token distribution."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    return -(logprobs.exp() * logprobs).sum(dim=-1)


def sft_loss(logprobs: Tensor, loss_mask: Tensor) -> Tensor:
    """Mean negative log-likelihood of the generated tokens (agentic SFT on assistant turns only)."""
    return -masked_mean(logprobs, loss_mask)


def approx_kl(logprobs: Tensor, old_logprobs: Tensor, mask: Tensor) -> Tensor:
    """Mean k3 estimate of KL(pi_old || pi_theta), the drift diagnostic practitioners watch."""
    log_ratio = logprobs - old_logprobs
    return masked_mean(torch.exp(log_ratio) - 1.0 - log_ratio, mask)


def clip_fraction(
    logprobs: Tensor, old_logprobs: Tensor, mask: Tensor, eps_low: float, eps_high: float
) -> Tensor:
    """Fraction of generated tokens whose ratio fell outside the clip range."""
    rho = ratio(logprobs, old_logprobs)
    outside = ((rho < 1.0 - eps_low) | (rho > 1.0 + eps_high)).float()
    return masked_mean(outside, mask)


def explained_variance(values: Tensor, returns: Tensor, mask: Tensor) -> Tensor:
    """1 - Var(returns - values) / Var(returns) over generated tokens (1 = perfect critic)."""
    residual = returns - values
    mean_r = masked_mean(returns, mask)
    var_returns = masked_mean((returns - mean_r) ** 2, mask)
    mean_res = masked_mean(residual, mask)
    var_residual = masked_mean((residual - mean_res) ** 2, mask)
    return 1.0 - var_residual / var_returns.clamp(min=1e-8)


def sequence_logprobs(logprobs: Tensor, mask: Tensor) -> Tensor:
    """(B, T) token log-probs -> (B,) log-likelihood of each sequence's generated tokens."""
    return (logprobs * mask).sum(dim=1)


def reward_weighted_nll(sequence_logprob: Tensor, weights: Tensor) -> Tensor:
    """ReST-EM's M-step loss: minus the weighted sum of sequence log-likelihoods (weights sum to 1)."""
    return -(weights * sequence_logprob).sum()


def dpo_loss(
    chosen: Tensor,
    rejected: Tensor,
    ref_chosen: Tensor,
    ref_rejected: Tensor,
    beta: float = 0.1,
) -> Tensor:
    """(P,) DPO loss of each pair from the (P,) sequence log-probs of policy and reference.

    >>> round(dpo_loss(*torch.tensor([[-3.0], [-5.0], [-3.0], [-5.0]])).item(), 6)  # log 2
    0.693147
    """
    margin = (chosen - ref_chosen) - (rejected - ref_rejected)
    return -torch.nn.functional.logsigmoid(beta * margin)
