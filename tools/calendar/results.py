"""What the tools return (pydantic models the agent reads as JSON) and shared argument helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

from toolgym import ToolError

from .directory import name_of
from .state import Clock, Event

MAX_RANGE_DAYS = 62


class EventView(BaseModel):
    """An event as the agent sees it: attendees by full name, no empty description."""

    id: str
    title: str
    date: dt.date
    start: Clock
    end: Clock
    attendees: list[str]
    location: str
    description: str | None = None

    @classmethod
    def of(cls, event: Event) -> EventView:
        """The view of a stored event."""
        return cls(
            id=event.id,
            title=event.title,
            date=event.date,
            start=event.start,
            end=event.end,
            attendees=[name_of(a) for a in event.attendees],
            location=event.location,
            description=event.description or None,
        )

    @model_serializer(mode="wrap")
    def _drop_missing_description(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if data.get("description") is None:
            data.pop("description", None)
        return data


class EventList(BaseModel):
    """Events in chronological order (date, start, id), at most ``limit`` of them."""

    total: int
    """How many events matched (before the limit)."""
    truncated: bool
    """True when only the first ``limit`` matches are shown."""
    events: list[EventView]


class Availability(BaseModel):
    """Whether one person is free over a time window, and what makes them busy."""

    name: str
    email: str
    date: dt.date
    start: Clock
    end: Clock
    free: bool
    conflicts: list[EventView]
    """Their events overlapping the window, earliest first (empty when free)."""


class Slot(BaseModel):
    """A time when everyone asked about is free."""

    date: dt.date
    start: Clock
    end: Clock


class SlotList(BaseModel):
    """The earliest free slots, earliest first."""

    people: list[str]
    """Names of everyone who must be free."""
    slots: list[Slot]
    note: str | None = None
    """Set when fewer slots than requested were found."""


class Deleted(BaseModel):
    """Confirmation of a deleted event."""

    status: str = "deleted"
    event: EventView


def date_range(start_date: dt.date, end_date: dt.date | None) -> tuple[dt.date, dt.date]:
    """The inclusive range ``start_date..end_date`` (one day when ``end_date`` is omitted)."""
    end_date = end_date or start_date
    if end_date < start_date:
        raise ToolError(f"end_date {end_date} is before start_date {start_date}")
    if (end_date - start_date).days >= MAX_RANGE_DAYS:
        raise ToolError(
            f"date range {start_date}..{end_date} is too long; "
            f"ask for at most {MAX_RANGE_DAYS} days at a time"
        )
    return start_date, end_date


def page(events: list[Event], limit: int) -> EventList:
    """The first ``limit`` of ``events`` (already sorted), with the total count."""
    shown = [EventView.of(e) for e in events[:limit]]
    return EventList(total=len(events), truncated=len(events) > limit, events=shown)
