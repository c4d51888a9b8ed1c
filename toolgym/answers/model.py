"""What a task requires of the final answer: facts to state and claims not to make.

Facts are values, optionally bound to a subject. These are pure data (pydantic, ``extra="forbid"``); :mod:`toolgym.answers.check` applies them.
A task's ``required_outputs`` holds, per item, either the old substring form (a string, or a list
of alternative strings: the simplest fact) or a :class:`Fact`; ``forbidden`` holds strings,
:class:`Claim` families or facts the answer must not state.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FactKind = Literal["text", "number", "date", "time", "id"]
ClaimKind = Literal["success", "not_found"]


class Fact(BaseModel):
    """A value the answer must state, optionally attached to what it is about.

    Examples (JSONL): ``{"value": "1935"}``; ``{"value": 332477, "kind": "number"}`` ("332,477",
    "332 477" and, hedged, "roughly 330,000" all state it); ``{"value": "10:00", "kind": "time",
    "subject": "standup"}`` (the answer must pair 10:00 with the standup, not merely mention both);
    ``{"value": "HB0003", "kind": "id"}`` (an id a tool generated: checked after mapping the gold
    replay's ids onto the episode's).
    """

    model_config = ConfigDict(extra="forbid")

    value: str | int | float = Field(
        description="The expected value: text, a number, an ISO date (YYYY-MM-DD), a time "
        "(HH:MM, 24-hour) or an id, per `kind`."
    )
    kind: FactKind = Field(
        default="text",
        description="How the value is found in the answer: text (case- and space-insensitive, "
        "whole words), number (separators, number words and a tolerance), date (ISO, 'March 5', "
        "'5 March 2026', ...), time ('15:00', '3 pm', '3:00 p.m.') or id (a whole token).",
    )
    alternatives: list[str] = Field(
        default_factory=list,
        description="Other spellings that state the same value (text and id kinds).",
    )
    subject: str | list[str] | None = Field(
        default=None,
        description="Words naming what the value belongs to (alternatives in a list). When given, "
        "every mention of the subject that has a value of this kind next to it (same sentence, "
        "nearest) must have this value, and at least one must.",
    )
    tolerance: float = Field(
        default=0.0,
        ge=0.0,
        description="Number kind: relative tolerance always allowed (0.01 = 1%). A hedged number "
        "('about', 'roughly', '~') also matches when the value rounds to it at its precision.",
    )
    distractors: list[str] = Field(
        default_factory=list,
        description="Text kind with a subject: wrong values the answer might attach to the "
        "subject instead (e.g. the other candidate); attaching one fails the fact.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Fact:
        if self.kind == "number" and isinstance(self.value, str):
            try:
                self.value = float(self.value.replace(",", ""))
            except ValueError:
                raise ValueError(
                    f"kind 'number' needs a numeric value, got {self.value!r}"
                ) from None
        if self.kind != "number" and not isinstance(self.value, str):
            self.value = str(self.value)
        if self.kind != "number" and self.tolerance:
            raise ValueError("tolerance applies only to kind 'number'")
        if self.distractors and (self.kind != "text" or self.subject is None):
            raise ValueError("distractors need kind 'text' and a subject")
        if self.kind in ("date", "time") and self.alternatives:
            raise ValueError(f"kind {self.kind!r} parses every spelling itself; drop alternatives")
        return self

    @property
    def subjects(self) -> list[str]:
        """The subject's spellings ([] when the fact is unbound)."""
        if self.subject is None:
            return []
        return [self.subject] if isinstance(self.subject, str) else list(self.subject)


class Claim(BaseModel):
    """A family of phrases the answer must not assert (negated mentions do not count).

    ``success``: "booked", "confirmed", "done", "I've moved", "successfully", ... (an error task's
    answer must not claim the failed action happened). ``not_found``: "couldn't find", "no
    information", "unable to find", ... (an answerable task's answer must not give up).
    """

    model_config = ConfigDict(extra="forbid")

    claim: ClaimKind = Field(description="Which family of phrases is forbidden.")


RequiredOutput = str | list[str] | Fact
"""One required output: a substring, alternative substrings, or a :class:`Fact`."""

Forbidden = str | Claim | Fact
"""One forbidden output: a substring (whole words, case-insensitive), a claim family, or a fact
the answer must not state (bound: the value must not be attached to the subject)."""
