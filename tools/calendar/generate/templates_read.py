"""Task templates that only read: agendas, counts, emails, availability, free slots, chit-chat."""

from __future__ import annotations

import datetime as dt

from toolgym.answers.model import Fact
from toolgym.generation import Draft

from ..directory import OWNER, PEOPLE
from .helpers import (
    ME,
    NOT_FOUND,
    SUCCESS,
    UNIQUE_FIRST,
    Scene,
    Skip,
    availability_fact,
    date_fact,
    first_name,
    number_fact,
    time_fact,
    title_fact,
)


def _agenda_line(events: list[dict]) -> str:
    return "; ".join(f"{e['title']} {e['start']}-{e['end']} ({e['id']})" for e in events)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def day_agenda(s: Scene) -> Draft:
    """How many events / what is on my calendar on a day (one list_events call)."""
    day = s.rng.choice(s.upcoming())
    events = s.one("list_events", start_date=day.isoformat(), attendee=ME)["events"]
    if not events:
        raise Skip
    when = s.day_phrase(day)
    if s.rng.random() < 0.5:
        instruction = s.rng.choice(
            [f"How many events do I have {when}?", f"How many things are on my calendar {when}?"]
        )
        required: list = [number_fact(len(events))]
    else:
        instruction = s.rng.choice(
            [f"What's on my calendar {when}?", f"Can you list my events {when}?"]
        )
        required = [title_fact(t) for t in dict.fromkeys(e["title"] for e in events)]
    answer = f"You have {_plural(len(events), 'event')} on {day}: {_agenda_line(events)}."
    return Draft(instruction, s.steps, required, answer, ["single"], forbidden=[NOT_FOUND])


def day_bounds(s: Scene) -> Draft:
    """When does my first meeting start / my last meeting end on a day."""
    day = s.rng.choice(s.upcoming())
    events = s.one("list_events", start_date=day.isoformat(), attendee=ME)["events"]
    if not events:
        raise Skip
    when = s.day_phrase(day)
    if s.rng.random() < 0.5:
        last = max(events, key=lambda e: e["end"])
        instruction = f"What time does my last meeting end {when}?"
        answer = f"Your last meeting on {day}, {last['title']}, ends at {last['end']}."
        required = [time_fact(last["end"])]
        return Draft(instruction, s.steps, required, answer, ["single"], forbidden=[NOT_FOUND])
    first = events[0]
    instruction = f"When does my first meeting start {when}, and what is it?"
    answer = f"Your first meeting on {day} is {first['title']} at {first['start']}."
    required = [time_fact(first["start"]), title_fact(first["title"])]
    return Draft(instruction, s.steps, required, answer, ["single"], forbidden=[NOT_FOUND])


def email_lookup(s: Scene) -> Draft:
    """What is someone's email (by first name or by unique role)."""
    unique_roles = [p for p in PEOPLE if sum(q.role == p.role for q in PEOPLE) == 1]
    if s.rng.random() < 0.6:
        who = s.rng.choice(UNIQUE_FIRST)
        query = first_name(who.name)
        instruction = s.rng.choice(
            [f"What's {query}'s email address?", f"Can you look up {query}'s email for me?"]
        )
    else:
        who = s.rng.choice([p for p in unique_roles if p is not OWNER])
        query = who.role
        instruction = f"Who is our {who.role.lower()}? I need their email."
    s.one("find_people", query=query)
    required = [Fact(value=who.email)]
    return Draft(
        instruction,
        s.steps,
        required,
        f"{who.name}: {who.email}.",
        ["single"],
        forbidden=[NOT_FOUND],
    )


def _window_around_events(s: Scene, email: str, day: dt.date) -> tuple[dt.time, dt.time]:
    """Half the time a window overlapping one of the person's events, else a random one."""
    theirs = s.state.chronological(lambda e: e.date == day and email in e.attendees)
    if theirs and s.rng.random() < 0.5:
        event = s.rng.choice(theirs)
        return event.start, event.end
    return s.pick_window((30, 60, 90))


