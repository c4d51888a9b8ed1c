"""Text plumbing for the answer checker: normalisation, segments, clauses and phrase patterns.

Every position the checker works with is an index into :func:`normalize` 's output, never into
the raw answer.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

NOT_BEFORE_ALNUM = r"(?![^\W_])"
"""Regex: not followed by a letter or digit."""

_PUNCT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",  # en dash: ranges (09:30–09:45) and compounds
        "\u2212": "-",
        "\u2014": " - ",  # em dash: a pause, never part of a token ("BK0005—confirmed")
        "\u2015": " - ",
    }
)
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BREAK = re.compile(f"[{_BREAKS}]")


def normalize(text: str) -> str:
    r"""Normalise an answer or a value for matching.

    Unicode NFKC (thin and no-break spaces become spaces, full-width digits ASCII), curly quotes
    and dashes to ASCII (an em dash becomes a spaced hyphen), case-folding, and every run of
    whitespace collapsed to one space, or to one newline when it holds a line break (newlines
    end segments).

    Args:
        text: Any string (lone surrogates and NUL included).

    Returns:
        The normalised text, stripped.

    Examples:
        >>> normalize("  The  ‘Standup’ — 3\u202f500\n\n OK ")
        "the 'standup' - 3 500\nok"
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_PUNCT)
    text = text.casefold()
    if _BREAK.search(text) is None:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in _BREAK.split(text))
    return "\n".join(line for line in lines if line)


def is_alnum(char: str) -> bool:
    """Whether ``char`` is a letter or digit (the empty string is not)."""
    return char.isalnum()


def word_alternation(words: list[str] | tuple[str, ...]) -> str:
    """A regex alternation matching exactly ``words``, as a trie (fast to search).

    Args:
        words: Non-empty literal words.

    Returns:
        The regex source (no group around it); longer words are tried first.

    Examples:
        >>> word_alternation(["seven", "seventeen", "six"])
        's(?:even(?:teen)?|ix)'
    """
    groups: dict[str, list[str]] = {}
    for word in sorted(set(words)):
        if word:
            groups.setdefault(word[0], []).append(word[1:])
    parts = []
    for first, rests in groups.items():
        longer = [r for r in rests if r]
        if not longer:
            parts.append(re.escape(first))
            continue
        inner = word_alternation(longer)
        if len({w[0] for w in longer}) > 1 or "" in rests:
            inner = f"(?:{inner})" + ("?" if "" in rests else "")
        parts.append(re.escape(first) + inner)
    return "|".join(parts)


# ----------------------------------------------------------------------------------- segments
_SEGMENT_MARK = re.compile(r"[\n;.!?]")
_LAST_WORD = re.compile(r"(?<![\w.])[^\W\d_]+(?:\.[^\W\d_]+)*\Z")
_ABBREVIATIONS = frozenset(
    "a.m p.m approx ca e.g i.e vs mr mrs ms dr st jr sr jan feb mar apr jun jul aug sep "
    "sept oct nov dec".split()
)


def segments(text: str) -> list[tuple[int, int]]:
    """Split normalised text into sentences: ``(start, end)`` spans covering it in order.

    A segment ends at a newline, a semicolon, or ``.``/``!``/``?`` followed by a space or the
    end, except after an abbreviation ("p.m.", "approx.", "Mar.", a single initial). Decimals
    ("3.5") never end one: their point is not followed by a space.

    Args:
        text: Normalised text (see :func:`normalize`).

    Returns:
        The spans; together they cover ``text``.

    Examples:
        >>> t = "standup at 3 p.m. today. review is 3.5 hours; done"
        >>> [t[a:b] for a, b in segments(t)]
        ['standup at 3 p.m. today.', ' review is 3.5 hours;', ' done']
    """
    spans = []
    start = 0
    size = len(text)
    for match in _SEGMENT_MARK.finditer(text):
        mark = match.start()
        if mark < start:
            continue  # inside a run already taken ("?!", "...")
        end = mark + 1
        if text[mark] in ".!?":
            while end < size and text[end] in ".!?":
                end += 1
            run = end
            while end < size and text[end] in "\"')]":
                end += 1
            if end < size and not text[end].isspace():
                continue  # "3.5", "ev.0042", "e.g" inside a word
            if run == end == mark + 1 and text[mark] == "." and _abbreviation_before(text, mark):
                continue
        spans.append((start, end))
        start = end
    if start < size or not spans:
        spans.append((start, len(text)))
    return spans


def _abbreviation_before(text: str, dot: int) -> bool:
    word = _LAST_WORD.search(text, max(0, dot - 12), dot)
    if word is None:
        return False
    token = word.group()
    return len(token) == 1 or token in _ABBREVIATIONS


