"""Facts made ready to check.

A :class:`~toolgym.answers.model.Fact` becomes a :class:`PreparedFact`: its value parsed for its
kind, its spellings normalised, and how to find and compare candidate values in an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from toolgym.answers.mentions import AnswerText, DateValue, find_dates, find_times
from toolgym.answers.model import Fact
from toolgym.answers.numbers import Number, number_matches
from toolgym.answers.text import Span, normalize


@dataclass
class PreparedFact:
    """A fact ready to check against answers.

    Attributes:
        kind: The fact's kind.
        label: How failures name it, e.g. ``"10:00 (time) for 'standup'"``.
        subjects: The subject's spellings, normalised (empty: unbound).
        subject_label: The subject as failures name it, e.g. ``"'standup'"``.
        invalid: Why the value cannot be checked (then it never holds), else ``None``.
    """

    kind: str
    label: str
    subjects: tuple[str, ...]
    subject_label: str
    invalid: str | None = None
    values: tuple[str, ...] = ()
    distractors: frozenset[str] = field(default_factory=frozenset)
    number: Decimal = Decimal(0)
    tolerance: Decimal = Decimal(0)
    date: DateValue = (None, 1, 1)
    time: str = ""

    def candidates(self, view: AnswerText) -> list[Span]:
        """The answer's values of this fact's kind that are not directly denied ("not 14:00")."""
        if self.kind == "text":
            found = view.phrases(self.values + tuple(sorted(self.distractors)))
        elif self.kind == "id":
            found = view.ids(self.values)
        elif self.kind == "number":
            found = view.numbers
        elif self.kind == "date":
            found = view.dates
        else:
            found = view.times
        return [c for c in found if not view.denied(c.start)]

    def matches(self, span: Span) -> bool:
        """Whether a candidate states this fact's value."""
        if self.kind in ("text", "id"):
            return span.value in self.values
        if self.kind == "number":
            return isinstance(span.value, Number) and number_matches(
                span.value, self.number, self.tolerance
            )
        if self.kind == "date":
            found: DateValue = span.value  # type: ignore[assignment]
            year, month, day = found
            want_year, want_month, want_day = self.date
            same_year = year is None or want_year is None or year == want_year
            return (month, day) == (want_month, want_day) and same_year
        return span.value == self.time

    def is_distractor(self, span: Span) -> bool:
        """Whether a candidate is one of the fact's distractors (and not its value)."""
        return span.value in self.distractors and span.value not in self.values


def prepare(fact: Fact) -> PreparedFact:
    """Parse and normalise a fact for checking.

    Args:
        fact: The fact (ids already renamed).

    Returns:
        The prepared fact; ``invalid`` says why its value cannot be checked, if so.

    Examples:
        >>> prepare(Fact(value="3 pm", kind="time", subject="Standup")).label
        "15:00 (time) for 'Standup'"
    """
    spellings = tuple(dict.fromkeys(s for s in (normalize(x) for x in fact.subjects) if s))
    subject_label = repr(fact.subjects[0]) if fact.subjects else ""
    base = PreparedFact(fact.kind, "", spellings, subject_label)
    kind = fact.kind
    shown: str
    if kind in ("text", "id"):
        values = tuple(
            dict.fromkeys(v for v in map(normalize, [str(fact.value), *fact.alternatives]) if v)
        )
        base.values = values
        base.distractors = frozenset(d for d in map(normalize, fact.distractors) if d)
        shown = repr(str(fact.value))
        if not values:
            base.invalid = "the fact's value is empty"
    elif kind == "number":
        number = _decimal(fact.value)
        shown = _show_number(fact.value)
        if number is None or not number.is_finite():
            base.invalid = f"the fact's value {fact.value!r} is not a finite number"
        else:
            base.number = number
            base.tolerance = _decimal(fact.tolerance) or Decimal(0)
    elif kind == "date":
        date = _only(find_dates(normalize(str(fact.value))), str(fact.value))
        shown = str(fact.value)
        if date is None:
            base.invalid = f"the fact's value {fact.value!r} is not a date (YYYY-MM-DD)"
        else:
            base.date = date.value  # type: ignore[assignment]
    else:
        time = _only(find_times(normalize(str(fact.value))), str(fact.value))
        shown = str(fact.value)
        if time is None:
            base.invalid = f"the fact's value {fact.value!r} is not a time (HH:MM)"
        else:
            base.time = shown = str(time.value)
    base.label = f"{shown} ({kind})" + (f" for {subject_label}" if spellings else "")
    return base


def _only(spans: list[Span], value: str) -> Span | None:
    """The single span covering all of the normalised ``value``, if that is what was found."""
    text = normalize(value)
    if len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text):
        return spans[0]
    return None


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


def _show_number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
