import datetime as dt
import json
import subprocess
import sys
from typing import Literal

import pytest
from pydantic import BaseModel

from toolgym import InvalidArguments, ToolCall, ToolError, ToolKind, ToolSuite, state_hash, tool


class Room(BaseModel):
    name: str
    seats: int = 4


class Office(BaseModel):
    bookings: list[dict[str, str]] = []
    notes: dict[str, str] = {}


@tool(kind=ToolKind.WRITE)
def book(
    db: Office,
    room: Room,
    day: dt.date,
    start: dt.time,
    size: Literal["small", "large"] = "small",
    note: str | None = None,
) -> dict[str, str]:
    """Book a room.

    Args:
        room: The room to book,
            described on two lines.
        day: Day of the booking.
        start: Start time.
        size: Room size.
        note: Optional note.
    """
    db.bookings.append({"room": room.name, "day": day.isoformat()})  # mutate first ...
    if any(b["day"] == day.isoformat() for b in db.bookings[:-1]):
        raise ToolError(f"{room.name} is already booked on {day}")  # ... then fail
    return {"room": room.name, "day": day.isoformat(), "start": start.isoformat(), "size": size}


@tool
def count(db: Office) -> int:
    """Count bookings."""
    return len(db.bookings)


SUITE = ToolSuite("office", Office, (book, count), lambda seed: Office())


def params_description(t, name):
    return t.spec()["function"]["parameters"]["properties"][name].get("description")


def test_schema_from_hints_and_docstring():
    params = book.spec()["function"]["parameters"]
    assert book.spec()["function"]["description"] == "Book a room."
    assert params_description(book, "room") == "The room to book, described on two lines."
    assert params["required"] == ["room", "day", "start"]
    assert params["additionalProperties"] is False
    props = params["properties"]
    assert props["size"] == {
        "default": "small",
        "description": "Room size.",
        "enum": ["small", "large"],
        "type": "string",
    }
    assert props["day"]["format"] == "date" and props["start"]["format"] == "time"
    assert props["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert props["room"]["$ref"] == "#/$defs/Room"
    assert params["$defs"]["Room"]["properties"]["seats"]["default"] == 4
    assert count.kind is ToolKind.READ and book.kind is ToolKind.WRITE


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"room": {"name": "A"}, "day": "2026-03-02"}, "missing required argument 'start'"),
        (
            {"room": {"name": "A"}, "day": "2026-03-02", "start": "10:00", "x": 1},
            "unknown argument",
        ),
        ({"room": {"name": "A"}, "day": "2026-02-30", "start": "10:00"}, "argument 'day'"),
        (
            {"room": {"name": "A"}, "day": "2026-03-02", "start": "10:00", "size": "huge"},
            "argument 'size': 'huge' is not one of",
        ),
        (
            {"room": {"name": 7}, "day": "2026-03-02", "start": "10:00"},
            "argument 'room.name': 7 is not of type 'string'",
        ),
        ({"room": {"name": "A"}, "day": "2026-03-02", "start": "25:61"}, "argument 'start'"),
        ([1, 2], "arguments must be a JSON object"),
    ],
)
def test_invalid_arguments_name_the_argument(arguments, message):
    with pytest.raises(InvalidArguments, match=message):
        book.check_arguments(arguments)


def test_failed_and_invalid_calls_leave_state_unchanged():
    state = Office()
    ok, state = SUITE.execute(
        state,
        ToolCall(
            name="book", arguments={"room": {"name": "A"}, "day": "2026-03-02", "start": "10:00"}
        ),
    )
    assert ok.ok and ok.result["size"] == "small"
    assert ok.normalized.arguments["room"] == {"name": "A", "seats": 4}  # defaults filled in
    before = state_hash(state)
    for call in [
        ToolCall(
            name="book", arguments={"room": {"name": "B"}, "day": "2026-03-02", "start": "11:00"}
        ),  # ToolError after mutating
        ToolCall(name="book", arguments={"room": "B"}),
        ToolCall(name="nope", arguments={}),
    ]:
        outcome, state = SUITE.execute(state, call)
        assert not outcome.ok
        assert state_hash(state) == before
    assert [o.error_kind for o in [outcome]] == ["unknown_tool"]
    assert "available tools: book, count" in outcome.error


def test_tool_definitions_are_checked():
    with pytest.raises(TypeError, match="needs a docstring"):
        tool(lambda db, x: x)

    def no_args_doc(db: Office, x: int) -> int:
        """Do something."""
        return x

    with pytest.raises(TypeError, match="'x' is not described under Args"):
        tool(no_args_doc)


def test_state_hash_is_stable_across_processes():
    state = Office(bookings=[{"room": "Ä", "day": "2026-03-02"}], notes={"b": "2", "a": "1"})
    code = (
        "import json,sys; from toolgym import state_hash; from pydantic import BaseModel\n"
        "class Office(BaseModel):\n bookings: list[dict[str, str]] = []\n notes: dict[str, str] = {}\n"
        "print(state_hash(Office.model_validate(json.loads(sys.argv[1]))))"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code, json.dumps(state.model_dump())],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        assert out.stdout.strip() == state_hash(state)


def test_state_copy_and_serialisation_round_trip():
    state = Office(bookings=[{"room": "A", "day": "2026-03-02"}])
    copy = state.model_copy(deep=True)
    copy.bookings.append({"room": "B", "day": "x"})
    assert len(state.bookings) == 1
    assert state_hash(Office.model_validate_json(state.model_dump_json())) == state_hash(state)


@tool
def fragile(db: Office, when: dt.time) -> bool:
    """Compare with a naive time (crashes on an aware one: a tool bug).

    Args:
        when: A time.
    """
    return when > dt.time(9, 0)


def test_a_crashing_tool_becomes_a_counted_error_not_an_exception():
    suite = ToolSuite("office2", Office, (fragile,), lambda seed: Office())
    outcome, _ = suite.execute(Office(), ToolCall(name="fragile", arguments={"when": "10:00Z"}))
    assert outcome.error_kind == "tool_crash"
    assert "internal error in tool 'fragile' (TypeError" in outcome.error


def test_canonical_json_sorts_keys_and_survives_huge_integers():
    from toolgym.suite import canonical_json

    assert (
        canonical_json({"b": [1, {"d": 1, "c": 2}], "a": "é"}) == '{"a":"é","b":[1,{"c":2,"d":1}]}'
    )
    assert canonical_json({"n": 10**30}) == '{"n":1000000000000000000000000000000}'
