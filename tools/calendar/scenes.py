"""Building blocks of generated tasks: a scene over one world, phrases for dates and times.

A :class:`Scene` runs gold calls on its own copy of a seeded world as a template adds them, so the
template can read real results (ids, free slots, conflicts) and phrase the answer from them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from toolgym import HiddenFact, Task, Tool, ToolCall, ToolError, UserProfile

from .directory import OWNER, PEOPLE
from .edits import create_event, delete_event, update_event
from .queries import find_people, get_event, list_events, search_events
from .scheduling import check_availability, find_free_slots
from .state import CalendarState, clock, minutes
from .world import make_state, world

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        find_people,
        list_events,
        search_events,
        get_event,
        check_availability,
        find_free_slots,
        create_event,
        update_event,
        delete_event,
    )
}
ME = OWNER.email
COLLEAGUES = [p for p in PEOPLE if p is not OWNER]
UNIQUE_FIRST = [p for p in COLLEAGUES if not p.name.startswith("Sarah ")]
ROOMS = ("Atlas room", "Birch room", "Cedar room", "Zoom", "Main kitchen", "Alice's office")
NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


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
                results.append(TOOLS[name].run(self.state, arguments))
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


def time_forms(t: dt.time | str) -> list[str]:
    """Ways an answer may write a time: '14:00', '2:00 pm', '2 pm', '2:00pm', '2pm'."""
    value = dt.time.fromisoformat(t) if isinstance(t, str) else t
    hour12 = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    forms = [f"{value:%H:%M}", f"{hour12}:{value:%M} {suffix}", f"{hour12}:{value:%M}{suffix}"]
    if value.minute == 0:
        forms += [f"{hour12} {suffix}", f"{hour12}{suffix}"]
    return forms


def date_forms(day: dt.date | str) -> list[str]:
    """Ways an answer may write a date: '2026-03-05', 'March 5', '5 March'."""
    value = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return [value.isoformat(), f"{value:%B} {value.day}", f"{value.day} {value:%B}"]


def count_forms(n: int) -> list[str]:
    """'3' or 'three'."""
    return [str(n)] + ([NUMBER_WORDS[n]] if n < len(NUMBER_WORDS) else [])


def first_name(name: str) -> str:
    """'Dan' from 'Dan Okafor'."""
    return name.split()[0]


def shift(t: dt.time, by_minutes: int) -> dt.time:
    """``t`` moved by ``by_minutes``."""
    return clock(minutes(t) + by_minutes)


@dataclass
class Draft:
    """What a template produces besides the scene's steps."""

    instruction: str
    required: list[str | list[str]]
    answer: str
    categories: list[str]
    hidden: list[HiddenFact] = field(default_factory=list)


def signature(scene: Scene, draft: Draft) -> str:
    """Content key of a task: its instruction and gold calls (decides the split).

    The world is left out on purpose: the same request with the same gold calls in another world
    counts as the same task, so it never lands in both splits.
    """
    calls = [[c.model_dump() for c in step] for step in scene.steps]
    return json.dumps([draft.instruction, calls], sort_keys=True)


def split_of(key: str) -> str:
    """'test' for one key in five (by a stable hash), else 'train'."""
    return "test" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 5 == 0 else "train"


def to_task(scene: Scene, draft: Draft, task_id: str) -> Task:
    """The finished task."""
    return Task(
        id=task_id,
        suite="calendar",
        instruction=draft.instruction,
        context=scene.context(),
        user=UserProfile(name=OWNER.name, hidden=draft.hidden),
        world_seed=scene.world_seed,
        gold_calls=scene.steps,
        required_outputs=draft.required,
        gold_answer=draft.answer,
        categories=draft.categories,  # type: ignore[arg-type]
    )