def _availability_answer(result: dict, bound: bool = False) -> tuple[list, str]:
    """The facts and answer sentence of one availability check.

    Whether the person is free (bound to their name when several are asked about) and the
    titles of what makes them busy.
    """
    name = result["name"]
    subject = [name, first_name(name)] if bound else None
    free = availability_fact(result["free"], subject)
    if result["free"]:
        return [free], f"Yes, {name} is free then."
    clashes = ", ".join(f"{e['title']} ({e['start']}-{e['end']})" for e in result["conflicts"])
    titles = [title_fact(t) for t in dict.fromkeys(e["title"] for e in result["conflicts"])]
    return [free, *titles], f"No, {name} is busy: {clashes}."


def availability(s: Scene) -> Draft:
    """Is <first name> free on a day between two times (look up, then check)."""
    who = s.rng.choice(UNIQUE_FIRST)
    day = s.future_day()
    start, end = _window_around_events(s, who.email, day)
    instruction = (
        f"Is {first_name(who.name)} free {s.day_phrase(day)} between {start:%H:%M} and {end:%H:%M}?"
    )
    s.one("find_people", query=first_name(who.name))
    result = s.one(
        "check_availability",
        person=who.email,
        date=day.isoformat(),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
    )
    required, answer = _availability_answer(result)
    return Draft(
        instruction, s.steps, required, answer, ["dependent", "multi"], forbidden=[NOT_FOUND]
    )


