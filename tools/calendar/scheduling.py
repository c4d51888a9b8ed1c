"""READ tools that reason about time: one person's availability, common free slots."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from toolgym import ToolError, tool

from . import directory
from .results import Availability, EventView, Slot, SlotList, date_range
from .state import CalendarState, Clock, clock, minutes

MAX_SLOT_DAYS = 31


@tool
def check_availability(
    db: CalendarState, person: str, date: dt.date, start: Clock, end: Clock
) -> Availability:
    """Check whether a person is free over a time window and list their conflicting events.

    Args:
        person: The person's email or full name, e.g. 'dan.okafor@example.com'.
        date: The date (YYYY-MM-DD).
        start: Start of the window (HH:MM, 24-hour).
        end: End of the window (HH:MM, 24-hour), after start.
    """
    check_order(start, end)
    who = directory.person(person)
    conflicts = db.busy(who.email, date, start, end)
    return Availability(
        name=who.name,
        email=who.email,
        date=date,
        start=start,
        end=end,
        free=not conflicts,
        conflicts=[EventView.of(e) for e in conflicts],
    )


@tool
def find_free_slots(
    db: CalendarState,
    people: list[str],
    start_date: dt.date,
    duration_minutes: Annotated[int, Field(ge=5, le=720)],
    end_date: dt.date | None = None,
    earliest_start: Annotated[Clock, Field(validate_default=True)] = "09:00",
    latest_end: Annotated[Clock, Field(validate_default=True)] = "17:00",
    count: Annotated[int, Field(ge=1, le=20)] = 3,
    include_weekends: bool = False,
    ignore_event_id: str | None = None,
) -> SlotList:
    """Find the earliest times when all the given people are free for a meeting.

    Each day is searched between earliest_start and latest_end (working hours by default).
    Within every free gap, slots of exactly duration_minutes are laid back to back from the
    start of the gap. Returns the earliest `count` slots, earliest first.

    Args:
        people: Everyone who must be free (emails or full names); include the user if they
            attend.
        start_date: First date to search (YYYY-MM-DD).
        duration_minutes: Length of the meeting in minutes.
        end_date: Last date to search, inclusive (YYYY-MM-DD); omit to search only start_date.
        earliest_start: Earliest start time each day (HH:MM), default 09:00.
        latest_end: Latest end time each day (HH:MM), default 17:00.
        count: How many slots to return at most.
        include_weekends: Also search Saturdays and Sundays.
        ignore_event_id: An event to treat as free time, e.g. the meeting you are about to move.
    """
    if not people:
        raise ToolError("people is empty; list everyone who must be free")
    check_order(earliest_start, latest_end)
    first, last = date_range(start_date, end_date)
    if (last - first).days >= MAX_SLOT_DAYS:
        raise ToolError(f"search at most {MAX_SLOT_DAYS} days at a time")
    if ignore_event_id is not None:
        db.event(ignore_event_id)
    who = directory.emails(people)
    slots: list[Slot] = []
    day = first
    while day <= last and len(slots) < count:
        if include_weekends or day.weekday() < 5:
            slots += _day_slots(
                db, who, day, earliest_start, latest_end, duration_minutes, ignore_event_id
            )
        day += dt.timedelta(days=1)
    note = None
    if len(slots) < count:
        note = (
            f"only {len(slots)} of {count} requested slots found; widen the dates or the "
            "hours, or shorten the meeting"
        )
    names = [directory.name_of(email) for email in who]
    return SlotList(people=names, slots=slots[:count], note=note)


def _day_slots(
    db: CalendarState,
    who: list[str],
    day: dt.date,
    earliest: dt.time,
    latest: dt.time,
    duration: int,
    ignore: str | None,
) -> list[Slot]:
    """Back-to-back slots of ``duration`` minutes in the free gaps of one day."""
    busy = sorted(
        (minutes(e.start), minutes(e.end))
        for e in db.events.values()
        if e.date == day and e.id != ignore and not set(who).isdisjoint(e.attendees)
    )
    slots = []
    cursor, stop = minutes(earliest), minutes(latest)
    for busy_start, busy_end in [*busy, (stop, stop)]:
        while cursor + duration <= min(busy_start, stop):
            slots.append(Slot(date=day, start=clock(cursor), end=clock(cursor + duration)))
            cursor += duration
        cursor = max(cursor, busy_end)
    return slots


def check_order(start: dt.time, end: dt.time) -> None:
    """Raise a ToolError unless ``start`` is before ``end``."""
    if end <= start:
        raise ToolError(f"end {end:%H:%M} must be after start {start:%H:%M} (same day, 24-hour)")
