r"""ToolRL reward (Qian et al., 2025, "ToolRL: Reward is All Tool Learning Needs").

For predicted calls :math:`P` and gold calls :math:`G` of one turn:

.. math::

    r_{name} &= \frac{|N_G \cap N_P|}{|N_G \cup N_P|}
        \quad\text{(multiset Jaccard of tool names)} \\
    r_{param}(g, p) &= \frac{|keys(g) \cap keys(p)|}{|keys(g) \cup keys(p)|}
        \quad\text{(1 if both are empty)} \\
    r_{value}(g, p) &= \sum_{k \in keys(g)} \mathbb{1}[g_k = p_k] \\
    R_{max} &= r_{name} + \max_{\text{matching } m: G \to P}
        \sum_{(g, p) \in m} \big(r_{param}(g, p) + r_{value}(g, p)\big) \\
    S_{max} &= 1 + |G| + \sum_{g \in G} |keys(g)| \\
    R_{correct} &= 6 \cdot \frac{R_{max}}{S_{max}} - 3 \in [-3, 3]

As in the authors' implementation, a gold call can only be matched to a predicted call of the
same tool, and a turn whose gold has no call is not scored for correctness
(:math:`R_{correct} = 0`). Unlike it, the matching is the optimal one-to-one assignment, not a
greedy one. The total reward is :math:`R_{format} + R_{correct}` with :math:`R_{format} \in \{0, 1\}`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cache

from toolgym.suite import canonical_json
from toolgym.tooling import ToolCall

MAX_MATCHING_SIDE = 16


def name_jaccard(predicted: Sequence[ToolCall], gold: Sequence[ToolCall]) -> float:
    """Multiset Jaccard similarity of the tool names (1.0 when both are empty)."""
    p, g = Counter(c.name for c in predicted), Counter(c.name for c in gold)
    union = sum((p | g).values())
    return 1.0 if union == 0 else sum((p & g).values()) / union


def key_jaccard(predicted: ToolCall, gold: ToolCall) -> float:
    """Jaccard similarity of the argument names of two calls (1.0 when both have none)."""
    p, g = set(predicted.arguments), set(gold.arguments)
    return 1.0 if not (p | g) else len(p & g) / len(p | g)


def value_matches(predicted: ToolCall, gold: ToolCall) -> int:
    """How many of the gold call's arguments the prediction gives with exactly the same value."""
    return sum(
        1
        for key, value in gold.arguments.items()
        if key in predicted.arguments
        and canonical_json(predicted.arguments[key]) == canonical_json(value)
    )


def pair_score(predicted: ToolCall, gold: ToolCall) -> float:
    """Parameter-name Jaccard plus exact parameter values; 0 for calls of different tools."""
    if predicted.name != gold.name:
        return 0.0
    return key_jaccard(predicted, gold) + value_matches(predicted, gold)


def best_matching_score(predicted: Sequence[ToolCall], gold: Sequence[ToolCall]) -> float:
    """Maximum total ``pair_score`` over one-to-one matchings (exact DP over subsets)."""
    if not predicted or not gold:
        return 0.0
    scores = [[pair_score(p, g) for p in predicted] for g in gold]  # (|G|, |P|)
    if len(predicted) > len(gold):
        scores = [list(col) for col in zip(*scores, strict=True)]  # DP over the smaller side
    rows, cols = len(scores), len(scores[0])
    if cols > MAX_MATCHING_SIDE:
        raise ValueError(f"ToolRL matching supports at most {MAX_MATCHING_SIDE} calls on one side")

    @cache
    def best(row: int, used: int) -> float:
        if row == rows:
            return 0.0
        skip = best(row + 1, used)
        take = max(
            (
                scores[row][c] + best(row + 1, used | 1 << c)
                for c in range(cols)
                if not used >> c & 1
            ),
            default=0.0,
        )
        return max(skip, take)

    return best(0, 0)


def max_score(gold: Sequence[ToolCall]) -> int:
    """S_max = 1 + |G| + (number of gold arguments)."""
    return 1 + len(gold) + sum(len(g.arguments) for g in gold)


def toolrl_correctness(predicted: Sequence[ToolCall], gold: Sequence[ToolCall]) -> float:
    """:math:`R_{correct} = 6 R_{max} / S_{max} - 3`, in [-3, 3]; 0.0 when there is no gold call.

    >>> call = ToolCall(name="get_weather", arguments={"city": "Paris"})
    >>> toolrl_correctness([call], [call])
    3.0
    >>> toolrl_correctness([], [call])
    -3.0
    """
    if not gold:
        return 0.0
    r_max = name_jaccard(predicted, gold) + best_matching_score(predicted, gold)
    return 6.0 * r_max / max_score(gold) - 3.0
