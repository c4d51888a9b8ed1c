"""Generated hotel tasks."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from toolgym import HiddenFact
from toolgym.generation import Draft

from ..geo import CITIES, City
from .helpers import (
    NOT_FOUND,
    SUCCESS,
    Infeasible,
    Scene,
    dollars,
    ident,
    money,
    say_dates,
    text,
)


def stay(rng: random.Random, scene: Scene) -> tuple[date, date]:
    """Check-in within four weeks, one to five nights."""
    check_in = scene.today + timedelta(days=rng.randint(1, 28))
    return check_in, check_in + timedelta(days=rng.randint(1, 5))


def cheapest_room(hotel: dict[str, Any]) -> tuple[str, int]:
    """The cheapest listed room type of a search result and its nightly price."""
    room = min(hotel["prices_per_night"], key=lambda r: hotel["prices_per_night"][r])
    return room, hotel["prices_per_night"][room]


def first_unique(hotels: list[dict[str, Any]], key: Any) -> dict[str, Any]:
    """The first hotel; Infeasible if none or if the second ties it on ``key``."""
    if not hotels:
        raise Infeasible("no hotel")
    if len(hotels) > 1 and key(hotels[0]) == key(hotels[1]):
        raise Infeasible("tie")
    return hotels[0]


def _landmark(rng: random.Random, city: City) -> str:
    area = rng.choice(city.areas)
    return rng.choice(area.near)


def _near(result: dict[str, Any], landmark: str) -> list[dict[str, Any]]:
    return [h for h in result["hotels"] if landmark in h["near"]]


def _dates(rng: random.Random, scene: Scene, d1: date, d2: date) -> str:
    first, last = say_dates(rng, scene.today, d1, d2)
    return f"from {first} to {last}"


def cheapest_near(rng: random.Random, scene: Scene) -> Draft:
    """One search; the agent filters hotels by landmark."""
    city = rng.choice(CITIES)
    landmark = _landmark(rng, city)
    d1, d2 = stay(rng, scene)
    call, result = scene.call("search_hotels", city=city.name, check_in=str(d1), check_out=str(d2))
    top = first_unique(_near(result, landmark), lambda h: cheapest_room(h)[1])
    room, price = cheapest_room(top)
    return Draft(
        f"What's the cheapest hotel near {landmark} in {city.name} {_dates(rng, scene, d1, d2)}?",
        [[call]],
        [text(top["name"]), money(price)],
        f"{top['name']} ({top['area']}) is the cheapest near {landmark}: a {room} room at "
        f"{dollars(price)} per night.",
        ["single"],
        forbidden=[NOT_FOUND],
    )


def book_near(rng: random.Random, scene: Scene) -> Draft:
    """Search (maybe with a price cap), then book the cheapest room near a landmark."""
    city = rng.choice(CITIES)
    landmark = _landmark(rng, city)
    d1, d2 = stay(rng, scene)
    cap = rng.choice([None, 150, 200, 250, 300, 350])
    extra = {} if cap is None else {"max_price": cap}
    search, result = scene.call(
        "search_hotels", city=city.name, check_in=str(d1), check_out=str(d2), **extra
    )
    top = first_unique(_near(result, landmark), lambda h: cheapest_room(h)[1])
    room, price = cheapest_room(top)
    book, b = scene.call(
        "book_hotel",
        hotel_id=top["hotel_id"],
        check_in=str(d1),
        check_out=str(d2),
        room_type=room,
        guest_name=scene.name,
    )
    limit = "" if cap is None else f", no more than ${cap} a night"
    return Draft(
        f"Book me the cheapest room I can get near {landmark} in {city.name} "
        f"{_dates(rng, scene, d1, d2)}{limit}.",
        [[search], [book]],
        [ident(b["booking_id"]), text(top["name"]), money(b["total_price"])],
        f"Booked {b['booking_id']} at {top['name']}: a {room} room, {b['nights']} night(s) at "
        f"{dollars(price)}, {dollars(b['total_price'])} in total.",
        ["multi", "dependent"],
    )


def best_in_budget(rng: random.Random, scene: Scene) -> Draft:
    """Profile (budget), search sorted by rating within it, book the top hotel."""
    budget = scene.state.traveller.hotel_budget_per_night
    city = rng.choice(CITIES)
    d1, d2 = stay(rng, scene)
    profile, _ = scene.call("get_traveller_profile")
    search, result = scene.call(
        "search_hotels",
        city=city.name,
        check_in=str(d1),
        check_out=str(d2),
        max_price=budget,
        sort_by="rating",
    )
    top = first_unique(result["hotels"], lambda h: h["rating"])
    room, price = cheapest_room(top)
    book, b = scene.call(
        "book_hotel",
        hotel_id=top["hotel_id"],
        check_in=str(d1),
        check_out=str(d2),
        room_type=room,
        guest_name=scene.name,
    )
    return Draft(
        f"Book the best-rated hotel in {city.name} that fits my usual nightly budget, "
        f"{_dates(rng, scene, d1, d2)}. Take their cheapest room.",
        [[profile], [search], [book]],
        [ident(b["booking_id"]), text(top["name"]), money(b["total_price"])],
        f"Booked {b['booking_id']} at {top['name']} (rated {top['rating']}): {room}, "
        f"{dollars(price)} per night, {dollars(b['total_price'])} in total.",
        ["multi", "dependent"],
    )


def compare_cities(rng: random.Random, scene: Scene) -> Draft:
    """Two hotel searches in one step."""
    c1, c2 = rng.sample(CITIES, 2)
    d1, d2 = stay(rng, scene)
    s1, r1 = scene.call("search_hotels", city=c1.name, check_in=str(d1), check_out=str(d2))
    s2, r2 = scene.call("search_hotels", city=c2.name, check_in=str(d1), check_out=str(d2))
    h1 = first_unique(r1["hotels"], lambda h: cheapest_room(h)[1])
    h2 = first_unique(r2["hotels"], lambda h: cheapest_room(h)[1])
    p1, p2 = cheapest_room(h1)[1], cheapest_room(h2)[1]
    if p1 == p2:
        raise Infeasible("same price")
    (wc, wh, wp), (lc, _, lp) = sorted([(c1.name, h1, p1), (c2.name, h2, p2)], key=lambda x: x[2])
    return Draft(
        f"I'm deciding between {c1.name} and {c2.name} for a stay {_dates(rng, scene, d1, d2)}. "
        "Which city has the cheaper hotel room, and where?",
        [[s1, s2]],
        [text(wc), text(wh["name"]), money(wp)],
        f"{wc} is cheaper: {wh['name']} at {dollars(wp)} per night "
        f"(the cheapest in {lc} is {dollars(lp)}).",
        ["parallel"],
        forbidden=[NOT_FOUND],
    )


def clarify_room(rng: random.Random, scene: Scene) -> Draft:
    """A named hotel without a room type; the user picks one when asked."""
    city = rng.choice(CITIES)
    d1, d2 = stay(rng, scene)
    search, result = scene.call(
        "search_hotels", city=city.name, check_in=str(d1), check_out=str(d2)
    )
    choices = [h for h in result["hotels"] if len(h["prices_per_night"]) >= 2]
    if not choices:
        raise Infeasible("no hotel with a choice of rooms")
    hotel = rng.choice(choices)
    room = rng.choice(sorted(hotel["prices_per_night"]))
    book, b = scene.call(
        "book_hotel",
        hotel_id=hotel["hotel_id"],
        check_in=str(d1),
        check_out=str(d2),
        room_type=room,
        guest_name=scene.name,
    )
    fact = HiddenFact(
        keywords=["room", "standard", "deluxe", "suite"],
        question="Which room type would you like?",
        answer=f"A {room} room, please.",
        before_step=1,  # the search needs no room type; the booking does
    )
    return Draft(
        f"Please book me a room at {hotel['name']} in {city.name} {_dates(rng, scene, d1, d2)}.",
        [[search], [book]],
        [ident(b["booking_id"]), money(b["total_price"])],
        f"Booked {b['booking_id']}: a {room} room at {hotel['name']}, "
        f"{dollars(b['total_price'])} in total.",
        ["clarify", "multi", "dependent"],
        [fact],
    )


def missing_room_type(rng: random.Random, scene: Scene) -> Draft:
    """Booking a room type the hotel does not have fails."""
    hotels = [h for h in scene.state.world.hotels.values() if h.price("suite") is None]
    hotel = rng.choice(sorted(hotels, key=lambda h: h.hotel_id))
    d1, d2 = stay(rng, scene)
    call, _ = scene.failing(
        "book_hotel",
        hotel_id=hotel.hotel_id,
        check_in=str(d1),
        check_out=str(d2),
        room_type="suite",
        guest_name=scene.name,
    )
    offered = [room for room, _ in hotel.prices]
    return Draft(
        f"Book a suite at hotel {hotel.hotel_id} {_dates(rng, scene, d1, d2)}.",
        [[call]],
        [
            [
                "no suite",
                "n't have suite",
                "n't have a suite",
                "not have a suite",
                "doesn't offer suite",
                "not offer suite",
                "n't offer suite",
                "does not have suite",
            ],
            *(text(room) for room in offered),
        ],
        f"{hotel.name} ({hotel.hotel_id}) has no suites; it offers {' and '.join(offered)} rooms.",
        ["error", "single"],
        forbidden=[SUCCESS],
    )


TEMPLATES = [
    cheapest_near,
    book_near,
    best_in_budget,
    compare_cities,
    clarify_room,
    missing_room_type,
]
