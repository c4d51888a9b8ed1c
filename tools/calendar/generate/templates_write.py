"""Task templates that change the calendar: book, move, cancel, invite, relocate, clarify."""

from __future__ import annotations

import datetime as dt

from toolgym import HiddenFact
from toolgym.answers.model import Fact
from toolgym.generation import Draft

from ..directory import OWNER
from ..state import minutes
from .helpers import (
    ME,
    ROOMS,
    SUCCESS,
    UNIQUE_FIRST,
    Scene,
    Skip,
    UnexpectedError,
    date_fact,
    first_name,
    id_fact,
    shift,
    time_fact,
    title_fact,
)

TITLES = (
    "Roadmap chat",
    "Code review walkthrough",
    "Hiring plan",
    "API design sync",
    "Quarterly goals",
    "Onboarding check-in",
    "Budget follow-up",
    "Demo prep",
    "Incident follow-up",
    "Career conversation",
    "Launch checklist",
    "Vendor evaluation",
)


def _room_phrase(room: str) -> str:
    """'on Zoom', "in Alice's office", 'in the Atlas room'."""
    if room == "Zoom":
        return "on Zoom"
    return f"in {room}" if room.endswith("office") else f"in the {room}"


def _conflict_titles(message: str, s: Scene) -> list[str]:
    """Titles of the events named in a conflict error (the answer must mention them)."""
    found = [e.title for e in s.state.events.values() if f"{e.id} '{e.title}'" in message]
    return list(dict.fromkeys(found))


def _refused(s: Scene, instruction: str, titles: list[str], answer: str) -> Draft:
    """An error task: the answer names what blocks the change and claims no success."""
    required = [title_fact(t) for t in titles]
    return Draft(
        instruction, s.steps, required, answer, ["dependent", "error"], forbidden=[SUCCESS]
    )


def _my_event(s: Scene, skip_standup: bool = True) -> tuple[dt.date, dict]:
    """A random upcoming event of mine whose title is unique on its day."""
    day = s.future_day()
    events = s.one("list_events", start_date=day.isoformat(), attendee=ME)["events"]
    titles = [e["title"] for e in events]
    events = [
        e
        for e in events
        if titles.count(e["title"]) == 1 and not (skip_standup and e["title"] == "Platform standup")
    ]
    if not events:
        raise Skip
    return day, s.rng.choice(events)


def book_first_slot(s: Scene) -> Draft:
    """Book a meeting with <first name> at the first time on a day when we are both free."""
    who, room, title = s.rng.choice(UNIQUE_FIRST), s.rng.choice(ROOMS), s.rng.choice(TITLES)
    day, duration = s.future_day(), s.rng.choice((30, 45, 60))
    s.one("find_people", query=first_name(who.name))
    slots = s.one(
        "find_free_slots",
        people=[ME, who.email],
        start_date=day.isoformat(),
        duration_minutes=duration,
        count=1,
    )["slots"]
    if not slots:
        raise Skip
    slot = slots[0]
    event = s.one(
        "create_event",
        title=title,
        date=day.isoformat(),
        start=slot["start"],
        end=slot["end"],
        attendees=[who.email],
        location=room,
    )
    instruction = (
        f"Book a {duration}-minute meeting titled '{title}' with "
        f"{first_name(who.name)} {_room_phrase(room)} at the earliest time "
        f"{s.day_phrase(day)} when we're both free."
    )
    answer = f"Booked {event['id']} '{title}' on {day} {slot['start']}-{slot['end']}."
    required = [id_fact(event["id"]), time_fact(slot["start"])]
    return Draft(instruction, s.steps, required, answer, ["dependent", "multi"])


def book_fixed_time(s: Scene) -> Draft:
    """Book a meeting at a given time; fails with a conflict about half the time."""
    who, room, title = s.rng.choice(UNIQUE_FIRST), s.rng.choice(ROOMS), s.rng.choice(TITLES)
    day, want_conflict = s.future_day(), s.rng.random() < 0.5
    for _ in range(12):
        start, end = s.pick_window()
        clashes = s.state.busy(ME, day, start, end) + s.state.busy(who.email, day, start, end)
        if bool(clashes) == want_conflict:
            break
    else:
        raise Skip
    instruction = (
        f"Schedule '{title}' with {first_name(who.name)} {s.day_phrase(day)} from "
        f"{start:%H:%M} to {end:%H:%M} {_room_phrase(room)}."
    )
    s.one("find_people", query=first_name(who.name))
    args = {
        "title": title,
        "date": day.isoformat(),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "attendees": [who.email],
        "location": room,
    }
    if clashes:
        message = s.one("create_event", fails=True, **args)
        titles = _conflict_titles(message, s)
        answer = f"I couldn't book it: that time overlaps {', '.join(titles)}."
        return _refused(s, instruction, titles, answer)
    event = s.one("create_event", **args)
    answer = f"Booked {event['id']} '{title}' on {day} {start:%H:%M}-{end:%H:%M}."
    return Draft(instruction, s.steps, [id_fact(event["id"])], answer, ["dependent", "multi"])


