"""Hotel tools: search, details, booking and cancellation."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

from toolgym import ToolError, ToolKind, tool

from .common import Limit, Money, capped_note, check_stay, resolve_city
from .state import (
    HotelBooking,
    RoomType,
    TravelState,
    make_hotel_booking,
    nights,
    room_key,
    rooms_left,
)
from .world import Hotel

CANCELLATION_POLICY = "free cancellation with a full refund until the day before check-in"


class HotelOption(BaseModel):
    """One hotel in search results: room types free on every night of the stay, with prices."""

    hotel_id: str
    name: str
    area: str
    near: list[str]
    stars: int
    rating: float
    prices_per_night: dict[str, int]
    rooms_left: dict[str, int]


class HotelSearchResult(BaseModel):
    """Hotels with rooms for the whole stay (prices in USD per room per night)."""

    city: str
    check_in: dt.date
    check_out: dt.date
    nights: int
    hotels: list[HotelOption]
    total: int
    note: str | None = None


class HotelDetails(BaseModel):
    """Everything about one hotel."""

    hotel_id: str
    name: str
    city: str
    area: str
    near: list[str]
    stars: int
    rating: float
    amenities: list[str]
    prices_per_night: dict[str, int]
    cancellation_policy: str


class HotelCancellation(BaseModel):
    """Outcome of a cancelled hotel booking."""

    booking_id: str
    status: str
    refund: int


def _option(db: TravelState, h: Hotel, stay: list[dt.date], max_price: int | None) -> HotelOption:
    left = {room: min(rooms_left(db, h.hotel_id, n, room) for n in stay) for room, _ in h.prices}
    prices = {
        room: price
        for room, price in h.prices
        if left[room] > 0 and (max_price is None or price <= max_price)
    }
    return HotelOption(
        hotel_id=h.hotel_id,
        name=h.name,
        area=h.area,
        near=list(h.near),
        stars=h.stars,
        rating=h.rating,
        prices_per_night=prices,
        rooms_left={r: left[r] for r in prices},
    )


@tool
def search_hotels(
    db: TravelState,
    city: str,
    check_in: dt.date,
    check_out: dt.date,
    area: str | None = None,
    max_price: Money | None = None,
    sort_by: Literal["price", "rating"] = "price",
    limit: Limit = 10,
) -> HotelSearchResult:
    """Search hotels in a city with a room free for every night of a stay.

    Only room types free on every night (and within max_price) are listed. sort_by price orders
    by the cheapest listed room, lowest first; rating orders highest first. Ties: the other key,
    then hotel id.

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        city: City name such as 'Boston' (or one of its airport codes).
        check_in: Arrival date, YYYY-MM-DD.
        check_out: Departure date, YYYY-MM-DD (the last night is the day before).
        area: Only hotels in this neighbourhood of the city, e.g. 'Seaport'.
        max_price: Only rooms at or below this many US dollars per night.
        sort_by: price (cheapest first) or rating (best first).
        limit: Most hotels to return.
    """
    place = resolve_city(city)
    check_stay(db, check_in, check_out)
    hotels = db.world.hotels_in(place.name)
    if area is not None:
        areas = {a.name.lower(): a.name for a in place.areas}
        if area.strip().lower() not in areas:
            known = "; ".join(f"{a.name} (near {', '.join(a.near)})" for a in place.areas)
            raise ToolError(f"{place.name} has no area {area!r}; its areas: {known}")
        hotels = [h for h in hotels if h.area == areas[area.strip().lower()]]
    stay = nights(check_in, check_out)
    options = [o for o in (_option(db, h, stay, max_price) for h in hotels) if o.prices_per_night]
    if sort_by == "price":
        options.sort(key=lambda o: (min(o.prices_per_night.values()), -o.rating, o.hotel_id))
    else:
        options.sort(key=lambda o: (-o.rating, min(o.prices_per_night.values()), o.hotel_id))
    shown = options[:limit]
    return HotelSearchResult(
        city=place.name,
        check_in=check_in,
        check_out=check_out,
        nights=len(stay),
        hotels=shown,
        total=len(options),
        note=capped_note(len(options), len(shown), "hotels", f"sorted by {sort_by}"),
    )


def find_hotel(db: TravelState, hotel_id: str) -> Hotel:
    """The hotel ``hotel_id``; raises ToolError otherwise."""
    h = db.world.hotels.get(hotel_id.strip().upper())
    if h is None:
        raise ToolError(
            f"no hotel {hotel_id!r}; use search_hotels to find hotel ids such as 'H-BOS-1'"
        )
    return h


@tool
def get_hotel(db: TravelState, hotel_id: str) -> HotelDetails:
    """Get details of one hotel: area, landmarks nearby, rating, amenities and nightly prices.

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        hotel_id: Hotel id such as 'H-BOS-2' (from search_hotels).
    """
    h = find_hotel(db, hotel_id)
    return HotelDetails(
        hotel_id=h.hotel_id,
        name=h.name,
        city=h.city,
        area=h.area,
        near=list(h.near),
        stars=h.stars,
        rating=h.rating,
        amenities=list(h.amenities),
        prices_per_night=dict(h.prices),
        cancellation_policy=CANCELLATION_POLICY,
    )


@tool(kind=ToolKind.WRITE)
def book_hotel(
    db: TravelState,
    hotel_id: str,
    check_in: dt.date,
    check_out: dt.date,
    room_type: RoomType,
    guest_name: str,
) -> HotelBooking:
    """Book one hotel room for a stay; returns the booking with its id and total price.

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        hotel_id: Hotel id such as 'H-BOS-2' (from search_hotels).
        check_in: Arrival date, YYYY-MM-DD.
        check_out: Departure date, YYYY-MM-DD.
        room_type: Room type to book.
        guest_name: Full name of the guest.
    """
    h = find_hotel(db, hotel_id)
    check_stay(db, check_in, check_out)
    if not guest_name.strip():
        raise ToolError("guest_name must not be empty")
    if h.price(room_type) is None:
        offered = ", ".join(room for room, _ in h.prices)
        raise ToolError(f"{h.name} ({h.hotel_id}) has no {room_type} rooms; it offers {offered}")
    stay = nights(check_in, check_out)
    full = [n for n in stay if rooms_left(db, h.hotel_id, n, room_type) <= 0]
    if full:
        raise ToolError(
            f"no {room_type} room free at {h.hotel_id} on the night(s) of "
            f"{', '.join(map(str, full))}"
        )
    for b in db.hotel_bookings:
        overlap = b.check_in < check_out and check_in < b.check_out
        same_guest = b.guest_name.lower() == guest_name.strip().lower()
        if b.status == "confirmed" and b.hotel_id == h.hotel_id and overlap and same_guest:
            raise ToolError(
                f"{b.guest_name} already has {b.booking_id} at {h.hotel_id} for overlapping dates"
            )
    booking_id = f"HB{len(db.hotel_bookings) + 1:04d}"
    booking = make_hotel_booking(
        db.world, booking_id, h.hotel_id, check_in, check_out, room_type, guest_name.strip()
    )
    db.hotel_bookings.append(booking)
    for n in stay:
        key = room_key(h.hotel_id, n, room_type)
        db.rooms_taken[key] = db.rooms_taken.get(key, 0) + 1
    return booking


@tool(kind=ToolKind.WRITE)
def cancel_hotel_booking(db: TravelState, booking_id: str) -> HotelCancellation:
    """Cancel a hotel booking with a full refund (possible until the day before check-in).

    Args:
        db: The travel state (supplied by the environment, not by the agent).
        booking_id: Hotel booking id such as 'HB0001' (see list_bookings).
    """
    key = booking_id.strip().upper()
    b = next((b for b in db.hotel_bookings if b.booking_id == key), None)
    if b is None:
        hint = (
            " (flight bookings are cancelled with cancel_flight_booking)"
            if key.startswith("BK")
            else ""
        )
        known = ", ".join(b.booking_id for b in db.hotel_bookings)
        raise ToolError(f"no hotel booking {booking_id!r}{hint}; hotel bookings: {known}")
    if b.status == "cancelled":
        raise ToolError(f"{b.booking_id} is already cancelled")
    if b.check_in <= db.today:
        raise ToolError(f"{b.booking_id} checks in on {b.check_in}; it can no longer be cancelled")
    b.status = "cancelled"
    for n in nights(b.check_in, b.check_out):
        rk = room_key(b.hotel_id, n, b.room_type)
        db.rooms_taken[rk] = db.rooms_taken.get(rk, 0) - 1
        if db.rooms_taken[rk] == 0:
            del db.rooms_taken[rk]
    return HotelCancellation(booking_id=b.booking_id, status=b.status, refund=b.total_price)
