"""Generated flight tasks: each template draws parameters, runs the gold path, returns a Draft."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from toolgym import HiddenFact
from toolgym.generation import Draft

from ..geo import CABINS, CITIES, CITY_OF_AIRPORT, City
from ..state import seats_left
from ..world import SCHEDULE_DAYS
from .helpers import (
    CABIN_WORDS,
    NOT_FOUND,
    SUCCESS,
    Infeasible,
    Scene,
    dollars,
    ident,
    money,
    say_date,
    say_dates,
    text,
    times,
)


def place(rng: random.Random, city: City) -> str:
    """How the user names a city: its name or its main airport code."""
    return city.name if rng.random() < 0.5 else city.airports[0][0]


def route(rng: random.Random) -> tuple[str, str]:
    """Origin and destination as the user names them."""
    a, b = rng.sample(CITIES, 2)
    return place(rng, a), place(rng, b)


def flight_day(rng: random.Random, scene: Scene, first: int = 1) -> date:
    """A day within the flight schedule."""
    return scene.today + timedelta(days=rng.randint(first, SCHEDULE_DAYS - 1))


def best(result: dict[str, Any], key: str) -> dict[str, Any]:
    """The first listed flight; Infeasible when none, or when the second ties it on ``key``."""
    flights = result["flights"]
    if not flights:
        raise Infeasible("no flight")
    if len(flights) > 1 and flights[0][key] == flights[1][key]:
        raise Infeasible("tie")
    return flights[0]


def _price_key(cabin: str) -> str:
    return f"price_{cabin}"


def cheapest(scene: Scene, cabin: str, **search: Any) -> tuple[Any, dict[str, Any], int]:
    """Run a cabin search sorted by price; the call, the cheapest flight and its fare."""
    call, result = scene.call("search_flights", cabin=cabin, **search)
    for f in result["flights"]:
        f[_price_key(cabin)] = f["prices"][cabin]
    top = best(result, _price_key(cabin))
    return call, top, top["prices"][cabin]


def _words(nonstop: bool, cabin: str) -> str:
    return ("non-stop " if nonstop else "") + CABIN_WORDS[cabin]


def cheapest_flight(rng: random.Random, scene: Scene) -> Draft:
    """Single search: the cheapest (non-stop) fare in a cabin."""
    o, d = route(rng)
    day, cabin, nonstop = flight_day(rng, scene), rng.choice(CABINS), rng.random() < 0.5
    extra = {"nonstop_only": True} if nonstop else {}
    call, top, price = cheapest(scene, cabin, origin=o, destination=d, date=str(day), **extra)
    ask = rng.choice(
        [
            "What's the cheapest {w} flight from {o} to {d} on {t}?",
            "Find me the lowest {w} fare from {o} to {d} on {t}.",
            "I'm looking at flying {o} to {d} on {t}. Which {w} flight is cheapest?",
        ]
    )
    return Draft(
        ask.format(w=_words(nonstop, cabin), o=o, d=d, t=say_date(rng, day, scene.today)),
        [[call]],
        [ident(top["flight_number"]), money(price)],
        f"The cheapest {_words(nonstop, cabin)} option is {top['airline']} {top['flight_number']}, "
        f"departing {top['departure']} and arriving {top['arrival']}, for {dollars(price)}.",
        ["single"],
        forbidden=[NOT_FOUND],
    )


def earliest_arrival(rng: random.Random, scene: Scene) -> Draft:
    """Single search sorted by arrival time."""
    o, d = route(rng)
    day = flight_day(rng, scene)
    call, result = scene.call(
        "search_flights", origin=o, destination=d, date=str(day), sort_by="arrival"
    )
    top = best(result, "arrival")
    text = say_date(rng, day, scene.today)
    ask = rng.choice(
        [
            f"Which flight from {o} to {d} on {text} gets in earliest?",
            f"I need to be in {d} as early as possible on {text}, leaving from {o}. "
            "Which flight arrives first?",
        ]
    )
    return Draft(
        ask,
        [[call]],
        [ident(top["flight_number"]), times(top["arrival"])],
        f"{top['airline']} {top['flight_number']} arrives first, at {top['arrival']} "
        f"(departs {top['departure']}).",
        ["single"],
        forbidden=[NOT_FOUND],
    )


DEPARTS = ["departs", "departure", "depart", "departing", "leaves", "leave", "leaving", "takes off"]
ARRIVES = ["arrives", "arrival", "arrive", "arriving", "lands", "land", "landing", "gets in"]
"""How an answer says which of a flight's two times it gives (the times are bound to them)."""


