"""Building blocks of travel templates: a scene to run tools in, facts and phrasing helpers."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from toolgym import ToolCall, ToolError
from toolgym.answers.model import Claim, Fact

from ..account import get_traveller_profile, list_airports, list_bookings
from ..flights import book_flight, cancel_flight_booking, get_flight, search_flights
from ..hotels import book_hotel, cancel_hotel_booking, get_hotel, search_hotels
from ..state import TravelState, make_state

TOOLS = {
    t.name: t
    for t in (
        get_traveller_profile,
        list_airports,
        list_bookings,
        search_flights,
        get_flight,
        book_flight,
        cancel_flight_booking,
        search_hotels,
        get_hotel,
        book_hotel,
        cancel_hotel_booking,
    )
}


class Infeasible(Exception):
    """The drawn parameters do not make a good task (e.g. no flight matches); draw again."""


class Scene:
    """A world seed and a working state on which a template runs the calls of its gold path."""

    def __init__(self, world_seed: int) -> None:
        self.world_seed = world_seed
        self.state: TravelState = make_state(world_seed)
        self.today: date = self.state.today
        self.name = self.state.traveller.name

    @property
    def context(self) -> str:
        """The per-task system context: today's date and who the traveller is."""
        t = self.state.traveller
        return (
            f"Today is {self.today.strftime('%A')} {self.today}. You are assisting {t.name} "
            f"({t.email}), whose home airport is {t.home_airport}."
        )

    def call(self, name: str, **arguments: Any) -> tuple[ToolCall, Any]:
        """Run a call on the working state; a ToolError propagates (the draft is then dropped)."""
        return ToolCall(name=name, arguments=arguments), TOOLS[name].run(self.state, arguments)

    def failing(self, name: str, **arguments: Any) -> tuple[ToolCall, str]:
        """Run a call that must fail; returns it with the error message."""
        try:
            self.call(name, **arguments)
        except ToolError as exc:
            return ToolCall(name=name, arguments=arguments), str(exc)
        raise Infeasible(f"{name} was expected to fail")


SUCCESS = Claim(claim="success")
"""Forbidden on error and refusal tasks: the answer must not claim the action happened."""
NOT_FOUND = Claim(claim="not_found")
"""Forbidden on answerable questions: the answer must not give up."""


def money(amount: int) -> Fact:
    """A dollar amount the answer must state ("$1,234", "1234 USD", "roughly $1,230")."""
    return Fact(value=amount, kind="number")


def times(hhmm: str, subject: list[str] | None = None) -> Fact:
    """A 24-hour clock time the answer must state ("18:25", "6:25 pm"), maybe for a subject."""
    return Fact(value=hhmm, kind="time", subject=subject)


def ident(value: str) -> Fact:
    """An id the answer must state as a whole token: a booking id, a flight number."""
    return Fact(value=value, kind="id")


def text(value: str, *alternatives: str) -> Fact:
    """A name the answer must state (whole words, any case), or one of its other spellings."""
    return Fact(value=value, alternatives=list(alternatives))


def say_date(rng: random.Random, day: date, today: date) -> str:
    """A date as a user might write it (the ISO form, or month and day with the weekday)."""
    return say_dates(rng, today, day)[0]


def say_dates(rng: random.Random, today: date, *days: date) -> list[str]:
    """Several dates written in one style ('tomorrow' may stand for the day after today)."""
    style = rng.randrange(3)
    tomorrow = rng.random() < 0.3
    forms = []
    for day in days:
        if (day - today).days == 1 and tomorrow:
            forms.append("tomorrow")
        elif style == 0:
            forms.append(day.isoformat())
        elif style == 1:
            forms.append(f"{day.strftime('%B')} {day.day}")
        else:
            forms.append(f"{day.strftime('%A')}, {day.strftime('%B')} {day.day}")
    return forms


def dollars(amount: int) -> str:
    """'$1,234'."""
    return f"${amount:,}"


CABIN_WORDS = {"basic_economy": "basic economy", "economy": "economy", "business": "business"}
