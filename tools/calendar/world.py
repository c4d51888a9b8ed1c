"""The seeded world: four weeks of realistic meetings around a fixed "today".

Seed 0 is the world the hand-written tasks use: today is Monday 2026-03-02 and the calendar spans
Monday 2026-02-23 to Friday 2026-03-20. Other seeds move "today" to another weekday and shuffle the
days and times of the recurring meetings and which one-off meetings exist. No person is ever
double-booked in a seeded world. Worlds are built once per seed and cached; :func:`make_state`
only validates a copy of the cached data.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass
from typing import Any

from .directory import BY_NAME
from .state import CalendarState, Event, clock, minutes

BASE_TODAY = dt.date(2026, 3, 2)
TEAM = (
    "Alice Chen",
    "Ben Carter",
    "Dan Okafor",
    "Elena Rossi",
    "Marcus Webb",
    "Priya Raman",
    "Yuki Tanaka",
)
WEEKS = 4
"""The calendar covers the week before today's week, today's week and the two weeks after."""


@dataclass(frozen=True)
class Recurring:
    """A meeting repeated every week (or every other week) on one weekday."""

    title: str
    people: tuple[str, ...]
    days: tuple[int, ...]
    """Weekday options (0 = Monday); seed 0 takes the first."""
    starts: tuple[str, ...]
    """Start-time options (HH:MM); seed 0 takes the first."""
    duration: int
    location: str
    weeks: tuple[int, ...] = (0, 1, 2, 3)
    daily: bool = False
    description: str = ""


_ANY_TIME = ("10:00", "11:00", "13:30", "14:00", "15:00", "16:00")
RECURRING: tuple[Recurring, ...] = (
    Recurring("Platform standup", TEAM, (0,), ("09:30", "09:15", "10:00"), 15, "Zoom", daily=True),
    Recurring(
        "Sprint planning",
        TEAM,
        (0, 1),
        ("10:00", "13:00"),
        60,
        "Atlas room",
        (1, 3),
        description="Bring ticket estimates.",
    ),
    Recurring("Sprint retro", TEAM, (4, 3), ("15:00", "14:00"), 60, "Atlas room", (0, 2)),
    Recurring("Team lunch", TEAM, (4, 3), ("12:00", "12:30"), 60, "Cafe Luna"),
    Recurring(
        "1:1 Alice / Dan",
        ("Alice Chen", "Dan Okafor"),
        (1, 0, 2, 3, 4),
        ("14:00", *_ANY_TIME),
        30,
        "Alice's office",
    ),
    Recurring(
        "1:1 Alice / Priya",
        ("Alice Chen", "Priya Raman"),
        (2, 0, 1, 3, 4),
        ("10:00", *_ANY_TIME),
        30,
        "Alice's office",
    ),
    Recurring(
        "1:1 Alice / Marcus",
        ("Alice Chen", "Marcus Webb"),
        (3, 0, 1, 2, 4),
        ("14:00", *_ANY_TIME),
        30,
        "Alice's office",
    ),
    Recurring(
        "1:1 Alice / Ben",
        ("Alice Chen", "Ben Carter"),
        (4, 0, 1, 2, 3),
        ("11:00", *_ANY_TIME),
        30,
        "Alice's office",
    ),
    Recurring(
        "1:1 Tom / Alice",
        ("Tom Becker", "Alice Chen"),
        (0, 1, 2, 3, 4),
        ("16:00", *_ANY_TIME),
        30,
        "Tom's office",
        (0, 2),
    ),
    Recurring(
        "Eng leads",
        ("Tom Becker", "Alice Chen", "Elena Rossi"),
        (1, 2, 3),
        ("11:00", "15:00"),
        60,
        "Tom's office",
    ),
    Recurring(
        "Design review",
        ("Alice Chen", "Sarah Kim", "Sarah Patel", "Marcus Webb"),
        (2, 1, 3),
        ("15:00", "11:00", "16:00"),
        60,
        "Birch room",
        description="Walk through the latest mockups.",
    ),
    Recurring(
        "Product sync",
        ("Alice Chen", "Sarah Patel", "Priya Raman", "Omar Haddad"),
        (3, 1, 2),
        ("11:00", "13:30", "15:00"),
        45,
        "Birch room",
    ),
    Recurring(
        "Sales pipeline review",
        ("Omar Haddad", "Tom Becker"),
        (0, 2, 4),
        ("14:00", "10:00"),
        60,
        "Cedar room",
    ),
    Recurring(
        "Recruiting sync", ("Grace Liu", "Tom Becker"), (2, 1, 3), ("13:30", "10:30"), 30, "Zoom"
    ),
    Recurring(
        "On-call handoff", ("Yuki Tanaka", "Ben Carter"), (0, 4), ("11:30", "16:30"), 30, "Zoom"
    ),
    Recurring(
        "Design crit", ("Sarah Kim", "Marcus Webb"), (1, 3), ("16:00", "10:30"), 60, "Studio"
    ),
)


@dataclass(frozen=True)
class OneOff:
    """A meeting that happens once, at a random time between ``earliest`` and ``latest``."""

    title: str
    people: tuple[str, ...]
    duration: int
    location: str
    earliest: str = "09:00"
    latest: str = "17:00"
    """Latest end time."""


ONE_OFFS: tuple[OneOff, ...] = (
    OneOff(
        "Interview: backend candidate", ("Grace Liu", "Alice Chen", "Ben Carter"), 60, "Cedar room"
    ),
    OneOff(
        "Interview: frontend candidate",
        ("Grace Liu", "Marcus Webb", "Alice Chen"),
        60,
        "Cedar room",
    ),
    OneOff("Customer call: Northwind", ("Omar Haddad", "Priya Raman", "Alice Chen"), 45, "Zoom"),
    OneOff("Customer call: Globex", ("Omar Haddad", "Sarah Patel"), 30, "Zoom"),
    OneOff("Customer call: Initech", ("Omar Haddad", "Alice Chen", "Dan Okafor"), 45, "Zoom"),
    OneOff("Dentist appointment", ("Alice Chen",), 60, "Downtown Dental"),
    OneOff(
        "Architecture review: billing",
        ("Alice Chen", "Dan Okafor", "Ben Carter", "Yuki Tanaka"),
        90,
        "Atlas room",
    ),
    OneOff(
        "Coffee with Sarah Kim", ("Alice Chen", "Sarah Kim"), 30, "Main kitchen", "09:00", "11:30"
    ),
    OneOff(
        "Quarterly planning",
        ("Tom Becker", "Alice Chen", "Sarah Patel", "Omar Haddad"),
        120,
        "Atlas room",
    ),
    OneOff(
        "Incident postmortem",
        ("Yuki Tanaka", "Ben Carter", "Dan Okafor", "Alice Chen", "Elena Rossi"),
        60,
        "Zoom",
    ),
    OneOff("Budget review", ("Tom Becker", "Alice Chen"), 45, "Tom's office"),
    OneOff("Lunch with Priya", ("Alice Chen", "Priya Raman"), 60, "Noodle Bar", "11:30", "14:00"),
    OneOff(
        "Release go/no-go",
        ("Elena Rossi", "Alice Chen", "Yuki Tanaka", "Sarah Patel"),
        30,
        "Birch room",
    ),
    OneOff(
        "Data pipeline deep dive", ("Priya Raman", "Dan Okafor", "Yuki Tanaka"), 60, "Cedar room"
    ),
    OneOff("Mentoring: Marcus", ("Elena Rossi", "Marcus Webb"), 30, "Main kitchen"),
    OneOff("Offsite planning", ("Tom Becker", "Grace Liu", "Alice Chen"), 60, "Cedar room"),
    OneOff(
        "Security training",
        ("Ben Carter", "Dan Okafor", "Marcus Webb", "Priya Raman", "Yuki Tanaka"),
        90,
        "Training room",
    ),
    OneOff("Hiring debrief", ("Grace Liu", "Alice Chen", "Tom Becker"), 30, "Zoom"),
    OneOff("Doctor appointment", ("Dan Okafor",), 60, "City Clinic"),
    OneOff("Roadmap review", ("Sarah Patel", "Sarah Kim", "Tom Becker"), 60, "Birch room"),
)
ONE_OFFS_PER_WORLD = 14


@dataclass(frozen=True)
class World:
    """A built world: its dates and the canonical data of its initial state."""

    seed: int
    today: dt.date
    first_day: dt.date
    """Monday of the week before today's week (the calendar's first day)."""
    state_data: dict[str, Any]

    @property
    def last_day(self) -> dt.date:
        """Friday of the last week the calendar covers."""
        return self.first_day + dt.timedelta(days=7 * (WEEKS - 1) + 4)


def make_state(seed: int = 0) -> CalendarState:
    """A fresh copy of the seeded world's state (cheap: validates cached data)."""
    return CalendarState.model_validate(world(seed).state_data)


