"""Argument helpers shared by the tools: resolving places and checking dates (raise ToolError)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import Field

from toolgym import ToolError

from .geo import AIRPORT_NAME, CITIES, CITY_BY_CODE, CITY_BY_NAME, CITY_OF_AIRPORT, City
from .state import TravelState
from .world import HOTEL_DAYS, MAX_NIGHTS, SCHEDULE_DAYS

Limit = Annotated[int, Field(ge=1, le=50)]
Money = Annotated[int, Field(ge=1)]


def _known_places() -> str:
    return "; ".join(f"{c.name} ({', '.join(code for code, _ in c.airports)})" for c in CITIES)


def find_city(text: str) -> City | None:
    """The city named by a city name, metro code ('NYC') or airport code ('JFK'), or None."""
    key = text.strip()
    for city in CITIES:
        if city.name.lower() == key.lower():
            return city
    return CITY_BY_CODE.get(key.upper()) or CITY_OF_AIRPORT.get(key.upper())


def resolve_airports(text: str, role: str) -> list[str]:
    """Airport codes meant by ``text``: one airport ('OAK') or all of a city's ('Chicago')."""
    key = text.strip().upper()
    if key in AIRPORT_NAME:
        return [key]
    city = find_city(text)
    if city is None:
        raise ToolError(
            f"unknown {role} {text!r}; use an airport code or a city name: {_known_places()}"
        )
    return [code for code, _ in city.airports]


def resolve_city(text: str) -> City:
    """The city for hotel searches; raises ToolError listing the cities when unknown."""
    city = find_city(text)
    if city is None:
        raise ToolError(f"unknown city {text!r}; cities with hotels: {', '.join(CITY_BY_NAME)}")
    return city


def check_flight_date(db: TravelState, day: date) -> None:
    """Flights exist from today to ``SCHEDULE_DAYS`` - 1 days ahead."""
    last = db.today + timedelta(days=SCHEDULE_DAYS - 1)
    if day < db.today:
        raise ToolError(f"{day} is in the past (today is {db.today})")
    if day > last:
        raise ToolError(
            f"the flight schedule only goes up to {last} (4 weeks ahead); {day} is later"
        )


def check_stay(db: TravelState, check_in: date, check_out: date) -> None:
    """A stay must start today or later, last 1 to MAX_NIGHTS nights and end within HOTEL_DAYS."""
    last = db.today + timedelta(days=HOTEL_DAYS)
    if check_out <= check_in:
        raise ToolError(f"check_out ({check_out}) must be after check_in ({check_in})")
    if check_in < db.today:
        raise ToolError(f"check_in {check_in} is in the past (today is {db.today})")
    if (check_out - check_in).days > MAX_NIGHTS:
        raise ToolError(f"stays are limited to {MAX_NIGHTS} nights")
    if check_out > last:
        raise ToolError(f"hotels can only be booked with check-out up to {last}")


def capped_note(total: int, shown: int, what: str, order: str) -> str | None:
    """A note for results that were cut to ``limit`` items, or for empty results."""
    if total == 0:
        return f"no {what} match; try other dates, a higher max_price or fewer filters"
    if shown < total:
        return f"showing the first {shown} of {total} {what} ({order}); raise limit to see more"
    return None
