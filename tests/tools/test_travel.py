"""Tests of the `travel` suite: flights and hotels in a seeded world (values from world seed 0).

World 0: today is Monday 2026-03-02; the traveller is Samuel Reyes (home SFO, economy, $250 a
night). Earlier bookings: BK0001 (past SFO-MIA), BK0002/BK0003 + HB0001 (Boston trip, 03-14 to
03-18), BK0004 (basic economy OAK-LAX 03-20) + HB0002 (Los Angeles, 03-20 to 03-22).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import timeit
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from toolgym import InvalidArguments, ToolCall, ToolKind, load_tasks, state_hash
from toolgym.answers import Claim, Fact, check_answer
from toolgym.content import load_suite

ROOT = Path(__file__).resolve().parents[2]
SUITE = load_suite("travel")
PACKAGE = SUITE.make_state.__module__.rsplit(".", 1)[0]
ME = "Samuel Reyes"


def module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def call(state, name: str, **arguments):
    """Execute one call; returns (outcome, state after)."""
    return SUITE.execute(state, ToolCall(name=name, arguments=arguments))


def ok(state, name: str, **arguments):
    outcome, after = call(state, name, **arguments)
    assert outcome.ok, outcome.error
    return outcome.result, after


def fails(state, name: str, match: str, **arguments) -> str:
    """The call fails with a message matching ``match`` and leaves the state unchanged."""
    before = state_hash(state)
    outcome, after = call(state, name, **arguments)
    assert not outcome.ok, outcome.result
    assert re.search(match, outcome.error), outcome.error
    assert state_hash(after) == before == state_hash(state)
    return outcome.error


@pytest.fixture
def db():
    return SUITE.make_state(0)


# --- suite shape -------------------------------------------------------------------------------

WRITES = {"book_flight", "cancel_flight_booking", "book_hotel", "cancel_hotel_booking"}


def test_tools_kinds_and_schemas() -> None:
    assert [t.name for t in SUITE.tools] == [
        "get_traveller_profile",
        "list_airports",
        "search_flights",
        "get_flight",
        "book_flight",
        "cancel_flight_booking",
        "search_hotels",
        "get_hotel",
        "book_hotel",
        "cancel_hotel_booking",
        "list_bookings",
    ]
    assert {t.name for t in SUITE.tools if t.kind is ToolKind.WRITE} == WRITES
    search = SUITE.tool("search_flights").parameters["properties"]
    assert search["sort_by"]["enum"] == ["price", "departure", "arrival", "duration"]
    assert search["date"]["format"] == "date"
    assert (search["limit"]["minimum"], search["limit"]["maximum"], search["limit"]["default"]) == (
        1,
        50,
        10,
    )
    assert SUITE.tool("book_flight").parameters["required"] == [
        "flight_number",
        "date",
        "cabin",
        "passenger_name",
    ]
    for t in SUITE.tools:
        assert all(p.get("description") for p in t.parameters.get("properties", {}).values()), (
            t.name
        )


def test_world_zero_has_12_cities_15_airports_5_hotels_each() -> None:
    w = module("world").world(0)
    geo = module("geo")
    assert len(geo.CITIES) == 12 and len(geo.AIRPORT_NAME) == 15
    assert Counter(h.city for h in w.hotels.values()) == {c.name: 5 for c in geo.CITIES}
    assert all(
        len(f.number) >= 5 and f.number[:2] in geo.AIRLINE_BY_CODE for f in w.flights.values()
    )
    # a one-stop flight connects in a hub; every flight lands the day it leaves
    assert all(f.via in (None, "DEN", "ORD", "ATL") for f in w.flights.values())
    assert all(6 * 60 <= f.departure and f.arrival <= 23 * 60 + 30 for f in w.flights.values())


# --- account tools -----------------------------------------------------------------------------


def test_profile_and_airports(db) -> None:
    profile, _ = ok(db, "get_traveller_profile")
    assert profile == {
        "name": ME,
        "email": "samuel.reyes@example.com",
        "home_airport": "SFO",
        "home_city": "San Francisco",
        "preferred_cabin": "economy",
        "hotel_budget_per_night": 250,
    }
    airports, _ = ok(db, "list_airports")
    assert len(airports) == 15 and airports[0] == {
        "code": "ATL",
        "name": "Hartsfield-Jackson Atlanta International",
        "city": "Atlanta",
    }
    chicago, _ = ok(db, "list_airports", city="chicago")
    assert [a["code"] for a in chicago] == ["ORD", "MDW"]
    fails(db, "list_airports", "no airport serves 'Paris'; cities: Atlanta", city="Paris")


def test_list_bookings_in_date_order_and_by_status(db) -> None:
    listing, _ = ok(db, "list_bookings")
    assert [b["booking_id"] for b in listing["flights"]] == ["BK0001", "BK0002", "BK0003", "BK0004"]
    assert [b["booking_id"] for b in listing["hotels"]] == ["HB0001", "HB0002"]
    assert listing["flights"][1] == {
        "booking_id": "BK0002",
        "status": "confirmed",
        "passenger_name": ME,
        "flight_number": "BB267",
        "airline": "Bluebird Air",
        "date": "2026-03-14",
        "origin": "SFO",
        "destination": "BOS",
        "departure": "13:00",
        "arrival": "22:20",
        "cabin": "economy",
        "price": 284,
    }
    _, db = ok(db, "cancel_flight_booking", booking_id="BK0003")
    cancelled, _ = ok(db, "list_bookings", status="cancelled")
    assert [b["booking_id"] for b in cancelled["flights"]] == ["BK0003"] and cancelled[
        "hotels"
    ] == []
    confirmed, _ = ok(db, "list_bookings", status="confirmed")
    assert len(confirmed["flights"]) == 3


# --- flights -----------------------------------------------------------------------------------


def test_search_flights_cheapest_nonstop_economy(db) -> None:
    result, _ = ok(
        db,
        "search_flights",
        origin="SFO",
        destination="Boston",
        date="2026-03-10",
        cabin="economy",
        nonstop_only=True,
    )
    assert result == {
        "date": "2026-03-10",
        "total": 1,
        "note": None,
        "flights": [
            {
                "flight_number": "BB267",
                "airline": "Bluebird Air",
                "origin": "SFO",
                "destination": "BOS",
                "departure": "13:00",
                "arrival": "22:20",
                "duration": "6h 20m",
                "stops": 0,
                "via": None,
                "prices": {"basic_economy": 226, "economy": 290},
                "seats_left": {"basic_economy": 7, "economy": 4},
            }
        ],
    }


def test_search_flights_sorting_filters_and_cap(db) -> None:
    def numbers(**kw):
        r, _ = ok(db, "search_flights", origin="SFO", destination="Boston", date="2026-03-10", **kw)
        return [f["flight_number"] for f in r["flights"]], r

    # without a cabin, price = cheapest cabin with seats (basic economy 210, 226, 244, 248)
    assert numbers()[0] == ["MR238", "BB267", "CW919", "CW425"]
    assert numbers(sort_by="departure")[0] == ["MR238", "CW919", "CW425", "BB267"]
    assert numbers(sort_by="arrival")[0] == ["MR238", "CW919", "CW425", "BB267"]
    assert numbers(sort_by="duration")[0] == ["BB267", "CW919", "MR238", "CW425"]
    # CW919 has no business seats left, BB267 sells no business
    assert numbers(cabin="business")[0] == ["MR238", "CW425"]
    assert numbers(cabin="economy", max_price=300)[0] == ["MR238", "BB267"]
    capped, r = numbers(limit=2)
    assert capped == ["MR238", "BB267"] and r["total"] == 4
    assert (
        r["note"] == "showing the first 2 of 4 flights (sorted by price); raise limit to see more"
    )
    none, r = numbers(max_price=50)
    assert none == [] and r["note"].startswith("no flights match")
    # a city covers all its airports: San Francisco = SFO + OAK
    r, _ = ok(
        db,
        "search_flights",
        origin="San Francisco",
        destination="DEN",
        date="2026-03-06",
        sort_by="arrival",
    )
    assert [(f["flight_number"], f["origin"], f["arrival"]) for f in r["flights"]] == [
        ("SJ160", "OAK", "18:25"),
        ("AU1815", "SFO", "19:50"),
        ("BB2888", "SFO", "23:05"),
    ]


def test_search_flights_errors(db) -> None:
    base = {"origin": "SFO", "destination": "BOS", "date": "2026-03-10"}
    fails(
        db,
        "search_flights",
        r"unknown origin 'Bostn'; use an airport code or a city name: "
        r"Atlanta \(ATL\).*Chicago \(ORD, MDW\)",
        **{**base, "origin": "Bostn"},
    )
    fails(db, "search_flights", "unknown destination 'XYZ'", **{**base, "destination": "XYZ"})
    fails(db, "search_flights", "same city", **{**base, "destination": "OAK"})
    fails(
        db,
        "search_flights",
        r"2026-03-01 is in the past \(today is 2026-03-02\)",
        **{**base, "date": "2026-03-01"},
    )
    fails(db, "search_flights", "only goes up to 2026-03-29", **{**base, "date": "2026-03-30"})


def test_get_flight_details_and_errors(db) -> None:
    details, _ = ok(db, "get_flight", flight_number="cw425", date="2026-03-10")
    assert {
        k: details[k]
        for k in (
            "flight_number",
            "via",
            "stops",
            "duration",
            "departure",
            "arrival",
            "origin_city",
            "operates",
        )
    } == {
        "flight_number": "CW425",
        "via": "DEN",
        "stops": 1,
        "duration": "8h 50m",
        "departure": "08:50",
        "arrival": "20:40",
        "origin_city": "San Francisco",
        "operates": "daily",
    }
    assert details["prices"] == {"basic_economy": 248, "economy": 318, "business": 916}
    assert "basic_economy: non-refundable" in details["fare_rules"]
    fails(
        db,
        "get_flight",
        "no flight 'XX1' in the schedule; use search_flights",
        flight_number="XX1",
        date="2026-03-10",
    )
    fails(
        db,
        "get_flight",
        r"AU1041 does not fly on 2026-03-07 \(it flies daily except Saturday\)",
        flight_number="AU1041",
        date="2026-03-07",
    )
    fails(db, "get_flight", "in the past", flight_number="CW425", date="2026-02-27")


def test_fares_follow_cabin_rules() -> None:
    world = module("world")
    w = world.world(0)
    for f in list(w.flights.values())[:50]:
        day = w.today + timedelta(days=10)
        economy = world.fare(w, f, day, "economy")
        assert abs(world.fare(w, f, day, "basic_economy") - economy * 0.78) <= 1
        if "business" in f.cabins:
            assert abs(world.fare(w, f, day, "business") - (economy * 2.6 + 90)) <= 2


def test_book_flight_takes_a_seat_and_numbers_bookings(db) -> None:
    booking, after = ok(
        db,
        "book_flight",
        flight_number="BB267",
        date="2026-03-10",
        cabin="economy",
        passenger_name=ME,
    )
    assert booking == {
        "booking_id": "BK0005",
        "status": "confirmed",
        "passenger_name": ME,
        "flight_number": "BB267",
        "airline": "Bluebird Air",
        "date": "2026-03-10",
        "origin": "SFO",
        "destination": "BOS",
        "departure": "13:00",
        "arrival": "22:20",
        "cabin": "economy",
        "price": 290,
    }
    details, _ = ok(after, "get_flight", flight_number="BB267", date="2026-03-10")
    assert details["seats_left"] == {"basic_economy": 7, "economy": 3}
    assert after.seats_taken == {"BB267|2026-03-10|economy": 1}
    second, after = ok(
        after,
        "book_flight",
        flight_number="BB267",
        date="2026-03-10",
        cabin="economy",
        passenger_name="Ana Lima",
    )
    assert second["booking_id"] == "BK0006"
    # the last 2 of the 4 seats go, then the cabin is sold out and drops out of cabin searches
    for name in ("A One", "B Two"):
        _, after = ok(
            after,
            "book_flight",
            flight_number="BB267",
            date="2026-03-10",
            cabin="economy",
            passenger_name=name,
        )
    fails(
        after,
        "book_flight",
        r"economy on BB267 on 2026-03-10 is sold out; other cabins: "
        r"basic_economy \(7 left\)",
        flight_number="BB267",
        date="2026-03-10",
        cabin="economy",
        passenger_name="D Four",
    )
    r, _ = ok(
        after,
        "search_flights",
        origin="SFO",
        destination="BOS",
        date="2026-03-10",
        cabin="economy",
        nonstop_only=True,
    )
    assert r["flights"] == []


def test_book_flight_errors(db) -> None:
    args = {
        "flight_number": "AU235",
        "date": "2026-03-16",
        "cabin": "economy",
        "passenger_name": ME,
    }
    fails(
        db,
        "book_flight",
        "economy on AU235 on 2026-03-16 is sold out; other cabins: "
        r"basic_economy \(0 left\), business \(3 left\)",
        **args,
    )
    fails(
        db,
        "book_flight",
        "BB267 has no business cabin; it sells basic_economy, economy",
        **{**args, "flight_number": "BB267", "cabin": "business"},
    )
    fails(
        db,
        "book_flight",
        "Samuel Reyes already holds BK0002 on BB267 on 2026-03-14",
        **{**args, "flight_number": "BB267", "date": "2026-03-14"},
    )
    fails(db, "book_flight", "passenger_name must not be empty", **{**args, "passenger_name": " "})
    fails(db, "book_flight", "no flight 'ZZ999'", **{**args, "flight_number": "ZZ999"})
    fails(db, "book_flight", "in the past", **{**args, "date": "2026-02-28"})


def test_cancel_flight_refunds_and_frees_the_seat(db) -> None:
    start = state_hash(db)
    booked, after = ok(
        db,
        "book_flight",
        flight_number="BB267",
        date="2026-03-10",
        cabin="economy",
        passenger_name=ME,
    )
    cancel, after = ok(after, "cancel_flight_booking", booking_id="bk0005")
    assert cancel == {"booking_id": "BK0005", "status": "cancelled", "refund": 290}
    assert after.seats_taken == {} and after.flight_bookings[-1].status == "cancelled"
    assert state_hash(after) != start  # the cancelled booking stays on record
    refund, _ = ok(db, "cancel_flight_booking", booking_id="BK0003")
    assert refund["refund"] == 340


def test_cancel_flight_errors(db) -> None:
    fails(
        db,
        "cancel_flight_booking",
        "BK0004 is a basic economy fare: non-refundable",
        booking_id="BK0004",
    )
    fails(
        db,
        "cancel_flight_booking",
        "BK0001 was for a flight on 2026-02-22 that has already departed",
        booking_id="BK0001",
    )
    fails(
        db,
        "cancel_flight_booking",
        "no flight booking 'BK0099'; flight bookings: BK0001, BK0002",
        booking_id="BK0099",
    )
    fails(
        db,
        "cancel_flight_booking",
        "hotel bookings are cancelled with cancel_hotel_booking",
        booking_id="HB0001",
    )
    _, after = ok(db, "cancel_flight_booking", booking_id="BK0002")
    fails(after, "cancel_flight_booking", "BK0002 is already cancelled", booking_id="BK0002")


# --- hotels ------------------------------------------------------------------------------------


def test_search_hotels_lists_rooms_free_every_night(db) -> None:
    r, _ = ok(db, "search_hotels", city="Boston", check_in="2026-03-10", check_out="2026-03-13")
    assert (r["city"], r["nights"], r["total"], r["note"]) == ("Boston", 3, 5, None)
    assert [(h["hotel_id"], min(h["prices_per_night"].values())) for h in r["hotels"]] == [
        ("H-BOS-2", 205),
        ("H-BOS-5", 206),
        ("H-BOS-3", 220),
        ("H-BOS-4", 220),
        ("H-BOS-1", 290),
    ]
    assert r["hotels"][4] == {
        "hotel_id": "H-BOS-1",
        "name": "Bluebell Lodge Seaport",
        "area": "Seaport",
        "near": ["the convention center", "the waterfront"],
        "stars": 5,
        "rating": 4.6,
        "prices_per_night": {"standard": 290, "deluxe": 391},
        "rooms_left": {"standard": 2, "deluxe": 2},
    }
    # H-BOS-3 and H-BOS-4 tie at $220: the better rated first
    rated, _ = ok(
        db,
        "search_hotels",
        city="BOS",
        check_in="2026-03-10",
        check_out="2026-03-13",
        sort_by="rating",
        limit=2,
    )
    assert [h["hotel_id"] for h in rated["hotels"]] == ["H-BOS-1", "H-BOS-3"]
    assert rated["note"].startswith("showing the first 2 of 5 hotels")
    cheap, _ = ok(
        db,
        "search_hotels",
        city="Boston",
        check_in="2026-03-10",
        check_out="2026-03-13",
        max_price=250,
        area="back bay",
    )
    assert [h["prices_per_night"] for h in cheap["hotels"]] == [
        {"standard": 205},
        {"standard": 206},
    ]
    # a room type sold out on one night (standard at H-MIA-1 on 03-13) is not offered for the stay
    miami, _ = ok(db, "search_hotels", city="Miami", check_in="2026-03-12", check_out="2026-03-14")
    mia1 = next(h for h in miami["hotels"] if h["hotel_id"] == "H-MIA-1")
    assert "standard" not in mia1["prices_per_night"] and mia1["prices_per_night"]


def test_search_hotels_errors(db) -> None:
    args = {"city": "Boston", "check_in": "2026-03-10", "check_out": "2026-03-12"}
    fails(
        db,
        "search_hotels",
        r"Boston has no area 'Harbor'; its areas: Seaport \(near the "
        r"convention center, the waterfront\)",
        **args,
        area="Harbor",
    )
    fails(
        db,
        "search_hotels",
        "unknown city 'Gotham'; cities with hotels: Atlanta",
        **{**args, "city": "Gotham"},
    )
    fails(
        db,
        "search_hotels",
        r"check_out \(2026-03-10\) must be after check_in",
        **{**args, "check_out": "2026-03-10"},
    )
    fails(
        db,
        "search_hotels",
        "check_in 2026-03-01 is in the past",
        **{**args, "check_in": "2026-03-01"},
    )
    fails(db, "search_hotels", "limited to 14 nights", **{**args, "check_out": "2026-03-30"})
    fails(
        db,
        "search_hotels",
        "check-out up to 2026-04-13",
        **{**args, "check_in": "2026-04-10", "check_out": "2026-04-15"},
    )


def test_get_hotel(db) -> None:
    hotel, _ = ok(db, "get_hotel", hotel_id="h-bos-5")
    assert hotel == {
        "hotel_id": "H-BOS-5",
        "name": "Northstar Hotel Back Bay",
        "city": "Boston",
        "area": "Back Bay",
        "near": ["Copley Square", "Newbury Street"],
        "stars": 3,
        "rating": 3.8,
        "amenities": ["wifi", "breakfast", "airport shuttle"],
        "prices_per_night": {"standard": 206, "deluxe": 278},
        "cancellation_policy": "free cancellation with a full refund until the day before check-in",
    }
    fails(db, "get_hotel", "no hotel 'H-XXX-9'; use search_hotels", hotel_id="H-XXX-9")


def test_book_and_cancel_hotel(db) -> None:
    booking, after = ok(
        db,
        "book_hotel",
        hotel_id="H-BOS-3",
        check_in="2026-03-10",
        check_out="2026-03-13",
        room_type="deluxe",
        guest_name=ME,
    )
    assert booking == {
        "booking_id": "HB0003",
        "status": "confirmed",
        "guest_name": ME,
        "hotel_id": "H-BOS-3",
        "hotel_name": "Willow & Wren Downtown",
        "city": "Boston",
        "area": "Downtown",
        "check_in": "2026-03-10",
        "check_out": "2026-03-13",
        "nights": 3,
        "room_type": "deluxe",
        "price_per_night": 297,
        "total_price": 891,
    }
    r, _ = ok(
        after,
        "search_hotels",
        city="Boston",
        check_in="2026-03-10",
        check_out="2026-03-13",
        area="Downtown",
    )
    assert r["hotels"][0]["rooms_left"]["deluxe"] == 2  # was 3
    fails(
        after,
        "book_hotel",
        "Samuel Reyes already has HB0003 at H-BOS-3 for overlapping dates",
        hotel_id="H-BOS-3",
        check_in="2026-03-12",
        check_out="2026-03-14",
        room_type="standard",
        guest_name=ME,
    )
    cancel, after = ok(after, "cancel_hotel_booking", booking_id="HB0003")
    assert cancel == {"booking_id": "HB0003", "status": "cancelled", "refund": 891}
    assert after.rooms_taken == {}
    fails(after, "cancel_hotel_booking", "HB0003 is already cancelled", booking_id="HB0003")


def test_book_hotel_errors(db) -> None:
    args = {
        "hotel_id": "H-BOS-5",
        "check_in": "2026-03-10",
        "check_out": "2026-03-12",
        "room_type": "suite",
        "guest_name": ME,
    }
    fails(
        db,
        "book_hotel",
        r"Northstar Hotel Back Bay \(H-BOS-5\) has no suite rooms; it offers "
        "standard, deluxe",
        **args,
    )
    fails(
        db,
        "book_hotel",
        "no standard room free at H-MIA-1 on the night\\(s\\) of 2026-03-13",
        **{
            **args,
            "hotel_id": "H-MIA-1",
            "check_out": "2026-03-14",
            "room_type": "standard",
            "check_in": "2026-03-12",
        },
    )
    fails(db, "book_hotel", "guest_name must not be empty", **{**args, "guest_name": ""})
    fails(db, "book_hotel", "no hotel 'H-BOS-9'", **{**args, "hotel_id": "H-BOS-9"})
    fails(db, "book_hotel", "must be after check_in", **{**args, "check_out": "2026-03-09"})


def test_cancel_hotel_errors(db) -> None:
    fails(
        db,
        "cancel_hotel_booking",
        "no hotel booking 'HB0009'; hotel bookings: HB0001, HB0002",
        booking_id="HB0009",
    )
    fails(
        db,
        "cancel_hotel_booking",
        "flight bookings are cancelled with cancel_flight_booking",
        booking_id="BK0002",
    )
    _, today = ok(
        db,
        "book_hotel",
        hotel_id="H-BOS-3",
        check_in="2026-03-02",
        check_out="2026-03-03",
        room_type="standard",
        guest_name=ME,
    )
    fails(
        today,
        "cancel_hotel_booking",
        "HB0003 checks in on 2026-03-02; it can no longer be cancelled",
        booking_id="HB0003",
    )
    refund, _ = ok(db, "cancel_hotel_booking", booking_id="HB0002")
    assert refund == {"booking_id": "HB0002", "status": "cancelled", "refund": 404}


# --- invalid arguments -------------------------------------------------------------------------

BAD_CALLS = [
    ("search_flights", {"origin": "SFO", "destination": "BOS"}, "missing required argument 'date'"),
    ("search_flights", {"origin": "SFO", "destination": "BOS", "date": "10 March"}, "date"),
    (
        "search_flights",
        {"origin": "SFO", "destination": "BOS", "date": "2026-03-10", "sort_by": "cheapest"},
        "sort_by",
    ),
    (
        "search_flights",
        {"origin": "SFO", "destination": "BOS", "date": "2026-03-10", "limit": 0},
        "limit",
    ),
    (
        "book_flight",
        {"flight_number": "BB267", "date": "2026-03-10", "cabin": "first", "passenger_name": ME},
        "cabin",
    ),
    (
        "book_flight",
        {"flight_number": 267, "date": "2026-03-10", "cabin": "economy", "passenger_name": ME},
        "flight_number",
    ),
    (
        "book_hotel",
        {
            "hotel_id": "H-BOS-3",
            "check_in": "2026-03-10",
            "check_out": "2026-03-12",
            "room_type": "penthouse",
            "guest_name": ME,
        },
        "room_type",
    ),
    ("cancel_hotel_booking", {"booking_id": "HB0001", "reason": "x"}, "unknown argument"),
    ("list_bookings", {"status": "open"}, "status"),
    (
        "search_hotels",
        {
            "city": "Boston",
            "check_in": "2026-03-10",
            "check_out": "2026-03-12",
            "max_price": "cheap",
        },
        "max_price",
    ),
]


@pytest.mark.parametrize(("name", "arguments", "match"), BAD_CALLS)
def test_invalid_arguments_leave_the_state_unchanged(db, name, arguments, match) -> None:
    before = state_hash(db)
    outcome, after = call(db, name, **arguments)
    assert not outcome.ok and match in outcome.error, outcome.error
    with pytest.raises(InvalidArguments):
        SUITE.tool(name).check_arguments(arguments)
    assert state_hash(after) == before == state_hash(db)


# --- make_state --------------------------------------------------------------------------------


def test_make_state_is_deterministic_fast_and_seed_dependent() -> None:
    assert state_hash(SUITE.make_state(0)) == state_hash(SUITE.make_state(0))
    assert state_hash(SUITE.make_state(0)) != state_hash(SUITE.make_state(1))
    assert SUITE.make_state(0).today.isoformat() == "2026-03-02"
    SUITE.make_state(3)
    per_call = timeit.timeit(lambda: SUITE.make_state(3), number=200) / 200
    assert per_call < 0.002, per_call
    # copies are independent
    a = SUITE.make_state(0)
    a.flight_bookings[0].status = "cancelled"
    assert SUITE.make_state(0).flight_bookings[0].status == "confirmed"


def test_state_hash_is_the_same_in_another_process() -> None:
    code = (
        "from toolgym import state_hash\nfrom toolgym.content import load_suite\n"
        "s = load_suite('travel')\nprint(state_hash(s.make_state(0)), state_hash(s.make_state(7)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [state_hash(SUITE.make_state(0)), state_hash(SUITE.make_state(7))]


# --- hand-written tasks ------------------------------------------------------------------------

SPLITS = {
    split: load_tasks(ROOT / "tasks" / "travel" / f"{split}.jsonl") for split in ("train", "test")
}
HAND = [t for tasks in SPLITS.values() for t in tasks]
ID = re.compile(r"\b(?:BK|HB)\d{4}\b|\b[A-Z]{2}\d{3,4}\b")


def test_hand_task_counts_and_categories() -> None:
    assert (len(SPLITS["train"]), len(SPLITS["test"])) == (34, 18)
    assert len({t.id for t in HAND}) == 52
    counts = Counter(c for t in HAND for c in t.categories)
    assert all(
        counts[c] >= 4
        for c in ("single", "multi", "parallel", "dependent", "clarify", "no_call", "error")
    ), counts
    for t in HAND:
        assert t.suite == "travel" and t.world_seed == 0 and "2026-03-02" in t.context
        assert ("no_call" in t.categories) == (not t.gold_calls), t.id
        assert ("clarify" in t.categories) == bool(t.user.hidden), t.id
        assert ("parallel" in t.categories) == any(len(step) > 1 for step in t.step_calls), t.id


@pytest.mark.parametrize("task", HAND, ids=lambda t: t.id)
def test_hand_task_gold_calls_replay(task) -> None:
    state = SUITE.initial_state(task)
    failures, results = [], []
    for step in task.step_calls:
        for gold in step:
            outcome, state = SUITE.execute(state, gold)
            results.append(json.dumps(outcome.result) if outcome.ok else outcome.error)
            if not outcome.ok:
                failures.append(gold)
    if "error" in task.categories:
        assert len(failures) == 1 and failures[0] == task.flat_gold_calls[-1], failures
    else:
        assert failures == [], failures
    # ids and flight numbers the answer must give come from the tool results
    seen = " ".join(results)
    for required in task.required_outputs:
        options = _spellings(required)
        if any(ID.fullmatch(o) for o in options):
            assert any(o in seen for o in options), (task.id, required)
    assert task.gold_answer and "?" not in task.gold_answer, task.id
    assert check_answer(task.gold_answer, task.required_outputs, task.forbidden).passed


def _spellings(item) -> list[str]:
    """Every way a required item may be written (a Fact's value and alternatives)."""
    if isinstance(item, Fact):
        return [str(item.value), *item.alternatives]
    return [item] if isinstance(item, str) else list(item)


MONEY = re.compile(r"\$[\d,]+")
BOOKING_ID = re.compile(r"(?:BK|HB)\d{4}")


def test_hand_task_facts_have_their_kinds() -> None:
    """Ids are id facts, amounts numbers, times and dates their kinds; no '$290' lists are left."""
    for t in HAND:
        for item in t.required_outputs:
            if not isinstance(item, Fact):  # only reasons, refusals and durations stay strings
                options = _spellings(item)
                reason = "already" in options  # "already" or the booking held: either says why
                assert reason or not any(ID.fullmatch(o) or MONEY.match(o) for o in options), t.id
                continue
            if ID.fullmatch(str(item.value)):
                assert item.kind == "id", (t.id, item)
            if item.kind == "number":
                assert float(item.value).is_integer(), (t.id, item)  # whole dollars
            # a subject is never another fact's value: the audit writes "<subject>: <value>." and
            # a contradicted value must not survive as the subject of another sentence
            values = {str(o.value).lower() for o in t.required_outputs if isinstance(o, Fact)}
            assert not {s.lower() for s in item.subjects} & values, (t.id, item.subjects)


def test_hand_task_claims_and_orders() -> None:
    for t in HAND:
        claims = {f.claim for f in t.forbidden if isinstance(f, Claim)}
        if "error" in t.categories:
            assert claims == {"success"}, t.id
        if "error" not in t.categories and t.gold_calls and claims:
            assert claims == {"not_found"} and all(
                SUITE.tool(c.name).kind is ToolKind.READ for c in t.flat_gold_calls
            ), t.id
    independent = {
        t.id: [s.after for s in t.steps]
        for t in HAND
        if t.id in ("travel-train-023", "travel-train-033")
    }
    assert independent == {
        "travel-train-023": [[], [0], [1], [0]],
        "travel-train-033": [[], [0], [], [2]],
    }
    # a hidden fact is needed by the step that uses it, not by the look-up before it
    before = {t.id: [h.before_step for h in t.user.hidden] for t in HAND if t.user.hidden}
    assert (
        before["travel-train-016"] == before["travel-train-030"] == before["travel-test-016"] == [1]
    )
    assert before["travel-train-033"] == [3] and before["travel-train-006"] == [0, 0]
    assert all(h.must_ask for t in HAND for h in t.user.hidden)


ANSWERS = {
    "travel-train-008": [
        (
            True,
            "In Austin the top-rated is Juniper House Downtown; in Atlanta it's Lantern Midtown.",
        ),
        (True, "Juniper House Downtown tops Austin, and The Lantern Midtown tops Atlanta."),
        (False, "Austin: The Lantern Midtown. Atlanta: Juniper House Downtown."),
    ],
    "travel-train-014": [
        (True, "BK0005 (BB336, 8:30 am, $94) and BK0006 (BB2298, 7:50 pm, $105): 199 dollars."),
        (False, "BK0005 (BB336) and BK0006 (BB2298): $189 in total."),
    ],
    "travel-train-023": [
        (
            True,
            "I cancelled HB0001 and your new booking HB0003 at Bluebell Lodge Seaport is $1,160.",
        ),
        (True, "HB0001 was cancelled and HB0003 was booked for 1160 dollars."),
        (False, "Booked HB0001 at Bluebell Lodge Seaport for $1,160 and cancelled HB0003."),
    ],
    "travel-train-029": [
        (True, "You're on BK0005 and Ana Lima is on BK0006, both on BB2888; $318 altogether."),
        (False, "BK0006 for Samuel Reyes and BK0005 for Ana Lima on BB2888, $318."),
    ],
    "travel-train-033": [
        (True, "Your flight AU474 (BK0005) is $307; the hotel HB0003 at Lantern Midtown is $782."),
        (False, "Your flight AU474 (BK0005) is $782; the hotel HB0003 at Lantern Midtown is $307."),
    ],
    "travel-train-005": [
        (True, "BK0004 can't be cancelled: basic economy is non-refundable."),
        (False, "BK0004 is non-refundable, but I've cancelled it anyway."),
    ],
    "travel-train-002": [
        (True, "SJ160 lands first, at 6:25 p.m."),
        (False, "SJ160 lands at 14:45."),
    ],
    "travel-train-022": [
        (True, "Flights only go up to March 29."),
        (False, "Flights end March 28."),
    ],
    "travel-test-010": [
        (True, "There is no hotel near the convention center under $250 then."),
        (False, "Yes: Bluebell Lodge Seaport."),
    ],
    "travel-train-001": [
        (True, "Bluebird Air BB267, at 290 USD."),
        (False, "I couldn't find a fare; BB267 was $290 last week."),
    ],
}


@pytest.mark.parametrize("task_id", sorted(ANSWERS))
def test_hand_task_answers_are_judged_by_meaning(task_id) -> None:
    task = next(t for t in HAND if t.id == task_id)
    for passes, answer in ANSWERS[task_id]:
        check = check_answer(answer, task.required_outputs, task.forbidden)
        assert check.passed == passes, (answer, check.failures)


# --- audit hooks -------------------------------------------------------------------------------

AUDIT = module("audit")


def _same_up_to_ids(actual, expected, start) -> bool:
    from toolgym.state_compare import compare_states, record_ids

    ids = record_ids(start.model_dump(mode="json"), SUITE.generated_ids)
    comparison = compare_states(
        actual.model_dump(mode="json"), expected.model_dump(mode="json"), ids, SUITE.generated_ids
    )
    return comparison.same


UNDOABLE = [
    (
        "book_flight",
        {"flight_number": "BB267", "date": "2026-03-10", "cabin": "economy", "passenger_name": ME},
    ),
    (
        "book_flight",
        {
            "flight_number": "BB2888",
            "date": "2026-03-09",
            "cabin": "economy",
            "passenger_name": "Ana Lima",
        },
    ),
    (
        "book_hotel",
        {
            "hotel_id": "H-BOS-1",
            "check_in": "2026-03-10",
            "check_out": "2026-03-13",
            "room_type": "standard",
            "guest_name": ME,
        },
    ),
    (
        "book_hotel",
        {
            "hotel_id": "H-ATL-2",
            "check_in": "2026-03-23",
            "check_out": "2026-03-25",
            "room_type": "suite",
            "guest_name": ME,
        },
    ),
]


@pytest.mark.parametrize(
    ("name", "arguments"), UNDOABLE, ids=lambda v: v if isinstance(v, str) else ""
)
def test_undo_restores_the_state_up_to_generated_ids(db, name, arguments) -> None:
    start = db
    outcome, booked = call(start, name, **arguments)
    assert outcome.ok, outcome.error
    undo = AUDIT.kit.undo(outcome.normalized, outcome, start)
    assert undo is not None and undo.name.startswith("cancel_")
    undone, restored = SUITE.execute(booked, undo)
    assert undone.ok, undone.error
    assert _same_up_to_ids(restored, start, start) and not _same_up_to_ids(booked, start, start)
    # cancelling a booking made in the episode is undone by booking the same again
    redo = AUDIT.kit.undo(undone.normalized, undone, booked)
    assert redo is not None and redo.name == name
    rebooked_outcome, rebooked = SUITE.execute(restored, redo)
    assert rebooked_outcome.ok, rebooked_outcome.error
    assert _same_up_to_ids(rebooked, booked, start) and not _same_up_to_ids(rebooked, start, start)
    assert rebooked_outcome.result["booking_id"] != outcome.result["booking_id"]


def test_undo_is_none_where_the_tools_cannot_reverse(db) -> None:
    kit = AUDIT.kit
    basic = ToolCall(
        name="book_flight",
        arguments={
            "flight_number": "BB267",
            "date": "2026-03-10",
            "cabin": "basic_economy",
            "passenger_name": ME,
        },
    )
    outcome, _ = SUITE.execute(db, basic)
    assert outcome.ok and kit.undo(basic, outcome, db) is None  # non-refundable
    for name, booking in (("cancel_flight_booking", "BK0002"), ("cancel_hotel_booking", "HB0001")):
        cancel = ToolCall(name=name, arguments={"booking_id": booking})
        outcome, _ = SUITE.execute(db, cancel)
        assert outcome.ok and kit.undo(cancel, outcome, db) is None  # a booking of the start state
    failed, _ = call(db, "cancel_flight_booking", booking_id="BK0004")
    assert not failed.ok and kit.undo(failed.call, failed, db) is None
    listing, _ = call(db, "list_bookings")
    assert kit.undo(listing.call, listing, db) is None


def _respelled_calls() -> list[tuple[str, object, ToolCall]]:
    """Every hand task's gold call with the state it runs on (in the written order)."""
    out = []
    for task in HAND:
        state = SUITE.initial_state(task)
        for gold in task.flat_gold_calls:
            out.append((task.id, state, gold))
            _, state = SUITE.execute(state, gold)
    return out


def test_respell_gives_the_same_result_and_effect() -> None:
    changed = Counter()
    for task_id, state, gold in _respelled_calls():
        other = AUDIT.kit.respell(gold, state)
        if other is None:
            assert gold.name == "get_traveller_profile", (task_id, gold)
            continue
        assert other.name == gold.name and other.arguments != gold.arguments
        want, want_state = SUITE.execute(state, gold)
        got, got_state = SUITE.execute(state, other)
        assert (got.result, got.error) == (want.result, want.error), (task_id, gold, other)
        assert state_hash(got_state) == state_hash(want_state), (task_id, gold, other)
        if SUITE.normalize_call(other) != SUITE.normalize_call(gold):
            changed[gold.name] += 1
    # every tool with an argument to respell was respelled to other canonical arguments
    assert set(changed) == {
        "search_flights",
        "get_flight",
        "book_flight",
        "cancel_flight_booking",
        "search_hotels",
        "book_hotel",
        "cancel_hotel_booking",
    }, changed


@pytest.mark.parametrize(
    ("place", "other"),
    [
        ("SFO", "sfo"),
        ("San Francisco", "san francisco"),
        ("Boston", "BOS"),
        ("BOS", "Boston"),
        ("Chicago", "CHI"),
        ("CHI", "Chicago"),
        ("New York", "NYC"),
        ("OAK", "oak"),
        ("Washington", "WAS"),
    ],
)
def test_respelled_places_mean_the_same_airports(place, other) -> None:
    resolve = module("common").resolve_airports
    assert AUDIT.flight_place(place) == other
    assert resolve(other, "origin") == resolve(place, "origin")


def test_respell_fills_in_defaults_and_hotel_cities(db) -> None:
    search = ToolCall(
        name="search_hotels",
        arguments={
            "city": "Seattle",
            "check_in": "2026-03-24",
            "check_out": "2026-03-26",
            "area": "Capitol Hill",
        },
    )
    other = AUDIT.kit.respell(search, db)
    assert other.arguments == {
        **search.arguments,
        "city": "SEA",
        "area": "capitol hill",
        "max_price": None,
        "sort_by": "price",
        "limit": 10,
    }
    assert AUDIT.kit.respell(ToolCall(name="get_traveller_profile"), db) is None
    listing = AUDIT.kit.respell(ToolCall(name="list_bookings"), db)
    assert listing.arguments == {"status": "all"}
    airports = AUDIT.kit.respell(ToolCall(name="list_airports", arguments={"city": "Chicago"}), db)
    assert airports.arguments == {"city": "ORD"}
    assert ok(db, "list_airports", city="ORD")[0] == ok(db, "list_airports", city="Chicago")[0]
    for name, tool in (
        ("search_flights", module("flights").search_flights),
        ("search_hotels", module("hotels").search_hotels),
    ):
        spec = tool.spec()["function"]["parameters"]["properties"]
        assert {k: spec[k].get("default") for k in AUDIT.DEFAULTS[name]} == AUDIT.DEFAULTS[name]


# --- generator ---------------------------------------------------------------------------------

GENERATED = SUITE.generate_tasks("train", 2000, 0)


def _key(task) -> str:
    gold = [[c.model_dump() for c in step] for step in task.gold_calls]
    return json.dumps(
        [task.instruction, task.world_seed if task.gold_calls else None, gold], sort_keys=True
    )


def test_generator_is_deterministic_and_distinct() -> None:
    again = SUITE.generate_tasks("train", 50, 0)
    assert [t.model_dump() for t in again] == [t.model_dump() for t in GENERATED[:50]]
    assert len({_key(t) for t in GENERATED}) == 2000
    assert len({t.instruction for t in GENERATED}) > 1500
    assert len({t.id for t in GENERATED}) == 2000 and GENERATED[7].id == "travel-gen-train-0-7"
    other_seed = SUITE.generate_tasks("train", 50, 1)
    assert [_key(t) for t in other_seed] != [_key(t) for t in GENERATED[:50]]
    with pytest.raises(ValueError, match="split must be"):
        SUITE.generate_tasks("dev", 1, 0)


def test_generator_train_and_test_are_disjoint_and_cover_categories() -> None:
    test = SUITE.generate_tasks("test", 400, 0)
    assert not {_key(t) for t in test} & {_key(t) for t in GENERATED}
    for tasks in (GENERATED, test):
        counts = Counter(c for t in tasks for c in t.categories)
        assert set(counts) == {
            "single",
            "multi",
            "parallel",
            "dependent",
            "clarify",
            "no_call",
            "error",
        }
    assert len({t.world_seed for t in GENERATED}) > 40 and 0 not in {
        t.world_seed for t in GENERATED
    }


def test_generated_tasks_replay_as_intended() -> None:
    for task in GENERATED[::10]:  # 200 tasks
        state = SUITE.initial_state(task)
        failures = []
        for gold in task.flat_gold_calls:
            outcome, state = SUITE.execute(state, gold)
            if not outcome.ok:
                failures.append(gold)
        expected = [task.flat_gold_calls[-1]] if "error" in task.categories else []
        assert failures == expected, (task.id, failures)
        assert check_answer(task.gold_answer, task.required_outputs, task.forbidden).passed, task.id
        if task.user.hidden:
            assert "clarify" in task.categories


def test_generated_tasks_state_facts_and_forbid_claims() -> None:
    kinds = Counter()
    for task in GENERATED[::4]:  # 500 tasks
        claims = {f.claim for f in task.forbidden if isinstance(f, Claim)}
        if "error" in task.categories or "no_call" in task.categories and not task.gold_calls:
            assert "success" in claims or "not_found" in claims, task.id
        if "error" in task.categories:
            assert claims == {"success"}, task.id
        for item in task.required_outputs:
            if isinstance(item, Fact):
                kinds[item.kind] += 1
                assert item.kind == "id" or not ID.fullmatch(str(item.value)), (task.id, item)
            else:  # why something failed, or a refusal: no value kind fits
                assert not any(ID.fullmatch(o) or MONEY.match(o) for o in _spellings(item))
        for hidden in task.user.hidden:  # the step that needs it: a search, or the booking
            needs = task.step_calls[hidden.before_step]
            assert hidden.before_step == (1 if "room" in hidden.keywords else 0), task.id
            assert needs[0].name == ("book_hotel" if hidden.before_step else "search_flights")
    assert set(kinds) == {"id", "number", "text", "time"}, kinds
    bound = [
        t for t in GENERATED if any(isinstance(r, Fact) and r.subject for r in t.required_outputs)
    ]
    assert bound and all(t.gold_calls[0][0].name == "get_flight" for t in bound)
    times = next(t for t in bound)
    leave, land = (r for r in times.required_outputs if isinstance(r, Fact) and r.kind == "time")
    swapped = f"It leaves at {land.value} and lands at {leave.value}."
    assert not check_answer(swapped, times.required_outputs, times.forbidden).passed
    both = (
        f"It leaves at {leave.value} and lands at {land.value}; {times.required_outputs[2].value}."
    )
    assert check_answer(both, times.required_outputs, times.forbidden).passed
