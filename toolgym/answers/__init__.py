"""Rule-based checks of a final answer: required facts and forbidden outputs.

:func:`check_answer` checks an answer against a task's ``required_outputs`` and ``forbidden``
items (data model in :mod:`toolgym.answers.model`); :func:`output_holds` checks one required item.
"""

from __future__ import annotations

from toolgym.answers.check import AnswerCheck, check_answer, output_holds
from toolgym.answers.claims import find_claim
from toolgym.answers.mentions import AnswerText, find_dates, find_times
from toolgym.answers.model import Claim, Fact, Forbidden, RequiredOutput
from toolgym.answers.numbers import Number, find_numbers, number_matches
from toolgym.answers.text import normalize, segments

__all__ = [
    "AnswerCheck",
    "AnswerText",
    "Claim",
    "Fact",
    "Forbidden",
    "Number",
    "RequiredOutput",
    "check_answer",
    "find_claim",
    "find_dates",
    "find_numbers",
    "find_times",
    "normalize",
    "number_matches",
    "output_holds",
    "segments",
]