@functools.lru_cache(maxsize=256)
def world(seed: int) -> World:
    """Build (once per seed) the world of ``seed``."""
    rng = random.Random(seed)
    today = BASE_TODAY
    if seed != 0:
        today += dt.timedelta(weeks=rng.randrange(-12, 40), days=rng.randrange(5))
    first_day = today - dt.timedelta(days=today.weekday() + 7)
    placed: list[Event] = []
    for meeting in RECURRING:
        _place_recurring(meeting, first_day, seed, rng, placed)
    for meeting in rng.sample(ONE_OFFS, ONE_OFFS_PER_WORLD):
        _place_one_off(meeting, first_day, rng, placed)
    placed.sort(key=lambda e: (e.date, e.start, e.title))
    events = {}
    for number, event in enumerate(placed, start=1):
        event.id = f"ev-{number:04d}"
        events[event.id] = event
    state = CalendarState(seed=seed, events=events, next_id=len(placed) + 1)
    return World(seed, today, first_day, state.model_dump())


def _place_recurring(
    meeting: Recurring, first_day: dt.date, seed: int, rng: random.Random, placed: list[Event]
) -> None:
    """Place every occurrence; other seeds than 0 try their option pairs in a random order."""
    options = [(d, s) for d in meeting.days for s in meeting.starts]
    if seed != 0:
        rng.shuffle(options)
    for day, start in options:
        occurrences = [
            _event(
                meeting.title,
                meeting.people,
                date,
                start,
                meeting.duration,
                meeting.location,
                meeting.description,
            )
            for date in _dates(meeting, day, first_day)
        ]
        if all(_fits(e, placed) for e in occurrences):
            placed.extend(occurrences)
            return


