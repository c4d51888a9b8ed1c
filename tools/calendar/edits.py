"""WRITE tools: create, update (move, rename, change attendees) and delete events."""

from __future__ import annotations

import datetime as dt

from toolgym import ToolError, ToolKind, tool

from . import directory
from .results import Deleted, EventView
from .scheduling import check_order
from .state import CalendarState, Clock, Event, clock, minutes


@tool(kind=ToolKind.WRITE)
def create_event(
    db: CalendarState,
    title: str,
    date: dt.date,
    start: Clock,
    end: Clock,
    attendees: list[str],
    location: str = "",
    description: str = "",
    allow_overlap: bool = False,
) -> EventView:
    """Create an event; the user you assist is always added as an attendee.

    Fails when the new event overlaps another event of any attendee, unless allow_overlap is true.

    Args:
        title: Event title.
        date: Date (YYYY-MM-DD).
        start: Start time (HH:MM, 24-hour).
        end: End time (HH:MM, 24-hour), after start on the same date.
        attendees: Other people to invite (emails or full names); [] for a private event.
        location: Where it takes place, e.g. 'Atlas room' or 'Zoom'.
        description: Optional notes.
        allow_overlap: Create it even if an attendee is already busy (only when the user agrees).
    """
    if not title.strip():
        raise ToolError("title is empty; give the event a title")
    check_order(start, end)
    people = directory.emails([*attendees, directory.OWNER.email])
    event = Event(
        id="",
        title=title.strip(),
        date=date,
        start=start,
        end=end,
        attendees=people,
        location=location.strip(),
        description=description.strip(),
    )
    if not allow_overlap:
        refuse_conflicts(db, event, "create")
    event.id = db.new_id()
    db.events[event.id] = event
    return EventView.of(event)


@tool(kind=ToolKind.WRITE)
def update_event(
    db: CalendarState,
    event_id: str,
    title: str | None = None,
    date: dt.date | None = None,
    start: Clock | None = None,
    end: Clock | None = None,
    location: str | None = None,
    description: str | None = None,
    add_attendees: list[str] | None = None,
    remove_attendees: list[str] | None = None,
    allow_overlap: bool = False,
) -> EventView:
    """Change an event: move it, rename it, or change its location, notes or attendees.

    Only the fields you pass change. Moving the start without an end keeps the duration.
    Fails when the new time or a new attendee overlaps another event of any attendee, unless
    allow_overlap is true.

    Args:
        event_id: Id of the event, e.g. 'ev-0012'.
        title: New title.
        date: New date (YYYY-MM-DD).
        start: New start time (HH:MM); without end, the event keeps its length.
        end: New end time (HH:MM).
        location: New location.
        description: New notes.
        add_attendees: People to invite (emails or full names).
        remove_attendees: People to take off the event (emails or full names).
        allow_overlap: Save it even if an attendee is then double-booked (only when the user
            agrees).
    """
    old = db.event(event_id)
    if all(
        v is None
        for v in (title, date, start, end, location, description, add_attendees, remove_attendees)
    ):
        raise ToolError("nothing to change: pass at least one field to update")
    new = old.model_copy(deep=True)
    _retime(new, date, start, end)
    if title is not None:
        if not title.strip():
            raise ToolError("title is empty; give the event a title")
        new.title = title.strip()
    if location is not None:
        new.location = location.strip()
    if description is not None:
        new.description = description.strip()
    new.attendees = _new_attendees(old, add_attendees or [], remove_attendees or [])
    moved = (new.date, new.start, new.end) != (old.date, old.start, old.end)
    if not allow_overlap and (moved or set(new.attendees) - set(old.attendees)):
        refuse_conflicts(db, new, "move" if moved else "update")
    db.events[new.id] = new
    return EventView.of(new)


@tool(kind=ToolKind.WRITE)
def delete_event(db: CalendarState, event_id: str) -> Deleted:
    """Delete (cancel) an event for everyone.

    Args:
        event_id: Id of the event, e.g. 'ev-0012'.
    """
    event = db.event(event_id)
    del db.events[event.id]
    return Deleted(event=EventView.of(event))


def _retime(event: Event, date: dt.date | None, start: dt.time | None, end: dt.time | None) -> None:
    """Apply a new date/start/end; a new start alone keeps the event's length."""
    if date is not None:
        event.date = date
    if start is not None and end is None:
        length = minutes(event.end) - minutes(event.start)
        if minutes(start) + length >= 24 * 60:
            raise ToolError(
                f"starting at {start:%H:%M}, the {length}-minute event would end "
                "after midnight; pass an end time too"
            )
        end = clock(minutes(start) + length)
    if start is not None:
        event.start = start
    if end is not None:
        event.end = end
    check_order(event.start, event.end)


def _new_attendees(event: Event, add: list[str], remove: list[str]) -> list[str]:
    current = set(event.attendees)
    for email in directory.emails(remove) if remove else []:
        if email not in current:
            raise ToolError(
                f"{directory.describe(directory.BY_EMAIL[email])} is not an attendee "
                f"of {event.id}; its attendees are {', '.join(event.attendees)}"
            )
        current.discard(email)
    current.update(directory.emails(add) if add else [])
    if not current:
        raise ToolError(f"{event.id} would have no attendees left; delete it with delete_event")
    return sorted(current)


def refuse_conflicts(db: CalendarState, event: Event, action: str) -> None:
    """Raise a ToolError naming every event that overlaps ``event`` for one of its attendees."""
    clashes = []
    for other in db.chronological(lambda e: e.overlaps(event.date, event.start, event.end)):
        shared = [a for a in other.attendees if a in event.attendees]
        if other.id != event.id and shared:
            names = ", ".join(directory.name_of(a) for a in shared)
            clashes.append(f"{other.id} '{other.title}' {other.when()} ({names})")
    if clashes:
        raise ToolError(
            f"cannot {action} '{event.title}' at {event.when()}: it overlaps "
            + "; ".join(clashes)
            + ". Pick another time (find_free_slots helps) or pass allow_overlap=true if the "
            "user accepts the double-booking."
        )