def move_event(s: Scene) -> Draft:
    """Move one of my events to a new start time (same day) or to another day (same time)."""
    day, event = _my_event(s)
    when = s.day_phrase(day)
    if s.rng.random() < 0.6:
        start = dt.time.fromisoformat(event["start"])
        new_start = shift(start, s.rng.choice((-120, -90, -60, -30, 30, 60, 90, 120)))
        length = minutes(dt.time.fromisoformat(event["end"])) - minutes(start)
        if not dt.time(8, 0) <= new_start or minutes(new_start) + length > 18 * 60:
            raise Skip
        instruction = f"Move my '{event['title']}' {when} to start at {new_start:%H:%M}."
        change = {"start": f"{new_start:%H:%M}"}
        done = f"{event['title']} ({event['id']}) now starts at {new_start:%H:%M} on {day}."
        required: list = [time_fact(new_start)]
    else:
        new_day = s.future_day()
        if new_day == day:
            raise Skip
        instruction = (
            f"Move my '{event['title']}' from {day:%A} {day.isoformat()} to "
            f"{new_day:%A} {new_day.isoformat()}, same time."
        )
        change = {"date": new_day.isoformat()}
        done = f"{event['title']} ({event['id']}) is now on {new_day} at {event['start']}."
        required = [date_fact(new_day)]
    return _update_or_conflict(s, instruction, event["id"], change, required, done)


def _update_or_conflict(
    s: Scene, instruction: str, event_id: str, change: dict, required: list, done: str
) -> Draft:
    try:
        s.one("update_event", event_id=event_id, **change)
    except UnexpectedError as exc:
        if "overlaps" not in str(exc):
            raise
        s.steps.pop()  # the failed attempt: redo it as the expected failure of an error task
        message = s.one("update_event", fails=True, event_id=event_id, **change)
        titles = _conflict_titles(message, s)
        answer = f"I couldn't change it: the new time overlaps {', '.join(titles)}."
        return _refused(s, instruction, titles, answer)
    return Draft(instruction, s.steps, required, done, ["dependent", "multi"])


def cancel_event(s: Scene) -> Draft:
    """Cancel one of my events on a day."""
    day, event = _my_event(s, skip_standup=False)
    instruction = s.rng.choice(
        [
            f"Cancel my '{event['title']}' {s.day_phrase(day)}.",
            f"Please delete the '{event['title']}' from my calendar {s.day_phrase(day)}.",
        ]
    )
    s.one("delete_event", event_id=event["id"])
    answer = f"Cancelled {event['title']} ({event['id']}) on {day}."
    return Draft(instruction, s.steps, [title_fact(event["title"])], answer, ["dependent", "multi"])


def cancel_pair_meetings(s: Scene) -> Draft:
    """Cancel every meeting next week that only <first name> and I attend."""
    who = s.rng.choice(UNIQUE_FIRST)
    monday, friday = s.week(1)
    found = s.one(
        "search_events",
        query=first_name(who.name),
        start_date=monday.isoformat(),
        end_date=friday.isoformat(),
    )
    pairs = [e for e in found["events"] if e["attendees"] == [OWNER.name, who.name]]
    if not pairs or found["truncated"]:
        raise Skip
    s.step(*(("delete_event", {"event_id": e["id"]}) for e in pairs))
    instruction = f"Cancel every meeting next week that only {first_name(who.name)} and I attend."
    answer = "Cancelled " + "; ".join(f"{e['title']} on {e['date']} ({e['id']})" for e in pairs)
    categories = ["parallel", "dependent"] if len(pairs) > 1 else ["dependent", "multi"]
    return Draft(instruction, s.steps, [id_fact(e["id"]) for e in pairs], answer + ".", categories)


def add_attendee(s: Scene) -> Draft:
    """Invite <first name> to one of my events (look-up and listing in parallel)."""
    who = s.rng.choice(UNIQUE_FIRST)
    day = s.future_day()
    found = s.step(
        ("find_people", {"query": first_name(who.name)}),
        ("list_events", {"start_date": day.isoformat(), "attendee": ME}),
    )
    titles = [e["title"] for e in found[1]["events"]]
    events = [
        e
        for e in found[1]["events"]
        if who.name not in e["attendees"]
        and titles.count(e["title"]) == 1
        and not e["title"].startswith("1:1 ")
    ]
    if not events:
        raise Skip
    event = s.rng.choice(events)
    instruction = f"Add {first_name(who.name)} to my '{event['title']}' {s.day_phrase(day)}."
    draft = _update_or_conflict(
        s,
        instruction,
        event["id"],
        {"add_attendees": [who.email]},
        [id_fact(event["id"])],
        f"Added {who.name} to {event['title']} ({event['id']}) on {day}.",
    )
    draft.categories = ["parallel", *draft.categories]
    return draft


