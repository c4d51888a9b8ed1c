"""What a suite tells the reward audit about itself: how to undo a call, how to respell one.

A suite may ship ``tools/<suite>/audit.py`` defining ``kit = AuditKit(...)``; the reward audit
(``bench/reward_audit.py``) uses it to build "a write undone" (a wrong trajectory) and "the same
call spelled another way" (a correct one). Everything else the audit needs (harmless READs,
harmful WRITEs, wrong record ids, orders, answer variants) it derives from the tasks themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from toolgym.suite import CallOutcome
from toolgym.tooling import ToolCall

Undo = Callable[[ToolCall, CallOutcome, Any], ToolCall | None]
"""``(call, outcome, state_before) -> a call that reverses it`` (None when there is none)."""

Respell = Callable[[ToolCall, Any], ToolCall | None]
"""``(call, state) -> an equivalent call with other arguments`` (None when there is none)."""


@dataclass(frozen=True)
class AuditKit:
    """A suite's audit hooks (either may be None).

    Attributes:
        undo: Reverses a successful WRITE call: ``create_event`` -> ``delete_event`` of the new
            id, ``book_flight`` -> ``cancel_flight_booking``, an edit -> the reverse edit.
        respell: The same call in another spelling the schema allows, with the same effect or
            result: a full name for an email, a city for its airport code, ``./a.txt`` for
            ``a.txt``.
    """

    undo: Undo | None = None
    respell: Respell | None = None