def flight_times(rng: random.Random, scene: Scene) -> Draft:
    """Single get_flight: departure and arrival of a named flight."""
    f = rng.choice(sorted(scene.state.world.flights.values(), key=lambda f: f.number))
    day = flight_day(rng, scene)
    if not f.operates(day):
        raise Infeasible("not flying")
    call, r = scene.call("get_flight", flight_number=f.number, date=str(day))
    stop = (
        text("non-stop", "nonstop", "direct")
        if r["via"] is None
        else text(r["via"], CITY_OF_AIRPORT[r["via"]].name)
    )
    stop_text = "non-stop" if r["via"] is None else f"with one stop in {r['via']}"
    return Draft(
        f"When does {f.number} leave and land on {say_date(rng, day, scene.today)}? Is it direct?",
        [[call]],
        [times(r["departure"], DEPARTS), times(r["arrival"], ARRIVES), stop],
        f"{f.number} departs {r['origin']} at {r['departure']} and arrives in {r['destination']} "
        f"at {r['arrival']}, {stop_text}.",
        ["single"],
        forbidden=[NOT_FOUND],
    )


def book_cheapest(rng: random.Random, scene: Scene) -> Draft:
    """Search, then book the cheapest flight found."""
    o, d = route(rng)
    day, cabin, nonstop = flight_day(rng, scene), rng.choice(CABINS), rng.random() < 0.4
    extra = {"nonstop_only": True} if nonstop else {}
    search, top, price = cheapest(scene, cabin, origin=o, destination=d, date=str(day), **extra)
    book, b = scene.call(
        "book_flight",
        flight_number=top["flight_number"],
        date=str(day),
        cabin=cabin,
        passenger_name=scene.name,
    )
    return Draft(
        f"Book me the cheapest {_words(nonstop, cabin)} flight from {o} to {d} on "
        f"{say_date(rng, day, scene.today)}.",
        [[search], [book]],
        [ident(b["booking_id"]), ident(top["flight_number"]), money(price)],
        f"Booked {b['booking_id']}: {top['flight_number']} on {day}, {top['departure']}-"
        f"{top['arrival']}, {CABIN_WORDS[cabin]}, {dollars(price)}.",
        ["multi", "dependent"],
    )


def round_trip(rng: random.Random, scene: Scene) -> Draft:
    """Two searches at once, then two bookings at once."""
    o, d = route(rng)
    out = flight_day(rng, scene, 1)
    back = out + timedelta(days=rng.randint(2, 6))
    if (back - scene.today).days >= SCHEDULE_DAYS:
        raise Infeasible("return too late")
    cabin = rng.choice(("economy", "economy", "business"))
    s1, f1, p1 = cheapest(scene, cabin, origin=o, destination=d, date=str(out))
    s2, f2, p2 = cheapest(scene, cabin, origin=d, destination=o, date=str(back))
    b1, r1 = scene.call(
        "book_flight",
        flight_number=f1["flight_number"],
        date=str(out),
        cabin=cabin,
        passenger_name=scene.name,
    )
    b2, r2 = scene.call(
        "book_flight",
        flight_number=f2["flight_number"],
        date=str(back),
        cabin=cabin,
        passenger_name=scene.name,
    )
    there, home = say_dates(rng, scene.today, out, back)
    return Draft(
        f"I need a round trip in {CABIN_WORDS[cabin]}: {o} to {d} on {there}, coming back on "
        f"{home}. Book the cheapest flight each way.",
        [[s1, s2], [b1, b2]],
        [
            ident(r1["booking_id"]),
            ident(r2["booking_id"]),
            ident(f1["flight_number"]),
            ident(f2["flight_number"]),
            money(p1 + p2),
        ],
        f"Booked {r1['booking_id']} ({f1['flight_number']}, {dollars(p1)}) out and "
        f"{r2['booking_id']} ({f2['flight_number']}, {dollars(p2)}) back: "
        f"{dollars(p1 + p2)} in total.",
        ["multi", "parallel", "dependent"],
    )