def relocate_event(s: Scene) -> Draft:
    """Change where one of my events takes place."""
    day, event = _my_event(s)
    room = s.rng.choice([r for r in ROOMS if r != event["location"]])
    instruction = f"Change the location of my '{event['title']}' {s.day_phrase(day)} to {room}."
    s.one("update_event", event_id=event["id"], location=room)
    answer = f"{event['title']} ({event['id']}) on {day} is now in {room}."
    return Draft(instruction, s.steps, [Fact(value=room)], answer, ["dependent", "multi"])


def move_one_on_one(s: Scene) -> Draft:
    """Move my 1:1 with someone to the first free 30-minute slot on another day."""
    day = s.future_day()
    mine = s.one("list_events", start_date=day.isoformat(), attendee=ME)["events"]
    ones = [e for e in mine if e["title"].startswith("1:1 ")]
    if not ones:
        raise Skip
    event = ones[0]
    other = next(a for a in event["attendees"] if a != OWNER.name)
    name = first_name(other)
    new_day = s.future_day()
    after = s.rng.choice((None, "13:00"))
    if new_day == day:
        raise Skip
    extra = {} if after is None else {"earliest_start": after}
    slots = s.one(
        "find_free_slots",
        people=[ME, other],
        start_date=new_day.isoformat(),
        duration_minutes=30,
        count=1,
        **extra,
    )["slots"]
    if not slots:
        raise Skip
    slot = slots[0]
    s.one("update_event", event_id=event["id"], date=new_day.isoformat(), start=slot["start"])
    when = s.day_phrase(new_day) + ("" if after is None else " after 13:00")
    instruction = (
        f"Move my 1:1 with {name} {s.day_phrase(day)} to the first 30-minute slot "
        f"{when} when we're both free."
    )
    answer = f"Moved {event['title']} ({event['id']}) to {new_day} {slot['start']}-{slot['end']}."
    return Draft(instruction, s.steps, [time_fact(slot["start"])], answer, ["dependent", "multi"])


def clarify_day(s: Scene) -> Draft:
    """Schedule with someone 'next week' at a time; the day is a hidden fact."""
    who, title = s.rng.choice(UNIQUE_FIRST), s.rng.choice(TITLES)
    monday, _ = s.week(1)
    day = monday + dt.timedelta(days=s.rng.randrange(5))
    start, end = s.pick_window((30, 60))
    if s.state.busy(ME, day, start, end) or s.state.busy(who.email, day, start, end):
        raise Skip
    length = minutes(end) - minutes(start)
    instruction = (
        f"Schedule a {length}-minute meeting called '{title}' with {who.name} next "
        f"week at {start:%H:%M}."
    )
    fact = HiddenFact(
        keywords=["day", "which", "when", "date"],
        question="Which day next week should it be on?",
        answer=f"{day:%A}, {day.isoformat()}.",
    )
    event = s.one(
        "create_event",
        title=title,
        date=day.isoformat(),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        attendees=[who.name],
    )
    answer = f"Booked {event['id']} '{title}' on {day:%A} {day} {start:%H:%M}-{end:%H:%M}."
    return Draft(instruction, s.steps, [id_fact(event["id"])], answer, ["clarify"], [fact])


def clarify_sarah(s: Scene) -> Draft:
    """Book with 'Sarah' (two in the directory): which one is a hidden fact."""
    sarah = s.rng.choice(("Sarah Kim", "Sarah Patel"))
    title, day = s.rng.choice(TITLES), s.future_day()
    start, end = s.pick_window((30,))
    email = f"{sarah.lower().replace(' ', '.')}@example.com"
    if s.state.busy(ME, day, start, end) or s.state.busy(email, day, start, end):
        raise Skip
    instruction = f"Set up a 30-minute '{title}' with Sarah {s.day_phrase(day)} at {start:%H:%M}."
    fact = HiddenFact(
        keywords=["which sarah", "sarah kim", "sarah patel", "last name"],
        question="Which Sarah do you mean, Sarah Kim or Sarah Patel?",
        answer=f"{sarah}.",
        before_step=1,
    )
    s.one("find_people", query="Sarah")
    event = s.one(
        "create_event",
        title=title,
        date=day.isoformat(),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        attendees=[email],
    )
    answer = f"Booked {event['id']} '{title}' with {sarah} on {day} at {start:%H:%M}."
    return Draft(
        instruction, s.steps, [id_fact(event["id"])], answer, ["clarify", "dependent"], [fact]
    )
