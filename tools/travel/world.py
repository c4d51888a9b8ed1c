"""The seeded, immutable part of the travel world: flight schedule, fares, seats and hotels.

A :class:`World` is built once per seed and cached (it never changes during an episode). Per-day
values (fares, base seat and room inventory) are pure functions of (seed, item, day), computed on
demand from a stable hash, so nothing per-day is stored. What bookings change lives in the state.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from .geo import (
    AIRLINE_BY_CODE,
    AIRLINES,
    AMENITIES,
    CITIES,
    CITY_OF_AIRPORT,
    HOTEL_BRANDS,
    HUBS,
    City,
)

BASE_TODAY = date(2026, 3, 2)  # "today" of world seed 0 (a Monday)
SCHEDULE_DAYS = 28  # flights can be searched and booked from today to today + 27 days
HOTEL_DAYS = 42  # hotel nights can be booked up to today + 41 days
MAX_NIGHTS = 14


def stable_unit(seed: int, *parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``seed`` and ``parts`` (stable across processes)."""
    text = "|".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2.0**64


def today_for_seed(seed: int) -> date:
    """The world's "today": 2026-03-02 for seed 0, a different day for other seeds."""
    return BASE_TODAY + timedelta(days=(seed * 11) % 43)


def clock(minutes: int) -> str:
    """Minutes after midnight as 'HH:MM'."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def span(minutes: int) -> str:
    """A duration in minutes as '5h 25m'."""
    return f"{minutes // 60}h {minutes % 60:02d}m"


@dataclass(frozen=True)
class Flight:
    """A scheduled flight number (operates on the weekdays in ``days``, same times each day)."""

    number: str
    airline: str
    origin: str
    destination: str
    departure: int  # local minutes after midnight
    duration: int  # minutes, including any stop
    via: str | None
    days: tuple[int, ...]  # weekdays it operates, Monday = 0
    base_fare: float  # economy fare before date effects

    @property
    def stops(self) -> int:
        """Number of intermediate stops (0 or 1)."""
        return 0 if self.via is None else 1

    @property
    def arrival(self) -> int:
        """Local arrival time in minutes after midnight (always the same day)."""
        shift = (
            CITY_OF_AIRPORT[self.destination].utc_offset - CITY_OF_AIRPORT[self.origin].utc_offset
        )
        return self.departure + self.duration + 60 * shift

    @property
    def cabins(self) -> tuple[str, ...]:
        """Cabins this flight sells."""
        return AIRLINE_BY_CODE[self.airline].cabins

    def operates(self, day: date) -> bool:
        """Whether the flight flies on ``day``."""
        return day.weekday() in self.days


@dataclass(frozen=True)
class Hotel:
    """A hotel with fixed nightly prices per room type."""

    hotel_id: str
    name: str
    city: str
    area: str
    near: tuple[str, ...]
    stars: int
    rating: float
    prices: tuple[tuple[str, int], ...]  # (room type, price per night), cheapest first
    amenities: tuple[str, ...]

    def price(self, room_type: str) -> int | None:
        """Nightly price of ``room_type``, or None when the hotel has no such rooms."""
        return dict(self.prices).get(room_type)


@dataclass(frozen=True)
class World:
    """Everything fixed for one seed."""

    seed: int
    today: date
    flights: dict[str, Flight]
    hotels: dict[str, Hotel]
    routes: dict[tuple[str, str], list[Flight]]  # (origin, destination) airport codes -> flights

    def flights_between(self, origins: list[str], destinations: list[str]) -> list[Flight]:
        """Scheduled flights from any of ``origins`` to any of ``destinations`` (airport codes)."""
        return [f for o in origins for d in destinations for f in self.routes.get((o, d), [])]

    def hotels_in(self, city: str) -> list[Hotel]:
        """The hotels of ``city`` in id order."""
        return [h for h in self.hotels.values() if h.city == city]


_WEEKDAY_FACTOR = (1.05, 0.92, 0.92, 1.0, 1.12, 0.95, 1.12)


def fare(world: World, flight: Flight, day: date, cabin: str) -> int:
    """Price in whole dollars of one seat in ``cabin`` on ``flight`` on ``day``."""
    ahead = (day - world.today).days
    advance = 1.35 if 0 <= ahead < 3 else 1.18 if 0 <= ahead < 7 else 0.9 if ahead >= 14 else 1.0
    noise = 0.9 + 0.2 * stable_unit(world.seed, "fare", flight.number, day)
    economy = flight.base_fare * advance * _WEEKDAY_FACTOR[day.weekday()] * noise
    price = {"basic_economy": economy * 0.78, "economy": economy, "business": economy * 2.6 + 90}
    return round(price[cabin])


_SEAT_ODDS = {"basic_economy": (0.2, 9), "economy": (0.08, 24), "business": (0.15, 8)}
_ROOM_ODDS = {"standard": (0.06, 8), "deluxe": (0.1, 5), "suite": (0.2, 2)}


def _inventory(u: float, zero_odds: float, most: int) -> int:
    return 0 if u < zero_odds else 1 + int((u - zero_odds) / (1 - zero_odds) * most)


def base_seats(world: World, flight: Flight, day: date, cabin: str) -> int:
    """Seats left in ``cabin`` before any booking made through this service."""
    u = stable_unit(world.seed, "seats", flight.number, day, cabin)
    return _inventory(u, *_SEAT_ODDS[cabin])


def base_rooms(world: World, hotel: Hotel, night: date, room_type: str) -> int:
    """Rooms of ``room_type`` left for ``night`` before any booking made through this service."""
    u = stable_unit(world.seed, "rooms", hotel.hotel_id, night, room_type)
    return _inventory(u, *_ROOM_ODDS[room_type])


@functools.cache
def _miles(a: City, b: City) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 3959 * 2 * math.asin(math.sqrt(h))


def _detour(a: City, hub: str, b: City) -> float:
    """How much longer flying a -> hub -> b is than flying a -> b."""
    h = CITY_OF_AIRPORT[hub]
    return (_miles(a, h) + _miles(h, b)) / _miles(a, b)


def _air_minutes(miles: float) -> int:
    return 5 * round((35 + miles / 7.8) / 5)


def _airport(rng: random.Random, city: City) -> str:
    """The main airport most of the time, a secondary one otherwise."""
    codes = [code for code, _ in city.airports]
    return codes[0] if len(codes) == 1 or rng.random() < 0.7 else rng.choice(codes[1:])


def _flight(rng: random.Random, number: str, a: City, b: City, first: bool) -> Flight:
    """A flight from a to b; the first of each city pair is a daily non-stop.

    A one-stop flight connects in a hub at most 50% out of the way (else it flies non-stop).
    """
    nonstop = first or rng.random() < 0.55
    airline = AIRLINE_BY_CODE[number[:2]]
    origin, destination = _airport(rng, a), _airport(rng, b)
    miles = _miles(a, b)
    via = None
    duration = _air_minutes(miles)
    hubs = [h for h in HUBS if CITY_OF_AIRPORT[h] not in (a, b) and _detour(a, h, b) <= 1.5]
    if not nonstop and hubs:
        via = rng.choice(hubs)
        hub = CITY_OF_AIRPORT[via]
        duration = (
            _air_minutes(_miles(a, hub))
            + _air_minutes(_miles(hub, b))
            + rng.choice(range(50, 125, 5))
        )
    shift = 60 * (b.utc_offset - a.utc_offset)
    latest = min(21 * 60, 23 * 60 + 30 - duration - shift)
    departure = rng.choice(range(6 * 60, latest + 1, 5))
    days = tuple(range(7)) if first or rng.random() < 0.7 else (0, 1, 2, 3, 4, 6)
    base = (
        (70 + 0.115 * miles) * airline.fare_factor * (0.85 if via else 1.0) * rng.uniform(0.9, 1.1)
    )
    return Flight(number, airline.code, origin, destination, departure, duration, via, days, base)


def _schedule(seed: int) -> dict[str, Flight]:
    rng = random.Random(seed)
    used: set[str] = set()
    flights: dict[str, Flight] = {}
    for a in CITIES:
        for b in CITIES:
            if a is b:
                continue
            count = rng.randint(3, 6)
            for i in range(count):
                number = ""
                while not number or number in used:
                    number = f"{rng.choice(AIRLINES).code}{rng.randint(100, 2999)}"
                used.add(number)
                flights[number] = _flight(rng, number, a, b, first=i == 0)
    return flights


def _hotels(seed: int) -> dict[str, Hotel]:
    rng = random.Random(seed * 7919 + 1)
    hotels: dict[str, Hotel] = {}
    for city in CITIES:
        areas = [*city.areas, rng.choice(city.areas)]
        for i, (area, brand) in enumerate(zip(areas, rng.sample(HOTEL_BRANDS, 5), strict=True), 1):
            stars = rng.choice((2, 3, 3, 4, 4, 5))
            standard = city.hotel_price_factor * (45 + 38 * stars) * rng.uniform(0.85, 1.2)
            prices = [("standard", round(standard))]
            if stars >= 3:
                prices.append(("deluxe", round(standard * 1.35)))
            if stars >= 4:
                prices.append(("suite", round(standard * 2.2)))
            extras = rng.sample(AMENITIES[1:], min(5, stars - 1))
            hotel_id = f"H-{city.code}-{i}"
            hotels[hotel_id] = Hotel(
                hotel_id=hotel_id,
                name=f"{brand} {area.name}",
                city=city.name,
                area=area.name,
                near=area.near,
                stars=stars,
                rating=round(min(4.9, 2.9 + 0.3 * stars + rng.uniform(-0.3, 0.4)), 1),
                prices=tuple(prices),
                amenities=tuple(a for a in AMENITIES if a == "wifi" or a in extras),
            )
    return hotels


@functools.lru_cache(maxsize=64)
def world(seed: int) -> World:
    """The immutable world of ``seed`` (built once, then cached)."""
    flights = _schedule(seed)
    routes: dict[tuple[str, str], list[Flight]] = {}
    for f in flights.values():
        routes.setdefault((f.origin, f.destination), []).append(f)
    return World(seed, today_for_seed(seed), flights, _hotels(seed), routes)
