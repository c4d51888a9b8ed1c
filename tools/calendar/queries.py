"""READ tools that look things up: people, events by date, events by text, one event."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from toolgym import ToolError, tool

from .directory import PEOPLE, matches, name_of, person
from .results import EventList, EventView, date_range, page
from .state import CalendarState, Event, Person


@tool
def find_people(db: CalendarState, query: str) -> list[Person]:
    """Look people up in the company directory by name, email, role or team.

    Returns everyone whose name, email, role or team contains every word of the query
    (case-insensitive), sorted by name. Use it to turn a first name into an email.

    Args:
        query: Words to look for, e.g. 'sarah' or 'backend engineer'.
    """
    if not query.strip():
        raise ToolError("query is empty; give a name, email, role or team")
    found = matches(query)
    if not found:
        everyone = ", ".join(p.name for p in PEOPLE)
        raise ToolError(f"no one in the directory matches {query!r}; the directory has: {everyone}")
    return found


@tool
def list_events(
    db: CalendarState,
    start_date: dt.date,
    end_date: dt.date | None = None,
    attendee: str | None = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
) -> EventList:
    """List the events on a date or in a date range, optionally only those one person attends.

    Events are sorted by date, then start time, then id.

    Args:
        start_date: First date (YYYY-MM-DD).
        end_date: Last date, inclusive (YYYY-MM-DD); omit for just start_date.
        attendee: Email or full name of a person; only events they attend are listed. Omit for
            everyone's events.
        limit: Show at most this many events (the result says when more matched).
    """
    first, last = date_range(start_date, end_date)
    email = person(attendee).email if attendee is not None else None
    events = db.chronological(
        lambda e: first <= e.date <= last and (email is None or email in e.attendees)
    )
    return page(events, limit)


@tool
def search_events(
    db: CalendarState,
    query: str,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
) -> EventList:
    """Search events by text in their title, location, description or attendees' names and emails.

    An event matches when it contains every word of the query (case-insensitive). Results are
    sorted by date, then start time, then id.

    Args:
        query: Words to look for, e.g. 'design review' or 'priya'.
        start_date: Only events on or after this date (YYYY-MM-DD); omit for no lower bound.
        end_date: Only events on or before this date (YYYY-MM-DD); omit for no upper bound.
        limit: Show at most this many events (the result says when more matched).
    """
    words = query.lower().split()
    if not words:
        raise ToolError("query is empty; give words from a title, location or attendee name")
    if start_date is not None and end_date is not None and end_date < start_date:
        raise ToolError(f"end_date {end_date} is before start_date {start_date}")
    events = db.chronological(
        lambda e: (
            (start_date is None or e.date >= start_date)
            and (end_date is None or e.date <= end_date)
            and all(w in _search_text(e) for w in words)
        )
    )
    return page(events, limit)


@tool
def get_event(db: CalendarState, event_id: str) -> EventView:
    """Get one event by its id.

    Args:
        event_id: Event id such as 'ev-0012'.
    """
    return EventView.of(db.event(event_id))


def _search_text(event: Event) -> str:
    people = " ".join(f"{name_of(a)} {a}" for a in event.attendees)
    return f"{event.title} {event.location} {event.description} {people}".lower()