def compare_destinations(rng: random.Random, scene: Scene) -> Draft:
    """Two independent searches in one step; the answer compares them."""
    a, b, c = rng.sample(CITIES, 3)
    o, d1, d2 = place(rng, a), b.name, c.name
    day, cabin = flight_day(rng, scene), rng.choice(("economy", "business"))
    s1, f1, p1 = cheapest(scene, cabin, origin=o, destination=d1, date=str(day))
    s2, f2, p2 = cheapest(scene, cabin, origin=o, destination=d2, date=str(day))
    if p1 == p2:
        raise Infeasible("same price")
    (win, wf, wp), (_, lf, lp) = sorted([(d1, f1, p1), (d2, f2, p2)], key=lambda x: x[2])
    return Draft(
        f"I'm flying out of {o} on {say_date(rng, day, scene.today)} and could go to {d1} or "
        f"{d2}. Where is the cheapest {CABIN_WORDS[cabin]} fare lower?",
        [[s1, s2]],
        [text(win), ident(wf["flight_number"]), money(wp)],
        f"{win} is cheaper: {wf['flight_number']} at {dollars(wp)}, against "
        f"{lf['flight_number']} at {dollars(lp)}.",
        ["parallel"],
        forbidden=[NOT_FOUND],
    )


def clarify_cabin(rng: random.Random, scene: Scene) -> Draft:
    """The cabin is missing; the user gives it when asked."""
    o, d = route(rng)
    day, cabin = flight_day(rng, scene), rng.choice(CABINS)
    search, top, price = cheapest(
        scene, cabin, origin=o, destination=d, date=str(day), nonstop_only=True
    )
    book, b = scene.call(
        "book_flight",
        flight_number=top["flight_number"],
        date=str(day),
        cabin=cabin,
        passenger_name=scene.name,
    )
    fact = HiddenFact(
        keywords=["cabin", "class", "economy", "business"],
        question="Which cabin would you like: basic economy, economy or business?",
        answer=f"{CABIN_WORDS[cabin].capitalize()}, please.",
    )
    return Draft(
        f"Book me the cheapest non-stop flight from {o} to {d} on "
        f"{say_date(rng, day, scene.today)}.",
        [[search], [book]],
        [ident(b["booking_id"]), ident(top["flight_number"]), money(price)],
        f"Booked {b['booking_id']}: {top['flight_number']} in {CABIN_WORDS[cabin]} "
        f"for {dollars(price)}.",
        ["clarify", "multi", "dependent"],
        [fact],
    )


def clarify_date(rng: random.Random, scene: Scene) -> Draft:
    """The travel date is missing; the user gives it when asked."""
    o, d = route(rng)
    day, cabin = flight_day(rng, scene, 7), rng.choice(("economy", "business"))
    search, top, price = cheapest(scene, cabin, origin=o, destination=d, date=str(day))
    book, b = scene.call(
        "book_flight",
        flight_number=top["flight_number"],
        date=str(day),
        cabin=cabin,
        passenger_name=scene.name,
    )
    fact = HiddenFact(
        keywords=["date", "day", "when"],
        question="Which date do you want to fly?",
        answer=f"On {day.strftime('%A')} {day.isoformat()}.",
    )
    vague = rng.choice(["soon", "in the next few weeks", "later this month", "sometime soon"])
    return Draft(
        f"I want to fly {o} to {d} {vague}. Book the cheapest {CABIN_WORDS[cabin]} seat.",
        [[search], [book]],
        [ident(b["booking_id"]), ident(top["flight_number"]), money(price)],
        f"Booked {b['booking_id']}: {top['flight_number']} on {day} in "
        f"{CABIN_WORDS[cabin]}, {dollars(price)}.",
        ["clarify", "multi", "dependent"],
        [fact],
    )


