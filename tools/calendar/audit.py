"""The calendar's hooks for the reward audit: undo a WRITE, spell a call another way.

``undo`` reverses a successful WRITE: a created event is deleted, an update is reversed field by
field (attendees included), and an event deleted during the episode is created again (it gets a
new id, which the state comparison ignores). An event of the seeded world that was deleted cannot
come back under its own id, so that delete has no undo (None).

``respell`` gives the same call with other arguments the schema allows and the same result or
effect: people as full names instead of emails (and the reverse), the user added explicitly to a
new event's attendees, an explicit end for a move that keeps the length, a one-day range spelled
with its end date, search words in another order. Every respelling is checked by running both
calls on the state: when the results, errors or effects differ, there is none (None).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from toolgym.audit.kit import AuditKit
from toolgym.canonical import canonical_json
from toolgym.suite import CallOutcome
from toolgym.tooling import ToolCall, ToolError, ToolKind

from . import directory
from .catalog import TOOLS_BY_NAME
from .state import CalendarState, Event, clock, minutes
from .world import world


# ------------------------------------------------------------------------------------ undo
def undo(call: ToolCall, outcome: CallOutcome, state_before: CalendarState) -> ToolCall | None:
    """The call that reverses ``call`` (a successful WRITE made on ``state_before``), or None."""
    if (
        not outcome.ok
        or call.name not in TOOLS_BY_NAME
        or TOOLS_BY_NAME[call.name].kind is not ToolKind.WRITE
    ):
        return None
    if call.name == "create_event":
        return ToolCall(name="delete_event", arguments={"event_id": outcome.result["id"]})
    old = state_before.events.get(str(call.arguments.get("event_id", "")).strip())
    if old is None:
        return None
    if call.name == "update_event":
        return _reverse_update(old, outcome.result)
    return _recreate(old, state_before.seed)


def _reverse_update(old: Event, new: dict[str, Any]) -> ToolCall | None:
    """The update_event call that turns the event ``new`` (a result view) back into ``old``."""
    args: dict[str, Any] = {}
    for field in ("title", "location"):
        if new[field] != getattr(old, field):
            args[field] = getattr(old, field)
    if (new.get("description") or "") != old.description:
        args["description"] = old.description
    if new["date"] != old.date.isoformat():
        args["date"] = old.date.isoformat()
    if new["start"] != f"{old.start:%H:%M}":
        args["start"] = f"{old.start:%H:%M}"
        args["end"] = f"{old.end:%H:%M}"  # a start alone would keep the new length
    elif new["end"] != f"{old.end:%H:%M}":
        args["end"] = f"{old.end:%H:%M}"
    now = set(directory.emails(new["attendees"]))
    if now - set(old.attendees):
        args["remove_attendees"] = sorted(now - set(old.attendees))
    if set(old.attendees) - now:
        args["add_attendees"] = sorted(set(old.attendees) - now)
    if not args:
        return None  # the update changed nothing
    return ToolCall(
        name="update_event", arguments={"event_id": old.id, **args, "allow_overlap": True}
    )


def _recreate(old: Event, seed: int) -> ToolCall | None:
    """create_event of a deleted event, when it was created in the episode (else None)."""
    if old.id in _seed_event_ids(seed) or directory.OWNER.email not in old.attendees:
        return None  # it would come back under another id / with the user added
    others = [a for a in old.attendees if a != directory.OWNER.email]
    arguments = {
        "title": old.title,
        "date": old.date.isoformat(),
        "start": f"{old.start:%H:%M}",
        "end": f"{old.end:%H:%M}",
        "attendees": others,
        "location": old.location,
        "description": old.description,
        "allow_overlap": True,
    }
    return ToolCall(name="create_event", arguments=arguments)


@functools.lru_cache(maxsize=64)
def _seed_event_ids(seed: int) -> frozenset[str]:
    """Ids of the events of the seeded world ``seed`` (a task's initial events)."""
    return frozenset(world(seed).state_data["events"])


# --------------------------------------------------------------------------------- respell
PERSON_FIELDS: dict[str, tuple[str, ...]] = {
    "list_events": ("attendee",),
    "check_availability": ("person",),
    "find_free_slots": ("people",),
    "create_event": ("attendees",),
    "update_event": ("add_attendees", "remove_attendees"),
}
"""The arguments of each tool that name people (an email or a full name each)."""


def respell(call: ToolCall, state: CalendarState) -> ToolCall | None:
    """``call`` in another spelling with the same result or effect on ``state``, or None."""
    if call.name not in TOOLS_BY_NAME:
        return None
    spell = _SPELLINGS.get(call.name)
    arguments = spell(dict(call.arguments), state) if spell else None
    if arguments is None or arguments == call.arguments:
        arguments = _explicit_defaults(call)
    if arguments == call.arguments:
        return None
    other = ToolCall(name=call.name, arguments=arguments)
    return other if _run(call, state) == _run(other, state) else None


def _swap_people(arguments: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Every person in ``fields`` written the other way: email -> full name, name -> email."""
    out = dict(arguments)
    for key in fields:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = _other_spelling(value)
        elif isinstance(value, list):
            out[key] = [_other_spelling(v) if isinstance(v, str) else v for v in value]
    return out


def _other_spelling(key: str) -> str:
    try:
        person = directory.person(key)
    except ToolError:
        return key  # not a person: leave it (its error message quotes it)
    return person.name if " ".join(key.lower().split()) == person.email else person.email


def _spell_list_events(args: dict[str, Any], state: CalendarState) -> dict[str, Any]:
    out = _swap_people(args, PERSON_FIELDS["list_events"])
    if out.get("end_date") is None:
        out["end_date"] = out.get("start_date")  # omitted = just start_date
    return out


def _spell_search_events(args: dict[str, Any], state: CalendarState) -> dict[str, Any] | None:
    query = args.get("query")
    if not isinstance(query, str) or not query.split():
        return None
    words = query.split()
    reordered = " ".join(reversed(words)) if len(words) > 1 else words[0].swapcase()
    return {**args, "query": reordered}  # every word must match, in any order and case


def _spell_find_people(args: dict[str, Any], state: CalendarState) -> dict[str, Any] | None:
    query = args.get("query")
    if not isinstance(query, str) or not query.strip():
        return None
    return {**args, "query": query.lower() if query != query.lower() else query.title()}


def _spell_create_event(args: dict[str, Any], state: CalendarState) -> dict[str, Any]:
    out = _swap_people(args, PERSON_FIELDS["create_event"])
    attendees = out.get("attendees")
    if isinstance(attendees, list) and not attendees:
        out["attendees"] = [directory.OWNER.email]  # the user is always added anyway
    return out


def _spell_update_event(args: dict[str, Any], state: CalendarState) -> dict[str, Any] | None:
    out = _swap_people(args, PERSON_FIELDS["update_event"])
    event = state.events.get(str(args.get("event_id", "")).strip())
    start = args.get("start")
    if event is not None and isinstance(start, str) and args.get("end") is None:
        try:
            begin = minutes(_clock(start))
        except ValueError:
            return out
        length = minutes(event.end) - minutes(event.start)
        if begin + length < 24 * 60:
            out["end"] = f"{clock(begin + length):%H:%M}"  # a start alone keeps the length
    return out


def _clock(text: str) -> Any:
    hour, minute = text.split(":")
    return clock(int(hour) * 60 + int(minute))


def _swapper(name: str) -> Callable[[dict[str, Any], CalendarState], dict[str, Any]]:
    return lambda args, state: _swap_people(args, PERSON_FIELDS[name])


_SPELLINGS: dict[str, Callable[[dict[str, Any], CalendarState], dict[str, Any] | None]] = {
    "find_people": _spell_find_people,
    "list_events": _spell_list_events,
    "search_events": _spell_search_events,
    "check_availability": _swapper("check_availability"),
    "find_free_slots": _swapper("find_free_slots"),
    "create_event": _spell_create_event,
    "update_event": _spell_update_event,
}
"""How each tool's calls are respelled (get_event and delete_event take only an id: none)."""


def _explicit_defaults(call: ToolCall) -> dict[str, Any]:
    """``call``'s arguments with every omitted optional argument given its default value."""
    fields = TOOLS_BY_NAME[call.name].args_model.model_fields
    defaults = {
        name: field.default
        for name, field in fields.items()
        if name not in call.arguments and isinstance(field.default, str | int | float)
    }  # bool is an int; None defaults (meaning "not given") stay omitted
    return {**call.arguments, **defaults}


def _run(call: ToolCall, state: CalendarState) -> tuple[str, str]:
    """What ``call`` does on ``state``: its result or error, and the state after (as JSON)."""
    tool = TOOLS_BY_NAME[call.name]
    target = state.model_copy(deep=True) if tool.kind is ToolKind.WRITE else state
    try:
        result = tool.run(target, call.arguments)
    except ToolError as exc:
        return "error: " + str(exc), ""
    return canonical_json(result), canonical_json(target.model_dump(mode="json"))


kit = AuditKit(undo=undo, respell=respell)