_CLAUSE_BREAK = re.compile(
    r",|\s-\s|\b(?:"
    + word_alternation("and but while whilst whereas versus vs than".split())
    + r"|compared (?:to|with))\b"
)


def clause_breaks(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Positions where a clause ends inside a segment.

    Commas (not in "332,477"), spaced dashes, "and", "but", "while", "whereas", "versus", "than",
    "compared to/with".

    Args:
        text: Normalised text.
        start: Where to start looking.
        end: Where to stop looking (default: the end).

    Returns:
        The start positions of the breaks, ascending.
    """
    return [
        m.start()
        for m in _CLAUSE_BREAK.finditer(text, start, len(text) if end is None else end)
        if not (
            m.group() == ","
            and text[m.start() - 1 : m.start()].isdigit()
            and text[m.end() : m.end() + 1].isdigit()
        )
    ]


# ---------------------------------------------------------------------------------- phrases
def phrase_regex(phrase: str) -> str:
    """A regex for a normalised phrase as whole words.

    Spaces match any whitespace; an end that is a letter or digit must not touch another one
    (``"c++"`` matches in ``"c++x"``). The start is checked by :func:`find_words` (a leading
    look-behind would make every search slow).

    Args:
        phrase: A normalised, non-empty phrase.

    Returns:
        The regex source.
    """
    body = r"\s".join(re.escape(word) for word in phrase.split(" "))
    return body + (NOT_BEFORE_ALNUM if is_alnum(phrase[-1]) else "")


@lru_cache(maxsize=4096)
def phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled pattern for several normalised phrases, longest first.

    Of two phrases that start at the same place, the longer wins.

    Args:
        phrases: Normalised phrases (empty ones are ignored).

    Returns:
        The pattern, or ``None``.
    """
    kept = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not kept:
        return None
    return re.compile("|".join(f"(?:{phrase_regex(p)})" for p in kept))


def find_after(
    pattern: re.Pattern[str], text: str, rejects: Callable[[str], bool]
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` in order, skipping those whose preceding character ``rejects``.

    A rejected match does not hide a later one that starts inside it.

    Args:
        pattern: A compiled pattern that cannot match the empty string.
        text: The text to search.
        rejects: Whether a character before a match disqualifies it.

    Returns:
        An iterator of the accepted matches.
    """
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        start = match.start()
        if start and rejects(text[start - 1]):
            pos = start + 1
            continue
        yield match
        pos = max(match.end(), start + 1)


def find_words(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Matches of a :func:`phrases_pattern` (or word) pattern that start a word.

    A match whose first character is a letter or digit must not follow one.

    Args:
        pattern: A compiled pattern that cannot match the empty string.
        text: The text to search.

    Returns:
        An iterator of the accepted matches.
    """
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        start = match.start()
        if start and text[start - 1].isalnum() and match.group()[:1].isalnum():
            pos = start + 1
            continue
        yield match
        pos = max(match.end(), start + 1)


@dataclass(frozen=True, slots=True)
class Span:
    """A found piece of the normalised answer.

    Attributes:
        start: Index of its first character.
        end: Index after its last character.
        value: What it says, in the kind's comparable form (normalised phrase, id token,
            ``(year or None, month, day)``, ``"HH:MM"``, or a number).
    """

    start: int
    end: int
    value: object


_NEGATION_HINTS = ("not", "never", "n't", "rather", "instead", "longer")
_NEGATED_VALUE = re.compile(
    r"(?:^|[^\w'])(?:not|never|no longer|rather than|instead of|\w+n't)\s"
    r"(?:(?:the|a|an|at|on|in|for|by|from)\s)?[$€£¥~(\"']*\Z"
)


def negated_value(text: str, start: int) -> bool:
    """Whether the value starting at ``start`` is denied.

    As in "not 14:00", "rather than the Glass River", "isn't $870", "instead of March 5".

    Args:
        text: Normalised text.
        start: Where the value starts.

    Returns:
        Whether a negation directly precedes it (an article or preposition may sit between).
    """
    window = text[max(0, start - 40) : start]
    if not any(hint in window for hint in _NEGATION_HINTS):
        return False
    return _NEGATED_VALUE.search(window) is not None


class SpanSet:
    """Non-overlapping spans, for fast "does this range touch one of them" questions."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        """Index ``spans`` (any order; overlapping ones are merged)."""
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` shares a character with one of the spans."""
        i = bisect_left(self._starts, end)
        return i > 0 and self._ends[i - 1] > start

    def inside(self, pos: int) -> bool:
        """Whether ``pos`` lies strictly inside a span (not at its edges)."""
        i = bisect_left(self._starts, pos)
        return i > 0 and self._starts[i - 1] < pos < self._ends[i - 1]
