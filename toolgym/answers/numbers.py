"""Numbers in an answer: digits with separators, number words, scale words, hedges.

A number is found wherever the answer writes one ("332,477", "332 477", "3.5", "$290", "290
USD", "15%", "twenty-one", "two hundred and five", "a dozen", "1.2 million", "390 thousand",
"10k", "$1.2m", "1.2bn") but never inside a date (save the year ending a written-out one:
"March 5, 1992" states 1992), a time, an id or code ("ev-0042", "BK0005", "H-BOS-1", "SJ160")
or a version ("0.3.1").
A hedged number ("about", "roughly", "~", ...) carries its precision, so "roughly 390,000"
states anything that rounds to 390,000 at the nearest 10,000.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from toolgym.answers.text import (
    NOT_BEFORE_ALNUM,
    Span,
    SpanSet,
    find_words,
    is_alnum,
    word_alternation,
)


@dataclass(frozen=True, slots=True)
class Number:
    """A number as the answer states it.

    Attributes:
        value: The value, scale words applied ("1.2 million" is 1200000).
        unit: For a hedged number, the precision it was written at ("390,000": 10000, "3.5":
            0.1, "1.2 million": 100000); ``None`` when the number is not hedged.
    """

    value: Decimal
    unit: Decimal | None = None


_MAX_DIGITS = 40  # a longer digit run is not a quantity anybody states
_CORE = re.compile(
    r"\b(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]{1,3}(?: [0-9]{3})+(?![0-9])|[0-9]+)"
    r"(?:\.[0-9]+)?"
)
_PLAIN = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_PLAIN_RE = re.compile(_PLAIN)
_DIGIT_DASH = re.compile(r"[0-9]-[0-9]")
_CHAIN_AFTER = re.compile(r"[\w]|[-.:/]\w")
_LETTERS = re.compile(r"[^\W\d_]+")
_SCALES = {
    "hundred": 2,
    "thousand": 3,
    "million": 6,
    "billion": 9,
    "trillion": 12,
    "k": 3,
    "mn": 6,
    "bn": 9,
}
_SPACED_SCALE = re.compile(r"\s(hundred|thousand|million|billion|trillion|bn)" + NOT_BEFORE_ALNUM)
_UNIT_LETTERS = frozenset("kmxhsgl")  # "10k", "5m", "3x", "2h": units; "12b", "4a": codes
_CURRENCY = frozenset("$€£¥")
_AFTER_HEDGE = re.compile(r"(?:\s[^\W\d_]+)?\s?(?:or so|-?ish)" + NOT_BEFORE_ALNUM)
_HEDGE_BEFORE = re.compile(  # a hedge, at most one more word, then the number
    r"(?:~|\b(?:about|around|roughly|approximately|approximate|approx\.?|nearly|almost|circa|ca\.?|"
    r"some|estimated|est\.|close to)(?:\W+[^\W_]+)?)[\W_]*\Z"
)

_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUE = {w: i for i, w in enumerate(_UNIT_WORDS)} | {
    w: 20 + 10 * i for i, w in enumerate(_TEN_WORDS)
}


def _alternatives(words: list[str]) -> str:
    return word_alternation(words)


_BELOW_100 = (
    rf"(?:{_alternatives(_TEN_WORDS)})(?:[-\s](?:{_alternatives(_UNIT_WORDS[1:10])}){NOT_BEFORE_ALNUM})?"
    rf"|(?:{_alternatives(_UNIT_WORDS[1:])})"
)
_WORDS = re.compile(
    rf"\b(?:(?P<hu>a|{_alternatives(_UNIT_WORDS[1:10])})\shundred"
    + rf"(?:\s(?:and\s)?(?P<rest>{_BELOW_100}){NOT_BEFORE_ALNUM})?"
    + r"|(?P<dz>half a|a|one|two|three|four|five|six)\s(?P<dozen>dozens?)"
    + rf"|(?P<a>a|an)(?=\s(?:hundred|thousand|million|billion){NOT_BEFORE_ALNUM})"
    + rf"|(?P<tens>{_alternatives(_TEN_WORDS)})(?:[-\s](?P<tu>{_alternatives(_UNIT_WORDS[1:10])})"
    + rf"{NOT_BEFORE_ALNUM})?"
    + rf"|(?P<unit>{_alternatives(_UNIT_WORDS)}))"
    + NOT_BEFORE_ALNUM
)
_ONE_BEFORE = re.compile(
    r"(?:^|\W)(?:the|this|that|which|each|every|any|no|another|only|some|someone|anyone)\s\Z"
)
_ONE_AFTER = re.compile(r"\s(?:of|another|by|that|who|which)" + NOT_BEFORE_ALNUM)


def find_numbers(text: str, exclude: SpanSet) -> list[Span]:
    """Every number stated in ``text`` (normalised), in order; values are :class:`Number`.

    Args:
        text: Normalised text.
        exclude: Spans whose digits are not numbers (dates and times found in ``text``).

    Returns:
        The numbers, each with its span (the digits or words, scale word included).

    Examples:
        >>> from toolgym.answers.text import SpanSet
        >>> [str(s.value.value) for s in find_numbers(
        ...     "roughly 390,000 of ev-0042 in 0.3.1, 1.2 million", SpanSet([]))]
        ['390000', '1.2E+6']
    """
    found = _digit_numbers(text, exclude) + _word_numbers(text, exclude)
    found.sort(key=lambda s: s.start)
    return found


def _digit_numbers(text: str, exclude: SpanSet) -> list[Span]:
    ranges = _range_starts(text)
    out = []
    for match in _CORE.finditer(text):
        start, end = match.span()
        if exclude.overlaps(start, end) or end - start > _MAX_DIGITS * 2:
            continue
        raw = match.group().replace(",", "").replace(" ", "")
        if len(raw) > _MAX_DIGITS:
            continue
        before = _part_of_token_before(text, start, start in ranges)
        if before is None:
            continue
        scale = _suffix(text, start, end, start in ranges)
        if scale is None:
            continue
        exponent, end = scale
        try:
            value = Decimal(raw).scaleb(exponent)
        except InvalidOperation:  # pragma: no cover - the regex admits only plain numerals
            continue
        if before == "-":
            value = -value
        unit = _precision(raw, exponent) if _hedged(text, start, end) else None
        out.append(Span(start, end, Number(value, unit)))
    return out


def _range_starts(text: str) -> set[int]:
    """Start positions of both numbers of each two-number range ("10-12", not "1-2-3")."""
    starts: set[int] = set()
    for match in _DIGIT_DASH.finditer(text):
        dash = match.start() + 1
        first = dash - 1
        while first > 0 and text[first - 1] in "0123456789,.":
            first -= 1
        if first and (text[first - 1].isalnum() or text[first - 1] in "_.:/-"):
            continue
        if _PLAIN_RE.fullmatch(text, first, dash) is None:
            continue
        second = _PLAIN_RE.match(text, dash + 1)
        if second is None or _CHAIN_AFTER.match(text, second.end()):
            continue
        starts.update((first, dash + 1))
    return starts


def _part_of_token_before(text: str, start: int, in_range: bool) -> str | None:
    """What precedes the digits: ``None`` (they continue a token), ``"-"`` (a sign) or ``""``.

    They continue a token when it is an id, a code, a time or a version.
    """
    if start == 0:
        return ""
    prev = text[start - 1]
    if is_alnum(prev) or prev == "_":
        return None
    prev2 = text[start - 2] if start >= 2 else ""
    if prev in ".-/" and (is_alnum(prev2) or prev2 == "_"):
        return "" if in_range and prev == "-" else None
    if prev == ":" and prev2.isdigit():
        return None
    if prev == "-" and (not prev2 or prev2 not in ".-/:"):
        return "-"
    return ""


def _suffix(text: str, start: int, end: int, in_range: bool) -> tuple[int, int] | None:
    """The scale exponent and the number's new end, or ``None``.

    ``None`` when what follows the digits makes them part of something else (a time, a version,
    a date, a code).
    """
    nxt, nxt2 = text[end : end + 1], text[end + 1 : end + 2]
    if nxt in (":", ".", "/") and nxt2.isdigit():
        return None
    if nxt == "-":
        if nxt2.isdigit():
            return (0, end) if in_range else None
        letters = _LETTERS.match(text, end + 1)
        if letters is not None:
            after = text[letters.end() : letters.end() + 1]
            if len(letters.group()) == 1 or after.isdigit() or after == "_":
                return None  # "12-B", "3-b4": a code
            return 0, end  # "3-night", "20-minute"
    letters = _LETTERS.match(text, end)
    if letters is None:
        spaced = _SPACED_SCALE.match(text, end)
        if spaced is not None:
            return _SCALES[spaced.group(1)], spaced.end()
        return 0, end
    word, after = letters.group(), text[letters.end() : letters.end() + 1]
    if (
        after.isdigit()
        or after == "_"
        or word in ("am", "pm")
        or after == "."
        and word in ("a", "p")
    ):
        return None
    if word in _SCALES:
        return _SCALES[word], letters.end()
    if word in ("m", "b") and start > 0 and text[start - 1] in _CURRENCY:
        return (6 if word == "m" else 9), letters.end()
    if len(word) == 1 and word not in _UNIT_LETTERS:
        return None
    return 0, end


_WORD_START = re.compile(
    "(?:"
    + word_alternation([*_UNIT_WORDS, *_TEN_WORDS, "a", "an", "half"])
    + ")"
    + NOT_BEFORE_ALNUM
)


_AFTER_ARTICLE = (" dozen", " hundred", " thousand", " million", " billion", " a dozen")


def _word_matches(text: str) -> Iterator[re.Match[str]]:
    """Matches of the number-word pattern, found from a fast scan for the words they start with."""
    end = 0
    for hit in find_words(_WORD_START, text):
        if hit.start() < end:
            continue  # inside the previous number ("twenty-one", "half a dozen")
        word = hit.group()
        if word in ("a", "an", "half") and not text.startswith(_AFTER_ARTICLE, hit.end()):
            continue  # an article, not "a dozen" / "a million" / "half a dozen"
        match = _WORDS.match(text, hit.start())
        if match is not None:
            end = match.end()
            yield match


def _word_numbers(text: str, exclude: SpanSet) -> list[Span]:
    out = []
    for match in _word_matches(text):
        start, end = match.span()
        if exclude.overlaps(start, end):
            continue
        if match.group("hu"):
            rest = sum(_WORD_VALUE[w] for w in re.split(r"[-\s]", match.group("rest") or "") if w)
            value = Decimal(_WORD_VALUE.get(match.group("hu"), 1) * 100 + rest)
        elif match.group("dozen"):
            count = {"half a": Decimal("0.5"), "a": Decimal(1)}.get(
                match.group("dz"), Decimal(_WORD_VALUE.get(match.group("dz"), 1))
            )
            value = count * 12
        elif match.group("a"):
            value = Decimal(1)
        elif match.group("tens"):
            value = Decimal(
                _WORD_VALUE[match.group("tens")] + _WORD_VALUE.get(match.group("tu") or "", 0)
            )
        else:
            word = match.group("unit")
            if word == "one" and _not_a_count(text, start, end):
                continue
            value = Decimal(_WORD_VALUE[word])
        exponent = 0
        spaced = _SPACED_SCALE.match(text, end) if not match.group("dozen") else None
        if spaced is not None:
            exponent, end = _SCALES[spaced.group(1)], spaced.end()
        elif match.group("a"):
            continue
        value = value.scaleb(exponent)
        unit = (
            _precision(str(int(value.scaleb(-exponent))), exponent)
            if _hedged(text, start, end)
            else None
        )
        out.append(Span(start, end, Number(value, unit)))
    return out


def _not_a_count(text: str, start: int, end: int) -> bool:
    """Whether "one" is a pronoun ("the one", "one of them") rather than a quantity."""
    return (
        _ONE_BEFORE.search(text, max(0, start - 12), start) is not None
        or _ONE_AFTER.match(text, end) is not None
    )


def _hedged(text: str, start: int, end: int) -> bool:
    return (
        _HEDGE_BEFORE.search(text, max(0, start - 40), start) is not None
        or _AFTER_HEDGE.match(text, end) is not None
    )


def _precision(digits: str, exponent: int) -> Decimal:
    """The rounding unit a numeral is written at ("390000": 10000; "3.50": 0.01)."""
    whole, _, fraction = digits.partition(".")
    if fraction:
        places = -len(fraction)
    else:
        places = len(whole) - len(whole.rstrip("0")) if whole.strip("0") else 0
    return Decimal(1).scaleb(places + exponent)


def number_matches(number: Number, expected: Decimal, tolerance: Decimal) -> bool:
    """Whether a stated number states ``expected``.

    It does when ``|number - expected| <= tolerance * |expected|``, or, for a hedged number, when
    ``expected`` rounded (half up) to the number's precision equals it.

    Args:
        number: A number found in the answer.
        expected: The fact's value (finite).
        tolerance: The relative tolerance (0 = exact).

    Returns:
        Whether it matches.

    Examples:
        >>> hedged = Number(Decimal(390000), Decimal(10000))
        >>> number_matches(hedged, Decimal(389512), Decimal(0))
        True
        >>> number_matches(Number(Decimal(390000)), Decimal(389512), Decimal(0))
        False
    """
    if not expected.is_finite():
        return False
    if abs(number.value - expected) <= tolerance * abs(expected):
        return True
    if number.unit is None:
        return False
    rounded = (expected / number.unit).to_integral_value(rounding=ROUND_HALF_UP) * number.unit
    return rounded == number.value
