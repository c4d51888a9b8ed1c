"""Evaluation metrics: pass@k, pass^k, and what kind of failure an episode was.

With ``n`` samples of a task of which ``c`` succeeded:

- pass@k, the chance that at least one of ``k`` samples drawn without replacement succeeds, by the
  unbiased estimator of Chen et al. (2021): ``1 - C(n-c, k) / C(n, k)``;
- pass^k, the chance that all ``k`` succeed (tau-bench, Yao et al. 2024): ``C(c, k) / C(n, k)``.

Both are averaged over tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import comb
from typing import Any, Literal

FailureKind = Literal[
    "format", "invalid_arguments", "limits", "user_backend", "env_error", "wrong_answer"
]
FAILURE_KINDS: tuple[FailureKind, ...] = (
    "format",
    "invalid_arguments",
    "limits",
    "user_backend",
    "env_error",
    "wrong_answer",
)
UNSCORED_FAILURES: frozenset[str] = frozenset({"user_backend", "env_error"})
"""Failures that are not the agent's: left out of success rates, counted apart."""
LIMIT_REASONS = frozenset({"max_turns", "max_invalid_streak", "max_tokens", "malformed"})


def pass_at_k(n: int, c: int, k: int) -> float:
    """P(at least one of k samples succeeds) from n samples with c successes (unbiased)."""
    _check(n, c, k)
    return 1.0 - comb(n - c, k) / comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """P(all of k samples succeed) from n samples with c successes (tau-bench's pass^k)."""
    _check(n, c, k)
    return comb(c, k) / comb(n, k)


def mean_over_tasks(counts: Mapping[str, tuple[int, int]], k: int, metric: str) -> float | None:
    """Average ``pass_at_k`` or ``pass_hat_k`` over tasks with at least ``k`` samples (None if none).

    Args:
        counts: Task id -> (samples n, successes c).
        k: Samples drawn.
        metric: ``"pass_at_k"`` or ``"pass_hat_k"``.
    """
    estimator = pass_at_k if metric == "pass_at_k" else pass_hat_k
    values = [estimator(n, c, k) for n, c in counts.values() if n >= k]
    return sum(values) / len(values) if values else None


def ks_up_to(k: int) -> list[int]:
    """The k values reported for ``--k K``: 1, the powers of two below K, and K."""
    return sorted({1, k, *(2**i for i in range(1, k.bit_length()) if 2**i < k)})


def failure_kind(
    success: bool, end_reason: str | None, steps: Sequence[Mapping[str, Any]]
) -> FailureKind | None:
    """Why an episode failed (None if it succeeded), the most specific cause first.

    ``user_backend``: the simulated user's model failed (not the agent's fault); ``env_error``:
    an exception escaped the env (a bug, not the agent's fault either); ``format``: a
    turn was malformed in the tool format; ``invalid_arguments``: a call named an unknown tool or
    broke its schema; ``limits``: a limit ended the episode (turns, invalid streak, calls per turn,
    tokens, or the halt-on-malformed rule); ``wrong_answer``: it ended normally, with the wrong
    state or answer.
    """
    if success:
        return None
    if end_reason == "user_error":
        return "user_backend"
    if end_reason == "env_error":
        return "env_error"
    components = [step.get("components", {}) for step in steps]
    if any(c.get("format", 1.0) < 1.0 for c in components):
        return "format"
    if any(c.get("valid_calls", 1.0) < 1.0 for c in components):
        return "invalid_arguments"
    if end_reason in LIMIT_REASONS:
        return "limits"
    return "wrong_answer"


def _check(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
