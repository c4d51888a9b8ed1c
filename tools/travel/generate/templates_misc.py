"""Generated tasks about existing bookings, and requests that need no tool call."""

from __future__ import annotations

import random
from datetime import timedelta

from toolgym.generation import Draft

from ..geo import CITIES, CITY_OF_AIRPORT
from ..state import FlightBooking
from .helpers import (
    NOT_FOUND,
    SUCCESS,
    Scene,
    dollars,
    ident,
    money,
    say_dates,
    text,
    times,
)


def _city(b: FlightBooking) -> str:
    return CITY_OF_AIRPORT[b.destination].name


def cancel_trip(rng: random.Random, scene: Scene) -> Draft:
    """Find the round trip and its hotel, then cancel all three at once."""
    _, out, back, _ = scene.state.flight_bookings
    hotel = scene.state.hotel_bookings[0]
    listing, _ = scene.call("list_bookings")
    calls = [
        scene.call("cancel_flight_booking", booking_id=out.booking_id),
        scene.call("cancel_flight_booking", booking_id=back.booking_id),
        scene.call("cancel_hotel_booking", booking_id=hotel.booking_id),
    ]
    refund = sum(result["refund"] for _, result in calls)
    ask = rng.choice(
        [
            "Please cancel my {c} trip, flights and hotel.",
            "My {c} trip is off. Cancel everything I booked for it.",
            "Cancel both flights and the hotel for my trip to {c}.",
        ]
    )
    return Draft(
        ask.format(c=_city(out)),
        [[listing], [call for call, _ in calls]],
        [ident(out.booking_id), ident(back.booking_id), ident(hotel.booking_id), money(refund)],
        f"Cancelled {out.booking_id} and {back.booking_id} (flights) and {hotel.booking_id} "
        f"(hotel); refunds total {dollars(refund)}.",
        ["multi", "dependent", "parallel"],
    )


NON_REFUNDABLE = [
    "non-refundable",
    "nonrefundable",
    "not refundable",
    "no refund",
    "cannot be cancel",
    "can't be cancel",
]


def cancel_basic(rng: random.Random, scene: Scene) -> Draft:
    """The one-way flight is basic economy: its cancellation fails."""
    solo = scene.state.flight_bookings[3]
    listing, _ = scene.call("list_bookings")
    call, _ = scene.failing("cancel_flight_booking", booking_id=solo.booking_id)
    ask = rng.choice(
        [
            "Cancel my flight to {c}, please.",
            "I no longer need my flight to {c}; cancel it.",
            "Please get rid of my {c} flight.",
        ]
    )
    return Draft(
        ask.format(c=_city(solo)),
        [[listing], [call]],
        [ident(solo.booking_id), NON_REFUNDABLE],
        f"I couldn't cancel {solo.booking_id}: it is a basic economy fare, "
        "which is non-refundable.",
        ["error", "multi", "dependent"],
        forbidden=[SUCCESS],
    )


def cancel_hotel(rng: random.Random, scene: Scene) -> Draft:
    """Find the hotel of the one-way trip and cancel it."""
    hotel = scene.state.hotel_bookings[1]
    listing, _ = scene.call("list_bookings")
    call, result = scene.call("cancel_hotel_booking", booking_id=hotel.booking_id)
    return Draft(
        rng.choice(
            ["Cancel my hotel in {c}.", "I don't need the {c} hotel any more, please cancel it."]
        ).format(c=hotel.city),
        [[listing], [call]],
        [ident(hotel.booking_id), money(result["refund"])],
        f"Cancelled {hotel.booking_id} at {hotel.hotel_name}; "
        f"you get {dollars(result['refund'])} back.",
        ["multi", "dependent"],
    )


def my_departure(rng: random.Random, scene: Scene) -> Draft:
    """Read a departure time from the booking list."""
    b = rng.choice(scene.state.flight_bookings[1:])
    listing, _ = scene.call("list_bookings")
    return Draft(
        rng.choice(
            ["What time does my flight to {c} leave?", "When is my {c} flight departing?"]
        ).format(c=_city(b)),
        [[listing]],
        [times(b.departure)],
        f"Your flight to {_city(b)} ({b.flight_number}, {b.booking_id}) leaves {b.origin} on "
        f"{b.date} at {b.departure}.",
        ["single"],
        forbidden=[NOT_FOUND],
    )


REFUSAL = ["can't", "cannot", "unable", "not able", "don't", "do not", "only help", "only book"]
_OUT_OF_SCOPE = [
    "Can you rent me a car in {c} from {d1} to {d2}?",
    "Please book me a train from {o} to {c} on {d1}.",
    "Reserve a table for two at a nice restaurant in {c} on {d1}.",
    "What will the weather be like in {c} on {d1}?",
    "Can you get me two concert tickets in {c} for {d1}?",
    "Book me a taxi to the airport in {c} on {d1}.",
    "Do I need a visa to visit {c}? I'm going on {d1}.",
    "Can you book me a bus from {o} to {c} on {d1}?",
]


def no_call(rng: random.Random, scene: Scene) -> Draft:
    """A request outside flights and hotels, or one the context already answers."""
    if rng.random() < 0.25:
        home = scene.state.traveller.home_airport
        return Draft(
            rng.choice(
                [
                    "Remind me, which airport is my home airport?",
                    "What's my home airport again? No need to look anything up.",
                ]
            ),
            [],
            [text(home)],
            f"Your home airport is {home}.",
            ["no_call"],
            forbidden=[NOT_FOUND],
        )
    o, c = rng.sample(CITIES, 2)
    d1 = scene.today + timedelta(days=rng.randint(1, 27))
    d2 = d1 + timedelta(days=rng.randint(1, 4))
    request = rng.choice(_OUT_OF_SCOPE).format(
        c=c.name,
        o=o.name,
        **dict(zip(("d1", "d2"), say_dates(rng, scene.today, d1, d2), strict=True)),
    )
    return Draft(
        request,
        [],
        [REFUSAL],
        "Sorry, I can't help with that: I can only search, book and cancel flights and hotels.",
        ["no_call"],
        forbidden=[SUCCESS],  # nothing was booked or done
    )


TEMPLATES = [cancel_trip, cancel_basic, cancel_hotel, my_departure, no_call]
