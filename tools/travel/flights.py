"""Flight tools: search, details, booking and cancellation."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

from toolgym import ToolError, ToolKind, tool

from .common import Limit, Money, capped_note, check_flight_date, resolve_airports
from .geo import AIRLINE_BY_CODE, CITY_OF_AIRPORT
from .state import (
    Cabin,
    FlightBooking,
    TravelState,
    make_flight_booking,
    seat_key,
    seats_left,
)
from .world import Flight, clock, fare, span

FARE_RULES = (
    "basic_economy: non-refundable, cannot be cancelled; "
    "economy and business: free cancellation with a full refund until the day of departure"
)


class FlightOption(BaseModel):
    """One flight in search results; prices and seats_left are per cabin the flight sells."""

    flight_number: str
    airline: str
    origin: str
    destination: str
    departure: str
    arrival: str
    duration: str
    stops: int
    via: str | None
    prices: dict[str, int]
    seats_left: dict[str, int]


class FlightSearchResult(BaseModel):
    """Matching flights on one date (local times, prices in USD per passenger)."""

    date: dt.date
    flights: list[FlightOption]
    total: int
    note: str | None = None


class FlightDetails(FlightOption):
    """Everything about one dated flight."""

    date: dt.date
    origin_city: str
    destination_city: str
    operates: str
    fare_rules: str


class FlightCancellation(BaseModel):
    """Outcome of a cancelled flight booking."""

    booking_id: str
    status: str
    refund: int


def _option(db: TravelState, f: Flight, day: dt.date) -> FlightOption:
    w = db.world
    return FlightOption(
        flight_number=f.number,
        airline=AIRLINE_BY_CODE[f.airline].name,
        origin=f.origin,
        destination=f.destination,
        departure=clock(f.departure),
        arrival=clock(f.arrival),
        duration=span(f.duration),
        stops=f.stops,
        via=f.via,
        prices={c: fare(w, f, day, c) for c in f.cabins},
        seats_left={c: seats_left(db, f.number, day, c) for c in f.cabins},
    )


def _sort_price(option: FlightOption, cabin: str | None) -> int | None:
    """The fare a search compares: the requested cabin, else the cheapest cabin with seats."""
    if cabin is not None:
        return option.prices[cabin] if option.seats_left.get(cabin, 0) > 0 else None
    open_prices = [p for c, p in option.prices.items() if option.seats_left[c] > 0]
    return min(open_prices) if open_prices else None


_SORT_KEYS = {
    "price": lambda f, p: (p, f.departure, f.number),
    "departure": lambda f, p: (f.departure, p, f.number),
    "arrival": lambda f, p: (f.arrival, p, f.number),
    "duration": lambda f, p: (f.duration, p, f.number),
}


@tool
def search_flights(
    db: TravelState,
    origin: str,
    destination: str,
    date: dt.date,
    cabin: Cabin | None = None,
    max_price: Money | None = None,
    nonstop_only: bool = False,
    sort_by: Literal["price", "departure", "arrival", "duration"] = "price",
    limit: Limit = 10,
) -> FlightSearchResult:
    """Search flights on one date that still have seats for sale.

    With a cabin, only flights with seats left in that cabin are listed and price means that
    cabin's fare; without one, price means the cheapest cabin that still has seats. Ties are
    broken by departure time, then flight number.

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        origin: Airport code ('SFO') or city name ('San Francisco', covers all its airports).
        destination: Airport code ('BOS') or city name ('Boston').
        date: Departure date, YYYY-MM-DD.
        cabin: Only flights selling seats in this cabin.
        max_price: Only fares at or below this many US dollars.
        nonstop_only: Only non-stop flights.
        sort_by: price (lowest first), departure or arrival (earliest first), duration (shortest).
        limit: Most flights to return.
    """
    origins = resolve_airports(origin, "origin")
    destinations = resolve_airports(destination, "destination")
    if CITY_OF_AIRPORT[origins[0]] is CITY_OF_AIRPORT[destinations[0]]:
        raise ToolError("origin and destination are in the same city")
    check_flight_date(db, date)
    scheduled = db.world.flights_between(origins, destinations)
    matches = []
    for f in scheduled:
        if not f.operates(date) or (nonstop_only and f.via) or (cabin and cabin not in f.cabins):
            continue
        option = _option(db, f, date)
        price = _sort_price(option, cabin)
        if price is not None and (max_price is None or price <= max_price):
            matches.append((option, f, price))
    matches.sort(key=lambda m: _SORT_KEYS[sort_by](m[1], m[2]))
    shown = [o for o, _, _ in matches[:limit]]
    note = capped_note(len(matches), len(shown), "flights", f"sorted by {sort_by}")
    return FlightSearchResult(date=date, flights=shown, total=len(matches), note=note)


def find_flight(db: TravelState, flight_number: str, day: dt.date) -> Flight:
    """The flight ``flight_number`` flying on ``day``; raises ToolError otherwise."""
    f = db.world.flights.get(flight_number.strip().upper())
    if f is None:
        raise ToolError(
            f"no flight {flight_number!r} in the schedule; "
            "use search_flights to find flight numbers"
        )
    check_flight_date(db, day)
    if not f.operates(day):
        raise ToolError(f"{f.number} does not fly on {day} (it flies daily except Saturday)")
    return f


@tool
def get_flight(db: TravelState, flight_number: str, date: dt.date) -> FlightDetails:
    """Get details of one flight on one date: times, stops, fares, seats left and fare rules.

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        flight_number: Flight number such as 'CW212' (from search_flights).
        date: Departure date, YYYY-MM-DD.
    """
    f = find_flight(db, flight_number, date)
    option = _option(db, f, date)
    return FlightDetails(
        **option.model_dump(),
        date=date,
        origin_city=CITY_OF_AIRPORT[f.origin].name,
        destination_city=CITY_OF_AIRPORT[f.destination].name,
        operates="daily" if len(f.days) == 7 else "daily except Saturday",
        fare_rules=FARE_RULES,
    )


@tool(kind=ToolKind.WRITE)
def book_flight(
    db: TravelState, flight_number: str, date: dt.date, cabin: Cabin, passenger_name: str
) -> FlightBooking:
    """Book one seat on a flight for one passenger; returns the booking with its id and price.

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        flight_number: Flight number such as 'CW212' (from search_flights).
        date: Departure date, YYYY-MM-DD.
        cabin: Cabin to book.
        passenger_name: Full name of the passenger.
    """
    f = find_flight(db, flight_number, date)
    if not passenger_name.strip():
        raise ToolError("passenger_name must not be empty")
    if cabin not in f.cabins:
        raise ToolError(f"{f.number} has no {cabin} cabin; it sells {', '.join(f.cabins)}")
    if seats_left(db, f.number, date, cabin) <= 0:
        others = [f"{c} ({seats_left(db, f.number, date, c)} left)" for c in f.cabins if c != cabin]
        raise ToolError(
            f"{cabin} on {f.number} on {date} is sold out; other cabins: {', '.join(others)}"
        )
    for b in db.flight_bookings:
        same = b.flight_number == f.number and b.date == date
        if (
            same
            and b.status == "confirmed"
            and b.passenger_name.lower() == passenger_name.strip().lower()
        ):
            raise ToolError(
                f"{b.passenger_name} already holds {b.booking_id} on {f.number} on {date}"
            )
    booking_id = f"BK{len(db.flight_bookings) + 1:04d}"
    booking = make_flight_booking(
        db.world, booking_id, f.number, date, cabin, passenger_name.strip()
    )
    db.flight_bookings.append(booking)
    key = seat_key(f.number, date, cabin)
    db.seats_taken[key] = db.seats_taken.get(key, 0) + 1
    return booking


def find_flight_booking(db: TravelState, booking_id: str) -> FlightBooking:
    """The flight booking ``booking_id``; raises ToolError naming the existing ids."""
    key = booking_id.strip().upper()
    for b in db.flight_bookings:
        if b.booking_id == key:
            return b
    hint = (
        " (hotel bookings are cancelled with cancel_hotel_booking)" if key.startswith("HB") else ""
    )
    known = ", ".join(b.booking_id for b in db.flight_bookings)
    raise ToolError(f"no flight booking {booking_id!r}{hint}; flight bookings: {known}")


@tool(kind=ToolKind.WRITE)
def cancel_flight_booking(db: TravelState, booking_id: str) -> FlightCancellation:
    """Cancel a flight booking and refund it (basic economy fares are non-refundable).

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        booking_id: Flight booking id such as 'BK0002' (see list_bookings).
    """
    b = find_flight_booking(db, booking_id)
    if b.status == "cancelled":
        raise ToolError(f"{b.booking_id} is already cancelled")
    if b.date < db.today:
        raise ToolError(f"{b.booking_id} was for a flight on {b.date} that has already departed")
    if b.cabin == "basic_economy":
        raise ToolError(
            f"{b.booking_id} is a basic economy fare: non-refundable, it cannot be cancelled"
        )
    b.status = "cancelled"
    key = seat_key(b.flight_number, b.date, b.cabin)
    db.seats_taken[key] = db.seats_taken.get(key, 0) - 1
    if db.seats_taken[key] == 0:
        del db.seats_taken[key]
    return FlightCancellation(booking_id=b.booking_id, status=b.status, refund=b.price)
