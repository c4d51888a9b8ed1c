"""Attaching values to the subjects they are about, sentence by sentence.

Within a segment (a sentence, line or ``;``-separated part), each candidate value attaches to a
subject mention: the nearest one before it in the same clause, else the nearest after it in the
same clause (both "strong"); a value in a clause without any subject continues the nearest
subject before it in the segment, else the nearest after it ("weak"). Clauses are split at
commas, spaced dashes, "and", "but", "while", "whereas", "versus", "than" (see
:func:`~toolgym.answers.text.clause_breaks`). Values that overlap a subject mention ("101" in
"Room 101") are not candidates; a subject mention inside a longer value ("Ben" in
"ben.carter@example.com") is not a mention.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from toolgym.answers.mentions import AnswerText
from toolgym.answers.text import Span, SpanSet


@dataclass
class Attachment:
    """Which candidates each subject mention got.

    Attributes:
        mentions: Every subject mention (of any of the task's subjects), in order; each value is
            the spelling found (normalised).
        attached: For each mention's index, ``(candidate, strong)`` pairs.
    """

    mentions: list[Span]
    attached: dict[int, list[tuple[Span, bool]]] = field(default_factory=dict)

    def of(self, spellings: frozenset[str]) -> list[int]:
        """Indices of the mentions spelled as one of ``spellings``."""
        return [i for i, m in enumerate(self.mentions) if m.value in spellings]


def attach(view: AnswerText, subjects: tuple[str, ...], candidates: list[Span]) -> Attachment:
    """Attach each candidate value to a subject mention (see the module docstring).

    Args:
        view: The answer.
        subjects: Every subject spelling of the task (normalised).
        candidates: The values of one kind found in the answer, in order.

    Returns:
        The subject mentions and what attached to each.
    """
    mentions = [m for m in view.phrases(subjects) if not any(_within(m, c) for c in candidates)]
    result = Attachment(mentions)
    if not mentions:
        return result
    taken = SpanSet([(m.start, m.end) for m in mentions])
    candidates = [c for c in candidates if not taken.overlaps(c.start, c.end)]
    if not candidates:
        return result
    inside = SpanSet([(s.start, s.end) for s in mentions + candidates])
    starts = [m.start for m in mentions]
    segment_breaks: dict[int, list[int]] = {}
    for cand in candidates:
        segment = view.segment_of(cand.start)
        seg_lo, seg_hi = view.segments[segment]
        lo = bisect_left(starts, seg_lo)
        hi = bisect_left(starts, seg_hi)
        if lo == hi:
            continue
        if segment not in segment_breaks:
            found = view.clause_breaks(segment)
            segment_breaks[segment] = [b for b in found if not inside.inside(b)]
        breaks = segment_breaks[segment]
        k = bisect_right(breaks, cand.start)
        clause_lo = max(seg_lo, breaks[k - 1] if k else seg_lo)
        clause_hi = min(seg_hi, breaks[k] if k < len(breaks) else seg_hi)
        split = bisect_left(starts, cand.start, lo, hi)  # mentions [lo, split) start before
        before = split - 1 if split > lo else None
        after = split if split < hi else None
        if before is not None and starts[before] >= clause_lo:
            chosen, strong = before, True
        elif after is not None and starts[after] < clause_hi:
            chosen, strong = after, True
        elif before is not None:
            chosen, strong = before, False
        else:
            assert after is not None
            chosen, strong = after, False
        result.attached.setdefault(chosen, []).append((cand, strong))
    return result


def _within(inner: Span, outer: Span) -> bool:
    """Whether ``inner`` lies inside the longer span ``outer``."""
    longer = outer.end - outer.start > inner.end - inner.start
    return longer and outer.start <= inner.start and inner.end <= outer.end
