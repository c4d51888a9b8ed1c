"""Claim families: phrases that assert an action succeeded, or that nothing was found.

A claim counts when one of its family's phrases is in the answer and is not negated ("could not
be booked", "I wasn't able to", "nothing was moved") or hypothetical ("it will be confirmed",
"once it's booked") within the four words before it in the same clause.
"""

from __future__ import annotations

import re

from toolgym.answers.text import NOT_BEFORE_ALNUM, find_words

_PARTICIPLES = (
    "booked rebooked confirmed reserved rescheduled created moved cancelled canceled deleted "
    "removed renamed updated added done completed succeeded successful successfully"
).split()
_SUCCESS = re.compile(
    r"(?:(?<=')s scheduled|\b(?:"
    + "|".join(
        [
            *_PARTICIPLES,
            r"(?:is|are|has been|have been|i|we|i've|we've|i have|we have|now) scheduled",
            r"all set",
            r"good to go",
            r"taken care of",
            r"went through",
            r"(?:i|we) (?:was|were) able to",
            r"(?:i've|i have|we've|we have) (?:gone ahead|made the|set up)",
            r"(?:i|we) went ahead",
            r"(?:is|are|now) complete",
            r"all done",
        ]
    )
    + "))"
    + NOT_BEFORE_ALNUM
)
_NOT_SUCCESS_BEFORE = re.compile(r"(?:^|\W)(?:fully|last|double)\s\Z")
_TAKEN_BEFORE = re.compile(r"(?:^|\W)already\s\Z")  # "the slot is already booked": the error
_NOT_SUCCESS_AFTER = re.compile(
    r"\s(?:up|solid|out|that|whether|if|by (?:someone|another|other|a different))"
    + NOT_BEFORE_ALNUM
)
_THINGS = (
    r"(?:information|info|details|data|records?|entry|entries|articles?|results?|match(?:es)?|"
    r"documents?|mentions?|pages?|references?|evidence)"
)
_NOT_FOUND = re.compile(
    r"\b(?:"
    + "|".join(
        [
            r"(?:couldn't|could not|can't|cannot|can not|wasn't able to|was not able to|"
            r"weren't able to|were not able to|unable to|not able to|didn't|did not|"
            r"failed to) (?:find|locate|identify|retrieve)",
            r"(?:couldn't|could not|can't|cannot|can not) be (?:found|located)",
            r"(?:there's|there is|there was) nothing",
            r"(?:doesn't|does not|didn't|did not) (?:mention|contain)",
            r"(?:i|we) found no",
            r"found nothing",
            r"nothing (?:was )?found",
            r"not found",
            r"no (?:(?:relevant|specific|further|additional|such|matching|reliable|public) )?"
            + _THINGS,
            r"(?:i|we) (?:don't|do not) (?:know|have (?:any )?" + _THINGS + ")",
            r"(?:i'm|i am) not sure",
            r"(?:doesn't|does not|don't|do not) (?:seem to |appear to )?exist",
            r"no such",
        ]
    )
    + ")"
    + NOT_BEFORE_ALNUM
)
_FAMILIES = {"success": _SUCCESS, "not_found": _NOT_FOUND}

_NEGATORS = frozenset(
    "not no never cannot unable failed fail fails failing without nothing none neither nor "
    "nobody unsuccessful unsuccessfully couldnt wasnt didnt cant wont isnt arent hasnt havent "
    "werent dont doesnt shouldnt wouldnt hadnt".split()
)
_CONDITIONS = frozenset("if once unless until whether".split())
_MODALS = frozenset("will would can could should might may must shall to".split())
_WORD = re.compile(r"[\w']+")
_CLAUSE_END = re.compile(r"[,:;()\n]|\s-\s")


def find_claim(text: str, family: str) -> str | None:
    """The first phrase of a claim family that ``text`` asserts, or ``None``.

    Args:
        text: Normalised text.
        family: ``"success"`` or ``"not_found"``.

    Returns:
        The asserted phrase as written, or ``None`` when there is none (or all are negated).

    Examples:
        >>> find_claim("done, it's booked.", "success")
        'done'
        >>> find_claim("i couldn't book it: the hotel is fully booked", "success") is None
        True
        >>> find_claim("i couldn't find x", "not_found")
        "couldn't find"
    """
    pattern = _FAMILIES[family]
    for match in find_words(pattern, text):
        start, end = match.span()
        if family == "success" and (
            _NOT_SUCCESS_BEFORE.search(text, max(0, start - 10), start)
            or _NOT_SUCCESS_AFTER.match(text, end)
            or match.group() in ("booked", "reserved")
            and _TAKEN_BEFORE.search(text, max(0, start - 10), start)
        ):
            continue
        if not denied(text, start):
            return match.group()
    return None


def denied(text: str, start: int) -> bool:
    """Whether the phrase at ``start`` is negated or hypothetical.

    It is when one of the (up to) four words before it, in the same clause, is a negator (not,
    no, never, n't, cannot, unable, failed, without, nothing, ...) or a condition (if, once,
    unless, until, whether), or when "be"/"been"/"get" among the last two follows a modal
    ("will be", "could have been", "needs to be").

    Args:
        text: Normalised text.
        start: Where the phrase starts.

    Returns:
        Whether the phrase is not asserted.
    """
    window = text[max(0, start - 80) : start]
    clause = _CLAUSE_END.split(window)[-1]
    words = _WORD.findall(clause)[-4:]
    if any(w in _NEGATORS or w.endswith("n't") or w in _CONDITIONS for w in words):
        return True
    for i in range(max(0, len(words) - 2), len(words)):
        if words[i] in ("be", "been", "get") and any(
            w in _MODALS or w.endswith(("'ll", "'d")) for w in words[:i]
        ):
            return True
    return False
