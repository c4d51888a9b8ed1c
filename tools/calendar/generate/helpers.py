"""Building blocks of generated tasks: a scene over one world, phrases for dates and times.

A :class:`Scene` runs gold calls on its own copy of a seeded world as a template adds them, so the
template can read real results (ids, free slots, conflicts) and phrase the answer from them.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass, field
from typing import Any

from toolgym import ToolCall, ToolError
from toolgym.answers.model import Claim, Fact

from ..catalog import TOOLS_BY_NAME
from ..directory import OWNER, PEOPLE
from ..state import CalendarState, clock, minutes
from ..world import make_state, world

ME = OWNER.email
COLLEAGUES = [p for p in PEOPLE if p is not OWNER]
UNIQUE_FIRST = [p for p in COLLEAGUES if not p.name.startswith("Sarah ")]
ROOMS = ("Atlas room", "Birch room", "Cedar room", "Zoom", "Main kitchen", "Alice's office")


class UnexpectedError(RuntimeError):
    """A gold call failed although the template expected it to succeed."""


class Skip(Exception):
    """The drawn parameters do not make a good task; draw again."""


@dataclass
class Scene:
    """One draft task over the world of ``world_seed``: its gold steps and the state they reach."""

    world_seed: int
    rng: random.Random
    steps: list[list[ToolCall]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.world = world(self.world_seed)
        self.today = self.world.today
        self.state = _shared_state(self.world_seed)
        self.owns_state = False

    def step(self, *calls: tuple[str, dict[str, Any]], fails: bool = False) -> list[Any]:
        """Run one assistant turn of gold calls; return their results (or error messages).

        With ``fails`` every call of the step must fail (else the draft is skipped).
        """
        self.steps.append([ToolCall(name=name, arguments=args) for name, args in calls])
        results = []
        for name, arguments in calls:
            if name in WRITES and not self.owns_state:
                # Scenes start on the shared cached world; copy it before the first write.
                self.state, self.owns_state = self.state.model_copy(deep=True), True
            try:  # the calendar's tools change nothing when they raise
                results.append(TOOLS_BY_NAME[name].run(self.state, arguments))
            except ToolError as exc:
                if not fails:
                    raise UnexpectedError(f"{name}({arguments}): {exc}") from exc
                results.append(str(exc))
                continue
            if fails:
                raise Skip
        return results

    def one(self, name: str, fails: bool = False, **arguments: Any) -> Any:
        """Run a single gold call as its own step and return its result."""
        return self.step((name, arguments), fails=fails)[0]

    # --- dates --------------------------------------------------------------------------
    def upcoming(self) -> list[dt.date]:
        """Weekdays from today to the calendar's last day."""
        days = (self.today + dt.timedelta(days=i) for i in range(30))
        return [d for d in days if d.weekday() < 5 and d <= self.world.last_day]

    def future_day(self) -> dt.date:
        """A random weekday after today (within the calendar)."""
        return self.rng.choice(self.upcoming()[1:])

    def week(self, offset: int) -> tuple[dt.date, dt.date]:
        """Monday and Friday of the week ``offset`` weeks after the current one."""
        monday = self.today - dt.timedelta(days=self.today.weekday()) + dt.timedelta(weeks=offset)
        return monday, monday + dt.timedelta(days=4)

    def day_phrase(self, day: dt.date) -> str:
        """'tomorrow', 'Thursday next week', 'on 2026-03-05', ... (always unambiguous)."""
        delta = (day - self.today).days
        options = [f"on {day:%A} {day.isoformat()}", f"on {day.isoformat()}"]
        if delta == 0:
            options.append("today")
        elif delta == 1:
            options.append("tomorrow")
        monday = self.week(0)[0]
        if 0 < delta and day < monday + dt.timedelta(days=7):
            options.append(f"this {day:%A}")
        elif monday + dt.timedelta(days=7) <= day < monday + dt.timedelta(days=14):
            options.append(f"on {day:%A} next week")
        return self.rng.choice(options)

    def context(self) -> str:
        """The per-task system context: today's date and who the user is."""
        return (
            f"Today is {self.today:%A} {self.today.isoformat()}. You are assisting "
            f"{OWNER.name} ({OWNER.email})."
        )

    def pick_window(self, lengths: tuple[int, ...] = (30, 45, 60)) -> tuple[dt.time, dt.time]:
        """A start/end pair on the quarter hour inside working hours."""
        length = self.rng.choice(lengths)
        start = 9 * 60 + 15 * self.rng.randrange((8 * 60 - length) // 15 + 1)
        return clock(start), clock(start + length)


WRITES = {"create_event", "update_event", "delete_event"}


@functools.lru_cache(maxsize=256)
def _shared_state(world_seed: int) -> CalendarState:
    """One read-only state per world, shared by the scenes (WRITE calls run on copies)."""
    return make_state(world_seed)


def hhmm(t: dt.time | str) -> str:
    """'14:00'."""
    return t if isinstance(t, str) else f"{t:%H:%M}"


# --- facts the answers must state -------------------------------------------------------
SUCCESS = Claim(claim="success")
"""Forbidden on error tasks: the answer must not claim the refused action happened."""
NOT_FOUND = Claim(claim="not_found")
"""Forbidden on answerable questions: the answer must not give up."""
FREE = ("free", "available")
BUSY = (
    "busy",
    "not free",
    "isn't free",
    "not available",
    "isn't available",
    "unavailable",
    "booked",
    "in a meeting",
    "has a conflict",
)


def time_fact(t: dt.time | str) -> Fact:
    """A time the answer must state ('14:00', '2 pm', ... all state 14:00)."""
    return Fact(value=hhmm(t), kind="time")


def date_fact(day: dt.date | str) -> Fact:
    """A date the answer must state ('2026-03-05', 'March 5', ...)."""
    return Fact(value=day if isinstance(day, str) else day.isoformat(), kind="date")


def number_fact(n: int) -> Fact:
    """A count the answer must state ('3', 'three')."""
    return Fact(value=n, kind="number")


def id_fact(event_id: str) -> Fact:
    """An event id the answer must state (a created one is mapped onto the episode's)."""
    return Fact(value=event_id, kind="id")


def title_fact(title: str) -> Fact:
    """An event title the answer must state; a 1:1 may be named by the other person."""
    alternatives = []
    if title.startswith("1:1 "):
        other = next(n for n in title[4:].split(" / ") if n != first_name(OWNER.name))
        full = next((p.name for p in PEOPLE if first_name(p.name) == other), other)
        alternatives = [f"1:1 with {other}", f"1:1 with {full}"]
    elif title == "Platform standup":
        alternatives = ["standup"]
    return Fact(value=title, alternatives=alternatives)


def availability_fact(free: bool, subject: list[str] | None = None) -> Fact:
    """'free' or 'busy' (denied spellings count as the other), bound to a person if given."""
    value, *alternatives = FREE if free else BUSY
    distractors = list(BUSY if free else FREE) if subject else []
    return Fact(value=value, alternatives=alternatives, subject=subject, distractors=distractors)


def first_name(name: str) -> str:
    """'Dan' from 'Dan Okafor'."""
    return name.split()[0]


def shift(t: dt.time, by_minutes: int) -> dt.time:
    """``t`` moved by ``by_minutes``."""
    return clock(minutes(t) + by_minutes)