def _dates(meeting: Recurring, day: int, first_day: dt.date) -> list[dt.date]:
    days = range(5) if meeting.daily else (day,)
    return [first_day + dt.timedelta(days=7 * w + d) for w in meeting.weeks for d in days]


def _place_one_off(
    meeting: OneOff, first_day: dt.date, rng: random.Random, placed: list[Event]
) -> None:
    earliest = minutes(dt.time.fromisoformat(meeting.earliest))
    latest_start = minutes(dt.time.fromisoformat(meeting.latest)) - meeting.duration
    for _ in range(30):
        date = first_day + dt.timedelta(days=7 * rng.randrange(WEEKS) + rng.randrange(5))
        start = clock(earliest + 15 * rng.randrange((latest_start - earliest) // 15 + 1))
        event = _event(
            meeting.title,
            meeting.people,
            date,
            f"{start:%H:%M}",
            meeting.duration,
            meeting.location,
            "",
        )
        if _fits(event, placed):
            placed.append(event)
            return


def _event(
    title: str,
    people: tuple[str, ...],
    date: dt.date,
    start: str,
    duration: int,
    location: str,
    description: str,
) -> Event:
    begin = dt.time.fromisoformat(start)
    attendees = sorted(BY_NAME[name.lower()].email for name in people)
    return Event(
        id="",
        title=title,
        date=date,
        start=begin,
        end=clock(minutes(begin) + duration),
        attendees=attendees,
        location=location,
        description=description,
    )


def _fits(event: Event, placed: list[Event]) -> bool:
    """Whether none of the event's attendees is busy at its time."""
    return not any(
        other.overlaps(event.date, event.start, event.end)
        and not set(event.attendees).isdisjoint(other.attendees)
        for other in placed
    )
