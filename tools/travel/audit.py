"""The travel suite's reward-audit hooks: undo a booking or cancellation, respell a call.

``undo`` reverses a successful WRITE through the tools themselves:

- ``book_flight`` / ``book_hotel`` -> cancel the new booking (its id read from the result). A
  booking made and cancelled in one episode counts as never made, and cancelling releases its
  seat or rooms, so the state is the one before up to generated ids. Basic economy seats cannot
  be cancelled, nor hotel stays that check in today: no undo.
- ``cancel_*_booking`` of a booking made earlier in the episode -> book the same seat or room
  again (a new id, the same live booking). A booking of the world's start state cannot be
  reconfirmed (it would stay cancelled next to a new one): no undo.

``respell`` gives the same call in another spelling the tools accept, with the same result or
effect: a place named by the city instead of its only airport (or the reverse; a multi-airport
city by its metro code, since its name means all of its airports and one code only that one),
ids and flight numbers in lower case (the tools upper-case them), and the optional arguments
the call left out given with their defaults.
"""

from __future__ import annotations

from typing import Any

from toolgym.audit.kit import AuditKit
from toolgym.suite import CallOutcome
from toolgym.tooling import ToolCall

from .common import find_city
from .geo import AIRPORT_NAME, CITY_OF_AIRPORT
from .state import TravelState, make_state

DEFAULTS: dict[str, dict[str, Any]] = {
    "search_flights": {
        "cabin": None,
        "max_price": None,
        "nonstop_only": False,
        "sort_by": "price",
        "limit": 10,
    },
    "search_hotels": {"area": None, "max_price": None, "sort_by": "price", "limit": 10},
    "list_bookings": {"status": "all"},
    "list_airports": {"city": None},
}
"""Each tool's optional arguments and their defaults (kept equal to the tools' signatures)."""


def undo(call: ToolCall, outcome: CallOutcome, state_before: TravelState) -> ToolCall | None:
    """A call that reverses the successful WRITE ``call`` (None when the tools cannot)."""
    if not outcome.ok or not isinstance(outcome.result, dict):
        return None
    result = outcome.result
    if call.name == "book_flight":
        if result.get("cabin") == "basic_economy":
            return None  # non-refundable: cancel_flight_booking refuses it
        return ToolCall(
            name="cancel_flight_booking", arguments={"booking_id": result["booking_id"]}
        )
    if call.name == "book_hotel":
        if str(result.get("check_in")) <= state_before.today.isoformat():
            return None  # a stay that checks in today can no longer be cancelled
        return ToolCall(name="cancel_hotel_booking", arguments={"booking_id": result["booking_id"]})
    if call.name in ("cancel_flight_booking", "cancel_hotel_booking"):
        return _rebook(call.name, str(result.get("booking_id", "")), state_before)
    return None


def _rebook(name: str, booking_id: str, state_before: TravelState) -> ToolCall | None:
    """Book again what ``booking_id`` held, if it was booked during the episode."""
    start = make_state(state_before.seed)
    if name == "cancel_flight_booking":
        if any(b.booking_id == booking_id for b in start.flight_bookings):
            return None
        f = next((b for b in state_before.flight_bookings if b.booking_id == booking_id), None)
        if f is None:
            return None
        return ToolCall(
            name="book_flight",
            arguments={
                "flight_number": f.flight_number,
                "date": f.date.isoformat(),
                "cabin": f.cabin,
                "passenger_name": f.passenger_name,
            },
        )
    if any(b.booking_id == booking_id for b in start.hotel_bookings):
        return None
    h = next((b for b in state_before.hotel_bookings if b.booking_id == booking_id), None)
    if h is None:
        return None
    return ToolCall(
        name="book_hotel",
        arguments={
            "hotel_id": h.hotel_id,
            "check_in": h.check_in.isoformat(),
            "check_out": h.check_out.isoformat(),
            "room_type": h.room_type,
            "guest_name": h.guest_name,
        },
    )


def flight_place(text: str) -> str | None:
    """Another spelling of a search_flights origin/destination meaning the same airports."""
    key = text.strip().upper()
    if key in AIRPORT_NAME:  # one airport
        city = CITY_OF_AIRPORT[key]
        return city.name if len(city.airports) == 1 else key.lower()
    city = find_city(text)
    if city is None:
        return None
    if city.code not in AIRPORT_NAME:  # a metro code ('NYC') or the name of a city
        return city.name if key == city.code else city.code
    if len(city.airports) == 1:
        return city.airports[0][0]
    return city.name.lower()  # San Francisco: 'SFO' would mean one of its airports only


def hotel_city(text: str) -> str | None:
    """Another spelling of a search_hotels city: the name for a code, a code for the name."""
    city = find_city(text)
    if city is None:
        return None
    if text.strip().lower() == city.name.lower():
        return city.code  # 'BOS', 'CHI': hotel searches take a city's code for the city
    return city.name


def respell(call: ToolCall, state: TravelState) -> ToolCall | None:
    """The same call spelled another way, with the same result or effect (None if none)."""
    args = dict(call.arguments)
    if call.name == "search_flights":
        for role in ("origin", "destination"):
            other = flight_place(str(args.get(role, "")))
            if other is None:
                return None
            args[role] = other
    elif call.name == "search_hotels":
        other = hotel_city(str(args.get("city", "")))
        if other is None:
            return None
        args["city"] = other
        if args.get("area"):
            args["area"] = str(args["area"]).lower()
    elif call.name == "list_airports" and args.get("city"):
        city = find_city(str(args["city"]))
        if city is None:
            return None
        args["city"] = city.airports[0][0] if args["city"] == city.name else city.name
    elif call.name in ("get_flight", "book_flight") and "flight_number" in args:
        args["flight_number"] = str(args["flight_number"]).lower()
    elif call.name in ("get_hotel", "book_hotel") and "hotel_id" in args:
        args["hotel_id"] = str(args["hotel_id"]).lower()
    elif call.name in ("cancel_flight_booking", "cancel_hotel_booking") and "booking_id" in args:
        args["booking_id"] = str(args["booking_id"]).lower()
    for key, default in DEFAULTS.get(call.name, {}).items():
        args.setdefault(key, default)
    if args == call.arguments:
        return None  # get_traveller_profile, or nothing to respell
    return ToolCall(name=call.name, arguments=args)


kit = AuditKit(undo=undo, respell=respell)