def both_free(s: Scene) -> Draft:
    """Are two people (full names) both free in a window (two parallel checks)."""
    first, second = s.rng.sample(UNIQUE_FIRST, 2)
    day = s.future_day()
    start, end = _window_around_events(s, first.email, day)
    args = {"date": day.isoformat(), "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
    instruction = (
        f"Are {first.name} and {second.name} both free {s.day_phrase(day)} from "
        f"{start:%H:%M} to {end:%H:%M}?"
    )
    results = s.step(
        ("check_availability", {"person": first.name, **args}),
        ("check_availability", {"person": second.name, **args}),
    )
    if all(result["free"] for result in results):
        both = Fact(
            value="both free",
            alternatives=["both available", "both are free", "both are available"],
        )
        answer = f"Yes, both are free {args['start']}-{args['end']} on {day}."
        return Draft(instruction, s.steps, [both], answer, ["parallel"], forbidden=[NOT_FOUND])
    required: list = []
    answers = []
    for result in results:  # who is free and who is busy: each bound to the person
        part_required, part_answer = _availability_answer(result, bound=True)
        answers.append(part_answer)
        required += [r for r in part_required if r not in required]
    return Draft(
        instruction, s.steps, required, " ".join(answers), ["parallel"], forbidden=[NOT_FOUND]
    )


def first_common_slot(s: Scene) -> Draft:
    """The first N-minute slot on a day when <first name> and I are both free."""
    who = s.rng.choice(UNIQUE_FIRST)
    day = s.future_day()
    duration = s.rng.choice((30, 45, 60, 90))
    after = s.rng.choice((None, "12:00", "13:00", "14:00"))
    extra = {} if after is None else {"earliest_start": after}
    s.one("find_people", query=first_name(who.name))
    slots = s.one(
        "find_free_slots",
        people=[ME, who.email],
        start_date=day.isoformat(),
        duration_minutes=duration,
        count=1,
        **extra,
    )["slots"]
    if not slots:
        raise Skip
    slot = slots[0]
    when = s.day_phrase(day) + ("" if after is None else f" after {after}")
    instruction = (
        f"When is the first {duration}-minute slot {when} when "
        f"{first_name(who.name)} and I are both free?"
    )
    answer = f"The first free {duration}-minute slot is {slot['start']}-{slot['end']} on {day}."
    required = [time_fact(slot["start"])]
    return Draft(
        instruction, s.steps, required, answer, ["dependent", "multi"], forbidden=[NOT_FOUND]
    )


def count_with_person(s: Scene) -> Draft:
    """How many meetings do I have with <full name> this week / next week (filter by both)."""
    who = s.rng.choice(PEOPLE[1:])
    offset = s.rng.choice((0, 1))
    monday, friday = s.week(offset)
    events = s.one(
        "list_events", start_date=monday.isoformat(), end_date=friday.isoformat(), attendee=who.name
    )["events"]
    shared = [e for e in events if OWNER.name in e["attendees"]]
    week = "this week" if offset == 0 else "next week"
    instruction = f"How many meetings do I have with {who.name} {week}?"
    answer = f"You have {_plural(len(shared), 'meeting')} with {who.name} {week}"
    answer += f": {_agenda_line(shared)}." if shared else "."
    required = [number_fact(len(shared))]
    return Draft(instruction, s.steps, required, answer, ["single"], forbidden=[NOT_FOUND])


OUT_OF_SCOPE = (
    "Book me a flight to Berlin for next Tuesday.",
    "Order pizza for the team lunch on Friday.",
    "Send Dan an email saying I'm running late.",
    "What's the weather going to be like tomorrow?",
    "Reserve a table for two at Noodle Bar tonight.",
    "Can you transfer $200 to Priya for the team gift?",
    "Book a taxi to the airport for Friday evening.",
    "Post a message in the #platform Slack channel saying the deploy is done.",
    "Buy a birthday present for Tom.",
    "Can you fix the failing tests in the billing service?",
)
CHIT_CHAT = (
    "Thanks, that's all for today!",
    "Hi! Just saying hello.",
    "Great, thank you so much.",
    "Good morning!",
    "You've been very helpful, thanks.",
    "No, that's everything.",
)
TODAY_QUESTIONS = ("What's today's date?", "What is the date today?", "Which day is it today?")


def no_call(s: Scene) -> Draft:
    """Chit-chat, questions the context answers, or requests outside the calendar."""
    kind = s.rng.randrange(5)
    if kind == 0:
        instruction = s.rng.choice(CHIT_CHAT)
        return Draft(
            instruction,
            s.steps,
            [],
            "You're welcome! Let me know if you need anything else.",
            ["no_call"],
        )
    if kind == 1:
        answer = f"Today is {s.today:%A} {s.today.isoformat()}."
        required = [date_fact(s.today)]
        return Draft(
            s.rng.choice(TODAY_QUESTIONS),
            s.steps,
            required,
            answer,
            ["no_call"],
            forbidden=[NOT_FOUND],
        )
    if kind == 2:
        day = s.today + dt.timedelta(days=s.rng.randrange(1, 60))
        instruction = f"What day of the week is {day.isoformat()}?"
        weekday = Fact(value=f"{day:%A}", alternatives=[f"{day:%a}"])
        answer = f"{day.isoformat()} is a {day:%A}."
        return Draft(instruction, s.steps, [weekday], answer, ["no_call"], forbidden=[NOT_FOUND])
    if kind == 3:
        first = s.today + dt.timedelta(days=s.rng.randrange(0, 30))
        last = first + dt.timedelta(days=s.rng.randrange(1, 40))
        days = (last - first).days
        instruction = f"How many days are there from {first.isoformat()} to {last.isoformat()}?"
        answer = f"There are {days} days from {first} to {last}."
        return Draft(
            instruction, s.steps, [number_fact(days)], answer, ["no_call"], forbidden=[NOT_FOUND]
        )
    instruction = s.rng.choice(OUT_OF_SCOPE)
    answer = (
        "Sorry, I can't do that: I can only look up people and manage calendar events "
        "(list, search, create, move, cancel, check availability)."
    )
    return Draft(instruction, s.steps, [], answer, ["no_call"], forbidden=[SUCCESS])
