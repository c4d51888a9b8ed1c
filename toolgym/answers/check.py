"""The rule-based final-answer checker: required outputs must hold, forbidden ones not be stated.

Old required items (a string, or a list of alternative strings) keep their meaning: a
case-insensitive, whitespace-normalised substring of the answer. A :class:`Fact` is found by its
kind (see :mod:`toolgym.answers.mentions`) and, with a subject, must be attached to that subject
(see :mod:`toolgym.answers.binding`): at least one mention of the subject has the value among the
values attached to it, and every mention that has values attached has it among them (a text
fact also fails when one of its distractors is attached in the subject's own clause). A value
directly denied ("not 14:00", "rather than The Glass River") is not stated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from toolgym.answers.binding import Attachment, attach
from toolgym.answers.claims import find_claim
from toolgym.answers.facts import PreparedFact, prepare
from toolgym.answers.mentions import AnswerText
from toolgym.answers.model import Claim, Fact, Forbidden, RequiredOutput
from toolgym.answers.text import Span, find_words, normalize, phrases_pattern


@dataclass(frozen=True)
class AnswerCheck:
    """The verdict on one final answer.

    Attributes:
        passed: Every required output holds and no forbidden output is stated.
        score: The fraction of required outputs that hold (1.0 when there are none), times 0
            when any forbidden output is stated.
        failures: One readable reason per failed required output or stated forbidden one.
    """

    passed: bool
    score: float
    failures: tuple[str, ...]


def check_answer(
    answer: str,
    required: Sequence[RequiredOutput],
    forbidden: Sequence[Forbidden] = (),
    *,
    id_map: Mapping[str, str] | None = None,
) -> AnswerCheck:
    """Check a final answer against a task's required and forbidden outputs.

    Args:
        answer: The final answer.
        required: The task's ``required_outputs``.
        forbidden: The task's ``forbidden`` outputs.
        id_map: Ids generated in the gold replay mapped to those generated in this episode; a
            required or forbidden value (or subject) equal to a key, case-insensitively, is
            replaced by its value first.

    Returns:
        The verdict.

    Examples:
        >>> check = check_answer("Standup at 14:00, review at 10:00.", [
        ...     Fact(value="10:00", kind="time", subject="standup"), "review"],
        ...     [Fact(value="14:00", kind="time", subject="review")])
        >>> check.passed, check.score
        (False, 0.5)
        >>> check.failures
        ("missing 10:00 (time) for 'standup': the answer pairs it with 14:00",)
    """
    rename = _renamer(id_map)
    wanted: list[RequiredOutput | Forbidden] = [_rename_item(item, rename) for item in required]
    banned: list[RequiredOutput | Forbidden] = [_rename_item(item, rename) for item in forbidden]
    subjects = [s for item in [*wanted, *banned] if isinstance(item, Fact) for s in item.subjects]
    view = AnswerText(answer)
    failures = []
    for item in wanted:
        reason = _missing(item, view, subjects)
        if reason is not None:
            failures.append(reason)
    stated = [reason for item in banned if (reason := _stated(item, view, subjects)) is not None]
    held = len(wanted) - len(failures)
    score = (held / len(wanted) if wanted else 1.0) * (0.0 if stated else 1.0)
    failures.extend(stated)
    return AnswerCheck(passed=not failures, score=score, failures=tuple(failures))


def output_holds(
    item: RequiredOutput,
    answer: str,
    *,
    subjects: Sequence[str] = (),
    id_map: Mapping[str, str] | None = None,
) -> bool:
    """Whether one required output holds in ``answer``.

    Args:
        item: A required output: a substring, alternative substrings, or a :class:`Fact`.
        answer: The final answer.
        subjects: Every subject spelling of the task's facts: mentions of other subjects compete
            for the values (the item's own subjects are always included).
        id_map: As for :func:`check_answer`.

    Returns:
        Whether it holds.

    Examples:
        >>> output_holds(Fact(value=389512, kind="number"), "roughly 390,000 visitors")
        True
    """
    rename = _renamer(id_map)
    return (
        _missing(_rename_item(item, rename), AnswerText(answer), [rename(s) for s in subjects])
        is None
    )


# --------------------------------------------------------------------------------- old forms
def _substring_present(options: Sequence[str], answer: str) -> bool:
    """``toolgym.tasks.output_present``'s meaning: case-insensitive, whitespace-normalised."""
    text = " ".join(answer.lower().split())
    return any(" ".join(o.lower().split()) in text for o in options)


# --------------------------------------------------------------------------------- renaming
def _renamer(id_map: Mapping[str, str] | None) -> Callable[[str], str]:
    if not id_map:
        return lambda s: s
    table = {key.strip().casefold(): value for key, value in id_map.items()}
    return lambda s: table.get(s.strip().casefold(), s)


def _rename_item(
    item: RequiredOutput | Forbidden, rename: Callable[[str], str]
) -> RequiredOutput | Forbidden:
    if isinstance(item, str):
        return rename(item)
    if isinstance(item, list):
        return [rename(s) for s in item]
    if isinstance(item, Claim):
        return item
    update: dict[str, object] = {
        "alternatives": [rename(s) for s in item.alternatives],
        "distractors": [rename(s) for s in item.distractors],
    }
    if isinstance(item.value, str):
        update["value"] = rename(item.value)
    if item.subject is not None:
        update["subject"] = (
            rename(item.subject)
            if isinstance(item.subject, str)
            else [rename(s) for s in item.subject]
        )
    return item.model_copy(update=update)


# ---------------------------------------------------------------------------------- checking
def _missing(
    item: RequiredOutput | Forbidden, view: AnswerText, subjects: Sequence[str]
) -> str | None:
    """Why a required item does not hold, or ``None`` when it does."""
    if isinstance(item, str):
        return None if _substring_present([item], view.raw) else f"missing {item!r}"
    if isinstance(item, list):
        if _substring_present(item, view.raw):
            return None
        return (
            "missing any of " + ", ".join(map(repr, item)) if item else "missing (no alternatives)"
        )
    if isinstance(item, Claim):
        return None if find_claim(view.text, item.claim) else f"missing claim {item.claim!r}"
    fact = prepare(item)
    holds, _, reason = _judge(fact, view, subjects)
    return None if holds else f"missing {fact.label}: {reason}"


def _stated(
    item: Forbidden | RequiredOutput, view: AnswerText, subjects: Sequence[str]
) -> str | None:
    """What a forbidden item states in the answer, or ``None`` when it is not stated."""
    if isinstance(item, Claim):
        phrase = find_claim(view.text, item.claim)
        return (
            None if phrase is None else f"forbidden claim {item.claim!r}: {phrase!r} (not negated)"
        )
    if isinstance(item, (str, list)):
        options = [item] if isinstance(item, str) else item
        pattern = phrases_pattern(tuple(normalize(o) for o in options))
        found = None if pattern is None else next(find_words(pattern, view.text), None)
        return None if found is None else f"forbidden {item!r}: stated"
    fact = prepare(item)
    _, stated, detail = _judge(fact, view, subjects)
    return f"forbidden {fact.label}: {detail}" if stated else None


def _judge(fact: PreparedFact, view: AnswerText, subjects: Sequence[str]) -> tuple[bool, bool, str]:
    """Judge a fact: ``(holds, stated, reason)``.

    ``holds``: as a required fact; ``stated``: in the forbidden sense (the value is attached to
    the subject, or present when unbound); ``reason``: why it does not hold, or what states it.
    """
    if fact.invalid:
        return False, False, fact.invalid
    candidates = fact.candidates(view)
    if not fact.subjects:
        hits = [c for c in candidates if fact.matches(c)]
        if hits:
            return True, True, f"the answer states {_shown(view, hits[:1])}"
        if candidates and fact.kind in ("number", "date", "time"):
            return False, False, f"the answer states {_shown(view, candidates)}"
        return False, False, "not in the answer"
    spellings = frozenset(fact.subjects)
    every = tuple(dict.fromkeys([*fact.subjects, *(normalize(s) for s in subjects)]))
    texts = (fact.values, fact.distractors) if fact.kind in ("text", "id") else ()
    key = ("attach", every, fact.kind, texts)
    links = view.memo.get(key)
    if not isinstance(links, Attachment):
        links = view.memo[key] = attach(view, every, candidates)
    own = links.of(spellings)
    subject = fact.subject_label
    if not own:
        return False, False, f"{subject} is not mentioned"
    with_value = [i for i in own if any(fact.matches(c) for c, _ in links.attached.get(i, ()))]
    bad = [i for i in own if links.attached.get(i) and i not in with_value]
    wrong = [
        c
        for i in own
        for c, strong in links.attached.get(i, ())
        if strong and fact.is_distractor(c)
    ]
    stated = bool(with_value)
    if wrong:
        return False, stated, f"the answer pairs it with {_shown(view, wrong)}"
    if bad:
        others = [c for i in bad for c, _ in links.attached[i]]
        lead = (
            "the answer pairs it with"
            if not with_value
            else f"another mention of {subject} pairs it with"
        )
        return False, stated, f"{lead} {_shown(view, others)}"
    if not with_value:
        return False, False, f"no {fact.kind} next to {subject}"
    return True, True, f"the answer pairs it with {subject}"


def _shown(view: AnswerText, spans: Sequence[Span]) -> str:
    texts = list(dict.fromkeys(view.text[s.start : s.end] for s in spans))
    shown = ", ".join(texts[:3])
    return shown + (f" (and {len(texts) - 3} more)" if len(texts) > 3 else "")