def _dated_flights(rng: random.Random, scene: Scene) -> list[tuple[Any, date]]:
    flights = sorted(scene.state.world.flights.values(), key=lambda f: f.number)
    picks = [(rng.choice(flights), flight_day(rng, scene)) for _ in range(40)]
    return [(f, day) for f, day in picks if f.operates(day)]


SOLD_OUT = [
    "sold out",
    "no seats",
    "no economy seats",
    "no business seats",
    "no basic economy seats",
    "fully booked",
    "0 seats",
    "none left",
    "no seat",
]


def sold_out(rng: random.Random, scene: Scene) -> Draft:
    """Booking a cabin with no seats left fails."""
    for f, day in _dated_flights(rng, scene):
        full = [c for c in f.cabins if seats_left(scene.state, f.number, day, c) == 0]
        if full:
            cabin = rng.choice(full)
            call, _ = scene.failing(
                "book_flight",
                flight_number=f.number,
                date=str(day),
                cabin=cabin,
                passenger_name=scene.name,
            )
            return Draft(
                f"Please book me a {CABIN_WORDS[cabin]} seat on {f.number} on "
                f"{say_date(rng, day, scene.today)}.",
                [[call]],
                [ident(f.number), SOLD_OUT],
                f"I couldn't book it: {CABIN_WORDS[cabin]} on {f.number} on {day} is sold out.",
                ["error", "single"],
                forbidden=[SUCCESS],
            )
    raise Infeasible("no sold-out cabin drawn")


def no_business(rng: random.Random, scene: Scene) -> Draft:
    """Booking business on a flight without a business cabin fails."""
    for f, day in _dated_flights(rng, scene):
        if "business" not in f.cabins:
            call, _ = scene.failing(
                "book_flight",
                flight_number=f.number,
                date=str(day),
                cabin="business",
                passenger_name=scene.name,
            )
            return Draft(
                f"Put me in business class on {f.number} on {say_date(rng, day, scene.today)}.",
                [[call]],
                [
                    ident(f.number),
                    [
                        "no business",
                        "not offer business",
                        "n't offer business",
                        "n't have a business",
                        "not have a business",
                        "only sells",
                        "only offers",
                    ],
                ],
                f"{f.number} has no business cabin; it only sells basic economy and economy.",
                ["error", "single"],
                forbidden=[SUCCESS],
            )
    raise Infeasible("no economy-only flight drawn")


def fly_home(rng: random.Random, scene: Scene) -> Draft:
    """Read the profile (home airport, cabin), then search and book."""
    t = scene.state.traveller
    here = rng.choice([c for c in CITIES if c is not CITY_OF_AIRPORT[t.home_airport]])
    day = flight_day(rng, scene)
    profile, _ = scene.call("get_traveller_profile")
    search, top, price = cheapest(
        scene, t.preferred_cabin, origin=here.name, destination=t.home_airport, date=str(day)
    )
    book, b = scene.call(
        "book_flight",
        flight_number=top["flight_number"],
        date=str(day),
        cabin=t.preferred_cabin,
        passenger_name=t.name,
    )
    return Draft(
        f"I'll be in {here.name} on {say_date(rng, day, scene.today)}. Book me the cheapest flight "
        "back to my home airport that day, in my preferred cabin.",
        [[profile], [search], [book]],
        [ident(b["booking_id"]), ident(top["flight_number"]), money(price)],
        f"Booked {b['booking_id']}: {top['flight_number']} to {t.home_airport} in "
        f"{CABIN_WORDS[t.preferred_cabin]} for {dollars(price)}.",
        ["multi", "dependent"],
    )


TEMPLATES = [
    cheapest_flight,
    earliest_arrival,
    flight_times,
    book_cheapest,
    round_trip,
    compare_destinations,
    clarify_cabin,
    clarify_date,
    sold_out,
    no_business,
    fly_home,
]
