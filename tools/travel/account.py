"""Account tools: the traveller's profile, their bookings, and the airports served."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from toolgym import ToolError, tool

from .common import find_city
from .geo import CITIES
from .state import FlightBooking, HotelBooking, Traveller, TravelState


class Airport(BaseModel):
    """An airport served by this service."""

    code: str
    name: str
    city: str


class BookingList(BaseModel):
    """The traveller's flight and hotel bookings, each list in date order."""

    flights: list[FlightBooking]
    hotels: list[HotelBooking]


@tool
def get_traveller_profile(db: TravelState) -> Traveller:
    """Get the traveller's profile: name, email, home airport, preferred cabin and hotel budget."""
    return db.traveller


@tool
def list_airports(db: TravelState, city: str | None = None) -> list[Airport]:
    """List the airports this service flies to (sorted by city, then code).

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        city: Only the airports of this city, e.g. 'Chicago'.
    """
    cities = CITIES
    if city is not None:
        match = find_city(city)
        if match is None:
            raise ToolError(
                f"no airport serves {city!r}; cities: {', '.join(c.name for c in CITIES)}"
            )
        cities = (match,)
    return [Airport(code=code, name=name, city=c.name) for c in cities for code, name in c.airports]


@tool
def list_bookings(
    db: TravelState, status: Literal["all", "confirmed", "cancelled"] = "all"
) -> BookingList:
    """List the traveller's flight and hotel bookings, ordered by date, then booking id.

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        status: Only bookings with this status.
    """
    keep = ("confirmed", "cancelled") if status == "all" else (status,)
    flights = sorted(
        (b for b in db.flight_bookings if b.status in keep), key=lambda b: (b.date, b.booking_id)
    )
    hotels = sorted(
        (b for b in db.hotel_bookings if b.status in keep), key=lambda b: (b.check_in, b.booking_id)
    )
    return BookingList(flights=flights, hotels=hotels)
