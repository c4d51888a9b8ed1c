"""Finding values in an answer: dates, times, ids, phrases and numbers, with their spans.

:class:`AnswerText` normalises one answer once and finds (and caches) every value of a kind in
it. Spans index the normalised text (:func:`~toolgym.answers.text.normalize`).
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_right
from functools import cached_property, lru_cache

from toolgym.answers.numbers import find_numbers
from toolgym.answers.text import (
    NOT_BEFORE_ALNUM,
    Span,
    SpanSet,
    clause_breaks,
    find_after,
    find_words,
    negated_value,
    normalize,
    phrases_pattern,
    segments,
    word_alternation,
)

DateValue = tuple[int | None, int, int]
"""A date as found: ``(year or None when the answer gives none, month, day)``."""

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = r"\b(?P<mon>" + word_alternation(list(_MONTHS)) + ")" + NOT_BEFORE_ALNUM + r"\.?"
_DAY = r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?" + NOT_BEFORE_ALNUM + r"(?!:[0-9]|[.,][0-9])"
_DAY2 = (
    r"(?:\s?-\s?(?P<d2>[0-9]{1,2})(?:st|nd|rd|th)?" + NOT_BEFORE_ALNUM + r"(?!:[0-9]|[.,][0-9]))?"
)
_YEAR = r"(?:,?\s(?P<y>[0-9]{4})(?![0-9]|:[0-9]|[.,][0-9]))?"
_ISO = re.compile(r"\b(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?![0-9]|-[0-9]|\.[0-9])")
_MONTH_WORD = re.compile(_MONTH)
_MONTH_FIRST = re.compile(_MONTH + r"\s(?:the\s)?" + _DAY + _DAY2 + _YEAR)
_DAY_FIRST = re.compile(r"\b" + _DAY + _DAY2 + r"\s(?:of\s)?" + _MONTH + _YEAR)

_MERIDIEM = r"\s?(?P<{}>[ap])\.?m\.?" + NOT_BEFORE_ALNUM
_TIME = (
    re.compile(  # an hour, then minutes, am/pm, o'clock, or the start of a range ending in am/pm
        r"(?P<h>[0-9]{1,2})(?:"
        + r":(?P<m>[0-9]{2})(?::[0-9]{2})?(?![0-9])(?:"
        + _MERIDIEM.format("mer1")
        + r")?|\.(?P<m2>[0-9]{2})"
        + _MERIDIEM.format("mer2")
        + "|"
        + _MERIDIEM.format("mer3")
        + r"|\s?(?P<oc>o'clock)"
        + NOT_BEFORE_ALNUM
        + r"|(?=\s?(?:-|to|until|till|through|and)\s?[0-9]{1,2}(?:[:.][0-9]{2})?\s?[ap]\.?m))"
    )
)
_TIME_WORD = re.compile(r"(?:\b12\s)?\b(?P<w>noon|midday|midnight)" + NOT_BEFORE_ALNUM)
_YEAR_TAIL = re.compile(r"(?<=\s)[0-9]{4}\Z")
_WORD_AFTER = re.compile(r"\s([^\W\d_]+)")
_DATE_FOLLOWERS = frozenset(
    "at in on and to from for until till through or with by between is was will".split()
)
_TIME_RANGE = re.compile(r"\s?(?:-|to|until|till|through|and)\s?\Z")


class AnswerText:
    """One answer, normalised once, with the values of each kind found in it on demand.

    Attributes:
        raw: The answer as given.
        text: Its normalised form (every span indexes this).
    """

    def __init__(self, answer: str) -> None:
        """Normalise ``answer``."""
        self.raw = answer
        self.text = normalize(answer)
        self._phrases: dict[tuple[str, ...], list[Span]] = {}
        self._denied: dict[int, bool] = {}
        self.memo: dict[object, object] = {}
        """Results callers derive from this answer, by key (e.g. attachments per subject set)."""

    @cached_property
    def segments(self) -> list[tuple[int, int]]:
        """The sentence spans (see :func:`~toolgym.answers.text.segments`)."""
        return segments(self.text)

    @cached_property
    def _segment_starts(self) -> list[int]:
        return [start for start, _ in self.segments]

    def segment_of(self, pos: int) -> int:
        """The index of the segment holding position ``pos``."""
        return max(0, bisect_right(self._segment_starts, pos) - 1)

    def clause_breaks(self, segment: int) -> list[int]:
        """Clause break positions in one segment (see :func:`~toolgym.answers.text.clause_breaks`).

        Args:
            segment: The segment's index.

        Returns:
            The break positions, ascending.
        """
        key = ("clauses", segment)
        if key not in self.memo:
            self.memo[key] = clause_breaks(self.text, *self.segments[segment])
        return self.memo[key]  # type: ignore[return-value]

    @cached_property
    def dates(self) -> list[Span]:
        """Every date: ISO, "March 5", "Mar. 5th, 2026", "5 March", "the 5th of March 2026"."""
        return find_dates(self.text)

    @cached_property
    def times(self) -> list[Span]:
        """Every time: "15:00", "9:30", "3 pm", "3:00 p.m.", "noon", both ends of "09:30-09:45"."""
        return find_times(self.text)

    @cached_property
    def numbers(self) -> list[Span]:
        """Every number outside dates and times (see :mod:`toolgym.answers.numbers`).

        The year that ends a written-out date is a number too ("founded on March 5, 1992"
        states 1992); its day, and every part of an ISO date, are not.
        """
        taken = [(s.start, s.end) for s in self.times]
        for date in self.dates:
            year = _YEAR_TAIL.search(self.text, date.start, date.end)
            taken.append((date.start, year.start() if year and date.value[0] else date.end))  # type: ignore[index]
        return find_numbers(self.text, SpanSet(taken))

    def denied(self, start: int) -> bool:
        """Whether the value at ``start`` is directly denied (see :func:`negated_value`)."""
        if start not in self._denied:
            self._denied[start] = negated_value(self.text, start)
        return self._denied[start]

    def phrases(self, phrases: tuple[str, ...]) -> list[Span]:
        """Whole-word mentions of normalised ``phrases`` (the longest wins where they overlap).

        Args:
            phrases: Normalised phrases.

        Returns:
            Non-overlapping spans, in order; each value is the phrase as found, spaces collapsed.
        """
        if phrases not in self._phrases:
            pattern = phrases_pattern(phrases)
            found = [] if pattern is None else list(find_words(pattern, self.text))
            self._phrases[phrases] = [
                Span(m.start(), m.end(), " ".join(m.group().split())) for m in found
            ]
        return self._phrases[phrases]

    def ids(self, examples: tuple[str, ...]) -> list[Span]:
        """Tokens shaped like the normalised ids ``examples`` (letters kept, digits any).

        Args:
            examples: Normalised ids, e.g. ``("ev-0042",)`` finds every ``ev-`` + four digits.

        Returns:
            Spans of whole tokens (bounded by characters outside ``[a-z0-9_-]``), in order.
        """
        pattern = _id_pattern(examples)
        if pattern is None:
            return []
        return [
            Span(m.start(), m.end(), m.group()) for m in find_after(pattern, self.text, _id_char)
        ]


@lru_cache(maxsize=1024)
def _id_pattern(examples: tuple[str, ...]) -> re.Pattern[str] | None:
    shapes = sorted({id_shape(e) for e in examples if e}, key=len, reverse=True)
    if not shapes:
        return None
    return re.compile("(?:" + "|".join(shapes) + r")(?![a-z0-9_-])")


_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


def _id_char(char: str) -> bool:
    return char in _ID_CHARS


def id_shape(token: str) -> str:
    r"""The regex for ids shaped like ``token``.

    Its letters and punctuation are kept; each run of digits becomes any digits of that length.

    Args:
        token: A normalised id.

    Returns:
        The regex source.

    Examples:
        >>> id_shape("ev-0042")
        'ev\\-[0-9]{4}'
    """
    return "".join(
        f"[0-9]{{{len(part)}}}" if part.isdigit() else re.escape(part)
        for part in re.findall(r"[0-9]+|[^0-9]+", token)
    )


def _valid_date(year: int | None, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    return day <= calendar.monthrange(2000 if year is None else year, month)[1]


def find_dates(text: str) -> list[Span]:
    """Every date in normalised ``text``, in order; values are :data:`DateValue`.

    ISO (``2026-03-05``), month first ("March 5", "Mar. 5th, 2026", "March 5 2026"), day first
    ("5 March", "5th of March, 2026"), and day ranges ("March 5-7": both days). A weekday before
    is allowed and ignored; slashed dates are not read (their order is ambiguous).

    Args:
        text: Normalised text.

    Returns:
        Non-overlapping date spans.

    Examples:
        >>> [s.value for s in find_dates("thursday, march 5th, 2026 or 2026-03-06; 7 mar")]
        [(2026, 3, 5), (2026, 3, 6), (None, 3, 7)]
    """
    found: list[Span] = []
    for match in find_after(_ISO, text, _iso_rejects):
        y, m, d = int(match.group("y")), int(match.group("m")), int(match.group("d"))
        if _valid_date(y, m, d):
            found.append(Span(match.start(), match.end(), (y, m, d)))
    for month_word in _MONTH_WORD.finditer(text):  # each written-out date holds a month word
        at = month_word.start()
        matches: list[re.Match[str] | None] = [_MONTH_FIRST.match(text, at)]
        window = _DAY_FIRST.finditer(text, max(0, at - 16), min(len(text), at + 40))
        matches += [m for m in window if m.start("mon") == at and not _day_rejects_at(text, m)]
        for written in matches:
            if written is None or written.re is _DAY_FIRST and _modal_may(text, written):
                continue
            year = int(written.group("y")) if written.group("y") else None
            month = _MONTHS[written.group("mon")]
            days = [written.group("d"), written.group("d2")]
            for day in (int(d) for d in days if d):
                if _valid_date(year, month, day):
                    found.append(Span(written.start(), written.end(), (year, month, day)))
    return _first_wins(found)


def _day_rejects_at(text: str, match: re.Match[str]) -> bool:
    return match.start() > 0 and _day_rejects(text[match.start() - 1])


def _iso_rejects(char: str) -> bool:
    return char.isalnum() or char in "_.:/-"


def _day_rejects(char: str) -> bool:
    return char.isalnum() or char in "_.:,/-"


def _modal_may(text: str, match: re.Match[str]) -> bool:
    """Whether a day-first "5 may" is the verb ("the top 5 may differ"), not the month."""
    found = match.group()
    if match.group("mon") != "may" or match.group("y") or " of " in found or found.endswith("."):
        return False
    after = _WORD_AFTER.match(text, match.end())
    return after is not None and after.group(1) not in _DATE_FOLLOWERS


def _first_wins(spans: list[Span]) -> list[Span]:
    """Sort spans, dropping any that overlaps an earlier-starting (or same-start, longer) one.

    Spans with identical extent (the two days of a range) are all kept.
    """
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    for span in spans:
        if (
            out
            and span.start < out[-1].end
            and (span.start, span.end) != (out[-1].start, out[-1].end)
        ):
            continue
        out.append(span)
    return out


def find_times(text: str) -> list[Span]:
    """Every time of day in normalised ``text``, in order; values are ``"HH:MM"`` strings.

    "15:00", "9:30" (09:30), "3 pm", "3pm", "3:00 p.m.", "5.30pm", "3 o'clock", "noon" (12:00),
    "midnight" (00:00). In a range both ends count, and a bare or unmarked start takes the end's
    am/pm ("3-4 pm": 15:00 and 16:00; "11-1 pm": 11:00 and 13:00). A bare integer alone is not
    a time.

    Args:
        text: Normalised text.

    Returns:
        Time spans, in order.

    Examples:
        >>> [s.value for s in find_times("09:30-09:45, 3 pm, 11-1 p.m., noon, 9:30:15, 42")]
        ['09:30', '09:45', '15:00', '11:00', '13:00', '12:00', '09:30']
    """
    raw: list[tuple[int, int, int, int | None, str | None]] = []  # start, end, hour, minute, mer
    for match in find_after(_TIME, text, lambda c: c.isdigit() or c in ":.,"):
        start = match.start()
        if (
            start
            and text[start - 1].isalpha()
            and not (text[start - 1] == "t" and text[start - 2 : start - 1].isdigit())
        ):
            continue  # part of a code ("a3 pm"), unless an ISO "2026-03-05t10:00"
        minutes = match.group("m") or match.group("m2")
        minute = int(minutes) if minutes else None
        mer = match.group("mer1") or match.group("mer2") or match.group("mer3")
        raw.append((start, match.end(), int(match.group("h")), minute, mer or _oc(match)))
    found: list[Span] = []
    for i, (start, end, hour, minute, mer) in enumerate(raw):
        if mer is None and i + 1 < len(raw) and raw[i + 1][4] in ("a", "p"):
            nxt = raw[i + 1]
            if _TIME_RANGE.match(text[end : nxt[0]]) and 1 <= hour <= 12:
                mer = _range_meridiem(hour, nxt[2], nxt[4])
        value = _clock(hour, minute, mer)
        if value is not None:
            found.append(Span(start, end, value))
    has_word = "noon" in text or "midday" in text or "midnight" in text
    for match in find_words(_TIME_WORD, text) if has_word else ():
        if (
            match.group().startswith("12")
            and match.start()
            and _iso_rejects(text[match.start() - 1])
        ):
            continue
        found.append(
            Span(match.start(), match.end(), "00:00" if match.group("w") == "midnight" else "12:00")
        )
    found.sort(key=lambda s: s.start)
    return found


def _oc(match: re.Match[str]) -> str | None:
    return "o" if match.group("oc") else None


def _range_meridiem(hour: int, end_hour: int, end_mer: str | None) -> str | None:
    """The am/pm a range's start takes from its end: the same, unless that puts it after the end."""
    if end_mer is None or not 1 <= end_hour <= 12:
        return None
    if hour % 12 <= end_hour % 12:
        return end_mer
    return "a" if end_mer == "p" else "p"


def _clock(hour: int, minute: int | None, mer: str | None) -> str | None:
    if minute is not None and minute > 59:
        return None
    if mer in ("a", "p"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if mer == "p" else 0)
    elif mer == "o":
        if not 1 <= hour <= 12:
            return None
    elif minute is None or hour > 23:
        return None  # a bare integer is not a time
    return f"{hour:02d}:{minute or 0:02d}"
