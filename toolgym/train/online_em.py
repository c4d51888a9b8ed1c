r"""Online EM for generate-and-select: Robbins-Monro averages of the reward-weighted score.

With :math:`s_t = \nabla_\theta \log \pi_\theta(y_t)` the score of a sampled trajectory and
:math:`r_t \ge 0` its reward, step t keeps two running averages and moves the parameters along
their ratio (the online form of the EM fixed point :math:`E[r\,s] / E[r]`):

.. math::
    g_t = (t + t_0)^{-\alpha}

    G_t = (1 - g_t)\,G_{t-1} + g_t\,(r_t - b_t)\,s_t

    M_t = (1 - g_t)\,M_{t-1} + g_t\,r_t

    \theta_t = \theta_{t-1} + \eta\,G_t / \max(M_t, \epsilon)

:math:`b_t = M_{t-1}` with the moving baseline on (``baseline=True``; it enters G only) and 0
otherwise; :math:`G_0 = 0`, :math:`M_0 = 0`. With a batch, :math:`r_t s_t` is the batch's
average, and off-policy samples (drawn by an older policy) are averaged with self-normalised,
optionally clipped importance weights :math:`\tilde w_i = \min(w_i, c) / \sum_j \min(w_j, c)`,
:math:`w_i = \pi_\theta(y_i) / \pi_{old}(y_i)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor


def stepsize(t: int, t0: float, alpha: float) -> float:
    r""":math:`g_t = (t + t_0)^{-\alpha}` for step t = 1, 2, ...

    >>> [stepsize(t, 1.0, 1.0) for t in (1, 2, 3)]
    [0.5, 0.3333333333333333, 0.25]
    """
    return float((t + t0) ** -alpha)


def robbins_monro(previous: Any, new: Any, g: float) -> Any:
    r"""One Robbins-Monro average: :math:`(1 - g)\,\mathrm{previous} + g\,\mathrm{new}`."""
    return (1.0 - g) * previous + g * new


def importance_weights(log_ratios: Tensor, clip: float | None = None) -> Tensor:
    """(N,) log pi_theta/pi_old of each sample -> (N,) self-normalised weights (they sum to 1).

    ``clip`` caps each raw ratio before normalising (truncated importance sampling).

    >>> [round(w, 6) for w in importance_weights(torch.log(torch.tensor([1.0, 3.0]))).tolist()]
    [0.25, 0.75]
    >>> [round(w, 6) for w in importance_weights(torch.log(torch.tensor([1.0, 3.0])), 2.0).tolist()]
    [0.333333, 0.666667]
    """
    log_ratios = log_ratios.detach().float()
    if clip is not None:
        log_ratios = log_ratios.clamp(max=float(torch.log(torch.tensor(clip))))
    return torch.softmax(log_ratios, dim=0)


class OnlineEM(torch.optim.Optimizer):
    r"""The parameter update of online EM, as a torch optimizer.

    Call ``backward`` on the surrogate loss :math:`-\sum_i \tilde w_i (r_i - b)\log\pi(y_i)`, so
    that ``-p.grad`` is the step's :math:`(r_t - b_t) s_t`; then ``step(reward)`` with the step's
    (weighted) mean reward :math:`r_t`. ``baseline`` is :math:`b_t` to use in that loss.

    State: per parameter ``G``; in the param group ``t`` (steps taken) and ``M``, so a checkpoint
    of ``state_dict()`` resumes the averages exactly.

    Args:
        params: Parameters to move.
        lr: :math:`\eta`.
        t0, alpha: The stepsize schedule :math:`g_t = (t + t_0)^{-\alpha}`.
        eps: The floor of :math:`M_t` in the division.
        max_step_norm: Clip the norm of :math:`G_t / \max(M_t, \epsilon)` to this before
            scaling by :math:`\eta` (None: no clipping).
        use_baseline: Subtract :math:`b_t = M_{t-1}` from the reward in G (not in M).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        t0: float = 0.0,
        alpha: float = 0.6,
        eps: float = 1e-3,
        max_step_norm: float | None = None,
        use_baseline: bool = False,
    ) -> None:
        """See the class docstring."""
        if not 0.5 < alpha <= 1.0:
            raise ValueError(f"alpha={alpha}: Robbins-Monro stepsizes need 0.5 < alpha <= 1")
        defaults = {"lr": lr, "t0": t0, "alpha": alpha, "eps": eps, "t": 0, "M": 0.0,
                    "max_step_norm": max_step_norm, "use_baseline": use_baseline}  # fmt: skip
        super().__init__(params, defaults)

    @property
    def baseline(self) -> float:
        """:math:`b_t` for the coming step: :math:`M_{t-1}` with the baseline on, else 0."""
        group = self.param_groups[0]
        return float(group["M"]) if group["use_baseline"] else 0.0

    @property
    def averages(self) -> tuple[int, float]:
        """(t, M_t) after the last step."""
        group = self.param_groups[0]
        return int(group["t"]), float(group["M"])

    @torch.no_grad()
    def step(self, closure: Any = None, *, reward: float = 0.0) -> None:  # type: ignore[override]
        """Update G and M with this step's gradient and ``reward``, then move the parameters."""
        for group in self.param_groups:
            group["t"] += 1
            g = stepsize(group["t"], group["t0"], group["alpha"])
            group["M"] = robbins_monro(group["M"], reward, g)
            directions = []
            for p in group["params"]:
                score = -p.grad if p.grad is not None else torch.zeros_like(p)
                state = self.state[p]
                state["G"] = robbins_monro(state.get("G", torch.zeros_like(p)), score, g)
                directions.append(state["G"] / max(group["M"], group["eps"]))
            scale = 1.0
            if group["max_step_norm"] is not None and directions:
                norm = torch.linalg.vector_norm(torch.stack([d.norm() for d in directions]))
                scale = min(1.0, group["max_step_norm"] / (float(norm) + 1e-12))
            for p, direction in zip(group["params"], directions, strict=True):
                p.add_(direction, alpha=group["lr"] * scale)
