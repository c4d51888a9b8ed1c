"""Calendar suite: every tool against hand-computed values on the seed-0 world, its errors,
invalid arguments, determinism, the hand-written tasks and the procedural generator.

Seed-0 facts used below (today is Monday 2026-03-02; Alice Chen is the user):
  Tue 2026-03-03, Alice: ev-0032 standup 09:30-09:45, ev-0033 Eng leads 11:00-12:00,
  ev-0034 Lunch with Priya 12:45-13:45, ev-0035 1:1 Alice / Dan 14:00-14:30,
  ev-0036 Architecture review: billing 15:15-16:45 (Dan too); ev-0037 Design crit (not Alice).
"""

import doctest
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolgym import InvalidArguments, ToolCall, ToolError, load_tasks, state_hash
from toolgym.answers import check_answer
from toolgym.answers.model import Claim, Fact
from toolgym.content import load_suite, load_suite_part
from toolgym.env import ToolEnv
from toolgym.gold import linear_extensions
from toolgym.limits import Limits
from toolgym.policies import OraclePolicy, play
from toolgym.state_compare import compare_states, record_ids
from toolgym.tasks import output_present
from toolgym.tooling import ToolKind

ROOT = Path(__file__).resolve().parents[2]
SUITE = load_suite("calendar")
ME = "alice.chen@example.com"
DAN = "dan.okafor@example.com"


def run(state, name, **arguments):
    """Execute one call through the suite; return (result or None, error or None, new state)."""
    outcome, new_state = SUITE.execute(state, ToolCall(name=name, arguments=arguments))
    return outcome.result, outcome.error, new_state


def ok(state, name, **arguments):
    result, error, new_state = run(state, name, **arguments)
    assert error is None, error
    return result, new_state


def fails(state, name, **arguments):
    """The call must raise a ToolError and leave the state unchanged; returns the message."""
    before = state_hash(state)
    result, error, new_state = run(state, name, **arguments)
    assert error is not None, f"{name} unexpectedly returned {result}"
    assert state_hash(new_state) == before
    return error


@pytest.fixture
def db():
    return SUITE.make_state(0)


def ids(events):
    return [e["id"] for e in events]


# ------------------------------------------------------------------------------- world
def test_seed_zero_world(db):
    package = type(db).__module__.rsplit(".", 1)[0]  # suites load under a private namespace
    world = importlib.import_module(f"{package}.world").world(0)
    assert world.today.isoformat() == "2026-03-02" and world.today.weekday() == 0
    assert (world.first_day.isoformat(), world.last_day.isoformat()) == ("2026-02-23", "2026-03-20")
    assert len(db.events) == 88 and db.next_id == 89
    assert db.events["ev-0035"].title == "1:1 Alice / Dan"


@pytest.mark.parametrize("seed", range(0, 40))
def test_no_one_is_double_booked_in_a_seeded_world(seed):
    events = SUITE.make_state(seed).chronological()
    for i, a in enumerate(events):
        for b in events[i + 1 :]:
            if a.overlaps(b.date, b.start, b.end):
                assert not set(a.attendees) & set(b.attendees), (seed, a.id, b.id)


def test_make_state_is_deterministic_and_fresh():
    first, second = SUITE.make_state(3), SUITE.make_state(3)
    assert state_hash(first) == state_hash(second)
    first.events["ev-0001"].attendees.append("x")
    assert "x" not in SUITE.make_state(3).events["ev-0001"].attendees
    assert state_hash(SUITE.make_state(0)) != state_hash(SUITE.make_state(1))


def test_deep_copy_is_independent(db):
    copy = db.model_copy(deep=True)
    assert state_hash(copy) == state_hash(db)
    copy.events["ev-0035"].attendees.clear()
    copy.events["ev-0035"].title = "changed"
    assert db.events["ev-0035"].attendees == [ME, DAN] and db.events["ev-0035"].title != "changed"


def test_state_hash_is_stable_across_processes():
    code = (
        "from toolgym import state_hash; from toolgym.content import load_suite; "
        "s = load_suite('calendar'); print(state_hash(s.make_state(0)), state_hash(s.make_state(7)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    assert out == [state_hash(SUITE.make_state(0)), state_hash(SUITE.make_state(7))]


# ------------------------------------------------------------------------------- find_people
def test_find_people(db):
    sarahs, _ = ok(db, "find_people", query="sarah")
    assert [(p["name"], p["email"]) for p in sarahs] == [
        ("Sarah Kim", "sarah.kim@example.com"),
        ("Sarah Patel", "sarah.patel@example.com"),
    ]
    backend, _ = ok(db, "find_people", query="Backend engineer")
    assert [p["name"] for p in backend] == ["Ben Carter", "Dan Okafor"]
    assert "Alice Chen" in fails(db, "find_people", query="Zoe")
    assert "empty" in fails(db, "find_people", query="  ")


# ------------------------------------------------------------------------------- list_events
def test_list_events_by_date_and_attendee(db):
    thursday, _ = ok(db, "list_events", start_date="2026-03-05", attendee=ME)
    assert ids(thursday["events"]) == ["ev-0042", "ev-0043", "ev-0044"]
    assert thursday["total"] == 3 and not thursday["truncated"]
    event = thursday["events"][2]
    assert event == {
        "id": "ev-0044",
        "title": "1:1 Alice / Marcus",
        "date": "2026-03-05",
        "start": "14:00",
        "end": "14:30",
        "attendees": ["Alice Chen", "Marcus Webb"],
        "location": "Alice's office",
    }
    monday, _ = ok(db, "list_events", start_date="2026-03-02")
    assert ids(monday["events"]) == [f"ev-00{n}" for n in range(26, 32)]
    by_name, _ = ok(
        db, "list_events", start_date="2026-03-09", end_date="2026-03-13", attendee="Tom Becker"
    )
    assert ids(by_name["events"]) == ["ev-0052", "ev-0053", "ev-0055", "ev-0057", "ev-0061"]


def test_list_events_limit_says_when_capped(db):
    capped, _ = ok(db, "list_events", start_date="2026-03-02", limit=2)
    assert (
        capped["total"] == 6
        and capped["truncated"]
        and ids(capped["events"]) == ["ev-0026", "ev-0027"]
    )


def test_list_events_errors(db):
    assert "before" in fails(db, "list_events", start_date="2026-03-05", end_date="2026-03-04")
    assert "too long" in fails(db, "list_events", start_date="2026-01-01", end_date="2026-06-01")
    assert "Dan Okafor <dan.okafor@example.com>" in fails(
        db, "list_events", start_date="2026-03-05", attendee="Dan"
    )
    assert "2 people match" in fails(db, "list_events", start_date="2026-03-05", attendee="Sarah")


# ------------------------------------------------------------------------------- search_events
def test_search_events(db):
    reviews, _ = ok(db, "search_events", query="design review")
    assert ids(reviews["events"]) == ["ev-0016", "ev-0041", "ev-0062", "ev-0082"]
    ranged, _ = ok(
        db, "search_events", query="Design Review", start_date="2026-03-04", end_date="2026-03-11"
    )
    assert ids(ranged["events"]) == ["ev-0041", "ev-0062"]
    by_attendee, _ = ok(db, "search_events", query="okafor 1:1", start_date="2026-03-09")
    assert ids(by_attendee["events"]) == ["ev-0056", "ev-0076"]
    nothing, _ = ok(db, "search_events", query="yoga")
    assert nothing == {"total": 0, "truncated": False, "events": []}
    described, _ = ok(db, "search_events", query="ticket estimates")
    assert ids(described["events"]) == ["ev-0027", "ev-0071"]
    assert described["events"][0]["description"] == "Bring ticket estimates."


def test_search_events_errors(db):
    assert "empty" in fails(db, "search_events", query=" ")
    assert "before" in fails(
        db, "search_events", query="lunch", start_date="2026-03-05", end_date="2026-03-01"
    )


# ------------------------------------------------------------------------------- get_event
def test_get_event(db):
    event, _ = ok(db, "get_event", event_id="ev-0041")
    assert (event["title"], event["start"], event["location"]) == (
        "Design review",
        "15:00",
        "Birch room",
    )
    assert "list_events" in fails(db, "get_event", event_id="ev-9999")


# ------------------------------------------------------------------------------- check_availability
def test_check_availability(db):
    busy, _ = ok(
        db, "check_availability", person=DAN, date="2026-03-03", start="14:00", end="15:30"
    )
    assert busy["name"] == "Dan Okafor" and not busy["free"]
    assert ids(busy["conflicts"]) == ["ev-0035", "ev-0036"]
    free, _ = ok(
        db,
        "check_availability",
        person="Omar Haddad",
        date="2026-03-03",
        start="14:00",
        end="15:00",
    )
    assert free["free"] and free["conflicts"] == []
    touching, _ = ok(
        db, "check_availability", person=DAN, date="2026-03-03", start="14:30", end="15:15"
    )
    assert touching["free"]  # back-to-back events do not conflict


def test_check_availability_errors(db):
    assert "after start" in fails(
        db, "check_availability", person=DAN, date="2026-03-03", start="15:00", end="15:00"
    )
    assert "find_people" in fails(
        db,
        "check_availability",
        person="nobody@example.com",
        date="2026-03-03",
        start="09:00",
        end="10:00",
    )


# ------------------------------------------------------------------------------- find_free_slots
def test_find_free_slots(db):
    result, _ = ok(
        db,
        "find_free_slots",
        people=[ME, DAN],
        start_date="2026-03-03",
        duration_minutes=30,
        earliest_start="12:00",
    )
    assert result["people"] == ["Alice Chen", "Dan Okafor"]
    assert [(s["start"], s["end"]) for s in result["slots"]] == [
        ("12:00", "12:30"),
        ("14:30", "15:00"),
    ]
    assert "only 2 of 3" in result["note"]
    morning, _ = ok(
        db, "find_free_slots", people=["Alice Chen"], start_date="2026-03-03", duration_minutes=30
    )
    assert [s["start"] for s in morning["slots"]] == ["09:00", "09:45", "10:15"]
    assert morning["note"] is None


def test_find_free_slots_skips_weekends_and_can_ignore_an_event(db):
    weekend, _ = ok(
        db,
        "find_free_slots",
        people=[ME],
        start_date="2026-03-06",
        end_date="2026-03-09",
        duration_minutes=60,
        earliest_start="15:00",
        latest_end="16:00",
        count=3,
    )
    assert [s["date"] for s in weekend["slots"]] == ["2026-03-06", "2026-03-09"]
    assert "only 2 of 3" in weekend["note"]
    with_weekend, _ = ok(
        db,
        "find_free_slots",
        people=[ME],
        start_date="2026-03-06",
        end_date="2026-03-09",
        duration_minutes=60,
        earliest_start="15:00",
        latest_end="16:00",
        include_weekends=True,
    )
    assert [s["date"] for s in with_weekend["slots"]] == ["2026-03-06", "2026-03-07", "2026-03-08"]
    ignoring, _ = ok(
        db,
        "find_free_slots",
        people=[ME, DAN],
        start_date="2026-03-03",
        duration_minutes=30,
        earliest_start="14:00",
        ignore_event_id="ev-0035",
        count=1,
    )
    assert ignoring["slots"] == [{"date": "2026-03-03", "start": "14:00", "end": "14:30"}]


def test_find_free_slots_errors(db):
    args = {"start_date": "2026-03-03", "duration_minutes": 30}
    assert "empty" in fails(db, "find_free_slots", people=[], **args)
    assert "after start" in fails(
        db, "find_free_slots", people=[ME], earliest_start="17:00", latest_end="09:00", **args
    )
    assert "31 days" in fails(
        db,
        "find_free_slots",
        people=[ME],
        start_date="2026-03-01",
        end_date="2026-04-15",
        duration_minutes=30,
    )
    assert "ev-0999" in fails(db, "find_free_slots", people=[ME], ignore_event_id="ev-0999", **args)
    assert "not the email" in fails(db, "find_free_slots", people=["Zoe"], **args)


# ------------------------------------------------------------------------------- create_event
def test_create_event_adds_the_user_and_counts_ids(db):
    event, db2 = ok(
        db,
        "create_event",
        title=" Hiring plan ",
        date="2026-03-05",
        start="15:00",
        end="15:30",
        attendees=["grace.liu@example.com"],
        location="Cedar room",
    )
    assert event == {
        "id": "ev-0089",
        "title": "Hiring plan",
        "date": "2026-03-05",
        "start": "15:00",
        "end": "15:30",
        "attendees": ["Alice Chen", "Grace Liu"],
        "location": "Cedar room",
    }
    assert db2.events["ev-0089"].attendees == [ME, "grace.liu@example.com"] and db2.next_id == 90
    second, db3 = ok(
        db2,
        "create_event",
        title="Focus",
        date="2026-03-05",
        start="16:00",
        end="17:00",
        attendees=[],
        description="Deep work",
    )
    assert second["id"] == "ev-0090" and second["description"] == "Deep work"
    assert len(db3.events) == 90 and len(db.events) == 88


def test_create_event_conflicts_name_the_event_unless_allowed(db):
    args = {"title": "Sync", "date": "2026-03-03", "start": "14:15", "end": "14:45"}
    message = fails(db, "create_event", attendees=["Sarah Kim"], **args)
    assert "ev-0035 '1:1 Alice / Dan'" in message and "allow_overlap" in message
    message = fails(
        db, "create_event", attendees=["Sarah Kim"], **{**args, "start": "16:45", "end": "17:15"}
    )
    assert "ev-0037 'Design crit'" in message and "(Sarah Kim)" in message
    event, db2 = ok(db, "create_event", attendees=[], allow_overlap=True, **args)
    assert event["id"] == "ev-0089" and "ev-0089" in db2.events


def test_create_event_errors(db):
    args = {"date": "2026-03-05", "attendees": []}
    assert "after start" in fails(db, "create_event", title="x", start="10:00", end="09:00", **args)
    assert "title is empty" in fails(
        db, "create_event", title=" ", start="16:00", end="17:00", **args
    )
    assert "2 people match" in fails(
        db,
        "create_event",
        title="x",
        date="2026-03-05",
        start="16:00",
        end="17:00",
        attendees=["Sarah"],
    )


# ------------------------------------------------------------------------------- update_event
def test_update_event_moves_and_keeps_the_length(db):
    moved, db2 = ok(db, "update_event", event_id="ev-0035", date="2026-03-05", start="13:00")
    assert (moved["date"], moved["start"], moved["end"]) == ("2026-03-05", "13:00", "13:30")
    longer, _ = ok(db2, "update_event", event_id="ev-0035", end="14:00")
    assert (longer["start"], longer["end"]) == ("13:00", "14:00")
    renamed, db3 = ok(
        db,
        "update_event",
        event_id="ev-0034",
        title="Lunch with Priya and Dan",
        add_attendees=[DAN],
        location="Cafe Luna",
        description="Celebrate",
    )
    assert renamed["attendees"] == ["Alice Chen", "Dan Okafor", "Priya Raman"]
    assert (renamed["title"], renamed["location"], renamed["description"]) == (
        "Lunch with Priya and Dan",
        "Cafe Luna",
        "Celebrate",
    )
    smaller, _ = ok(db3, "update_event", event_id="ev-0034", remove_attendees=["Dan Okafor"])
    assert smaller["attendees"] == ["Alice Chen", "Priya Raman"]


def test_update_event_conflicts(db):
    message = fails(db, "update_event", event_id="ev-0043", start="14:00")
    assert "cannot move 'Product sync'" in message and "ev-0044" in message
    message = fails(db, "update_event", event_id="ev-0029", add_attendees=["Omar Haddad"])
    assert "ev-0030 'Sales pipeline review'" in message and "(Omar Haddad)" in message
    moved, _ = ok(db, "update_event", event_id="ev-0043", start="14:00", allow_overlap=True)
    assert moved["end"] == "14:45"
    same_slot, _ = ok(db, "update_event", event_id="ev-0035", start="14:00")  # itself: no clash
    assert same_slot["start"] == "14:00"


def test_update_event_errors(db):
    assert "nothing to change" in fails(db, "update_event", event_id="ev-0035")
    assert "no event" in fails(db, "update_event", event_id="ev-0999", title="x")
    assert "not an attendee" in fails(
        db, "update_event", event_id="ev-0035", remove_attendees=["Tom Becker"]
    )
    assert "no attendees left" in fails(
        db, "update_event", event_id="ev-0035", remove_attendees=[ME, DAN]
    )
    assert "after midnight" in fails(db, "update_event", event_id="ev-0036", start="23:00")
    assert "after start" in fails(db, "update_event", event_id="ev-0035", end="13:00")
    assert "title is empty" in fails(db, "update_event", event_id="ev-0035", title="")


# ------------------------------------------------------------------------------- delete_event
def test_delete_event(db):
    result, db2 = ok(db, "delete_event", event_id="ev-0080")
    assert result["status"] == "deleted" and result["event"]["title"] == "Dentist appointment"
    assert "ev-0080" not in db2.events and "ev-0080" in db.events
    assert "no event" in fails(db2, "delete_event", event_id="ev-0080")


# ------------------------------------------------------------------------------- invalid arguments
@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("list_events", {"start_date": 5}),
        ("list_events", {"start_date": "2026-3-5"}),
        ("list_events", {}),
        ("list_events", {"start_date": "2026-03-05", "bogus": 1}),
        ("list_events", {"start_date": "2026-03-05", "limit": 0}),
        ("search_events", {"query": ["design"]}),
        (
            "check_availability",
            {"person": ME, "date": "2026-03-03", "start": "9am", "end": "10:00"},
        ),
        (
            "check_availability",
            {"person": ME, "date": "2026-03-03", "start": "09:00:30", "end": "10:00"},
        ),
        ("find_free_slots", {"people": ME, "start_date": "2026-03-03", "duration_minutes": 30}),
        ("find_free_slots", {"people": [ME], "start_date": "2026-03-03", "duration_minutes": 2}),
        (
            "find_free_slots",
            {
                "people": [ME],
                "start_date": "2026-03-03",
                "duration_minutes": 30,
                "include_weekends": "yes",
            },
        ),
        (
            "create_event",
            {"title": "x", "date": "2026-03-05", "start": "16:00", "end": "24:00", "attendees": []},
        ),
        ("create_event", {"title": "x", "date": "2026-03-05", "start": "16:00", "end": "17:00"}),
        ("update_event", {"event_id": "ev-0035", "allow_overlap": "maybe"}),
        ("delete_event", {"event_id": 35}),
        ("no_such_tool", {}),
    ],
)
def test_invalid_arguments_change_nothing(db, name, arguments):
    before = state_hash(db)
    outcome, after = SUITE.execute(db, ToolCall(name=name, arguments=arguments))
    assert not outcome.ok and state_hash(after) == before
    if name != "no_such_tool":
        with pytest.raises(InvalidArguments):
            SUITE.tool(name).run(db, arguments)


def test_tool_errors_are_tool_errors_not_crashes(db):
    with pytest.raises(ToolError):
        SUITE.tool("get_event").run(db, {"event_id": "nope"})


def test_doctests_of_the_suite_modules():
    package = type(SUITE.make_state(0)).__module__.rsplit(".", 1)[0]
    for name in ("state", "directory"):
        result = doctest.testmod(importlib.import_module(f"{package}.{name}"))
        assert result.attempted and not result.failed, name


def test_schemas_describe_times_and_defaults():
    slots = SUITE.tool("find_free_slots").parameters["properties"]
    assert slots["earliest_start"]["default"] == "09:00"
    assert slots["earliest_start"]["pattern"].startswith("^")
    assert {t.name: t.kind.value for t in SUITE.tools} == {
        "find_people": "read",
        "list_events": "read",
        "search_events": "read",
        "get_event": "read",
        "check_availability": "read",
        "find_free_slots": "read",
        "create_event": "write",
        "update_event": "write",
        "delete_event": "write",
    }


# ------------------------------------------------------------------------------- hand tasks
HAND = {
    split: load_tasks(ROOT / "tasks" / "calendar" / f"{split}.jsonl") for split in ("train", "test")
}
ALL_HAND = HAND["train"] + HAND["test"]


def replay(task):
    """Run every gold call in the written order; return [(call, result, error)]."""
    state, out = SUITE.initial_state(task), []
    for step in task.step_calls:
        for call in step:
            outcome, state = SUITE.execute(state, call)
            out.append((call, outcome.result, outcome.error))
    return out


def test_hand_task_files_are_complete():
    assert len(HAND["train"]) >= 32 and len(HAND["test"]) >= 16
    assert len({t.id for t in ALL_HAND}) == len(ALL_HAND)
    for category in ("single", "multi", "parallel", "dependent", "clarify", "no_call", "error"):
        assert sum(category in t.categories for t in ALL_HAND) >= 4, category
    for task in ALL_HAND:
        assert task.suite == "calendar" and task.gold_answer
        assert ("no_call" in task.categories) == (not task.gold_calls), task.id
        assert_parallel_category(task)
        assert ("clarify" in task.categories) == bool(task.user.hidden), task.id


def assert_parallel_category(task):
    """A step of several calls is parallel; so is a task of two steps that may run in any order
    (steps left unordered by their 'after' links), but such a task need not be tagged so."""
    together = any(len(step) > 1 for step in task.step_calls)
    orders = linear_extensions([tuple(s.after or ()) for s in task.steps], limit=2)
    if together:
        assert "parallel" in task.categories, task.id
    if "parallel" in task.categories:
        assert together or len(orders) > 1, task.id


COMPUTED = {  # required outputs not quoted verbatim by any result: checked by hand below
    "calendar-train-001",
    "calendar-train-019",
    "calendar-train-020",
    "calendar-train-030",
    "calendar-test-001",
    "calendar-test-008",
    "calendar-test-016",
}


@pytest.mark.parametrize("task", ALL_HAND, ids=lambda t: t.id)
def test_hand_task_gold_calls_replay(task):
    calls = replay(task)
    errors = [error for _, _, error in calls if error]
    assert len(errors) == ("error" in task.categories), (task.id, errors)
    evidence = json.dumps([r for _, r, _ in calls]) + " ".join(errors)
    check = check_answer(task.gold_answer, task.required_outputs, task.forbidden)
    assert check.passed, (task.id, check.failures)
    for required in task.required_outputs:
        if task.id not in COMPUTED and not availability_fact(required):
            assert output_present(evidence_forms(required), evidence), (task.id, required)
    checks = [r for call, r, _ in calls if call.name == "check_availability"]
    for fact in filter(availability_fact, task.required_outputs):
        # "free"/"busy" (bound to a person when several were checked): as check_availability said
        said = [r["free"] for r in checks if not fact.subjects or r["name"] in fact.subjects]
        assert said == [fact.value == "free"], (task.id, fact)
    for _, result, _ in calls:
        assert len(json.dumps(result)) <= 4000, task.id  # fits the env's result cap


def availability_fact(required):
    return isinstance(required, Fact) and required.value in ("free", "busy")


def evidence_forms(required):
    """How a required output appears in the tools' JSON results (dates ISO, times HH:MM)."""
    if isinstance(required, Fact):
        return [str(required.value), *required.alternatives]
    return required


def test_hand_task_counts_and_context_answers():
    tasks = {t.id: t for t in ALL_HAND}

    def events(task_id):
        return replay(tasks[task_id])[0][1]["events"]

    assert len(events("calendar-train-001")) == 3
    assert len(events("calendar-test-001")) == 4
    assert sum("Alice Chen" in e["attendees"] for e in events("calendar-train-020")) == 9
    assert sum("Alice Chen" in e["attendees"] for e in events("calendar-test-016")) == 3
    assert replay(tasks["calendar-train-030"])[0][2].startswith("no one in the directory")
    assert tasks["calendar-train-019"].required_outputs[0].value == "2026-03-06"  # Friday
    assert tasks["calendar-test-008"].required_outputs[0].value == "Tuesday"  # 2026-03-17


def test_oracle_solves_the_hand_tasks():
    env = ToolEnv(SUITE, ALL_HAND, limits=Limits(max_turns=12))
    for task in ALL_HAND:
        result = play(env, OraclePolicy(), task_id=task.id, seed=0)
        assert result.end_reason == "answered" and result.components["completion"] == 1.0, task.id


TASKS = {t.id: t for t in ALL_HAND}
ANSWERS = [  # natural answers: correct phrasings pass; swapped, contradicted or false ones fail
    ("calendar-train-001", "You have three events on Thursday.", True),
    ("calendar-train-001", "You have 4 events on Thursday.", False),
    ("calendar-train-001", "I couldn't find any events, maybe 3.", False),
    ("calendar-train-006", "Yes, Omar is available then.", True),
    ("calendar-train-006", "No, Omar is not free then.", False),
    (
        "calendar-train-007",
        "Dan is free then, but Priya isn't free: she has her 1:1 with Priya at 10:00.",
        True,
    ),
    (
        "calendar-train-007",
        "No. Dan Okafor is available; Priya Raman is busy (1:1 Alice / Priya, 10:00-10:30).",
        True,
    ),
    ("calendar-train-007", "Dan is busy, but Priya is free. 1:1 Alice / Priya.", False),
    ("calendar-train-007", "Both are free; the 1:1 Alice / Priya is later.", False),
    ("calendar-train-009", "Moved the 1:1 with Dan to Thursday at 1 pm.", True),
    ("calendar-train-009", "Moved the 1:1 with Dan to Thursday at 2 pm.", False),
    ("calendar-train-013", "Sorry, I couldn't book it: it overlaps Eng leads (11:00-12:00).", True),
    ("calendar-train-013", "Booked Budget check. Note it overlaps Eng leads.", False),
    ("calendar-train-018", "Sorry, I can't book train tickets; I only manage your calendar.", True),
    ("calendar-train-018", "Done, I booked your train to Boston.", False),
    ("calendar-train-021", "Cancelled ev-0053, ev-0056, ev-0060, ev-0065 and ev-0067.", True),
    ("calendar-train-021", "Cancelled ev-0053, ev-0056, ev-0060 and ev-0065.", False),
    ("calendar-train-025", "Monday, March 9 at 4 pm (ev-0053).", True),
    ("calendar-train-025", "Monday, March 10 at 4 pm.", False),
    (
        "calendar-train-026",
        "Blocked Focus time 2-4 pm on Friday (ev-0089) and moved your 1:1 with Ben to 13:30.",
        True,
    ),
    (
        "calendar-train-026",
        "Your 1:1 with Ben now starts at 1:30 pm. Focus time (ev-0089): 14:00.",
        True,
    ),
    (
        "calendar-train-026",
        "Your 1:1 with Ben now starts at 14:00. Focus time (ev-0089): 13:30.",
        False,
    ),
    ("calendar-train-030", "There is no one named Zoe in the directory.", True),
    ("calendar-train-030", "Zoe's email is zoe.smith@example.com.", False),
    (
        "calendar-test-003",
        "Yuki has a conflict (the Architecture review at 15:15); Elena is available.",
        True,
    ),
    ("calendar-test-003", "Yuki is free and Elena is busy with the Architecture review.", False),
    ("calendar-test-008", "It's a Tuesday.", True),
    ("calendar-test-008", "It's a Wednesday.", False),
    (
        "calendar-test-013",
        "I couldn't move it: it overlaps your 1:1 with Dan and Offsite planning.",
        True,
    ),
    (
        "calendar-test-013",
        "Moved Eng leads to 14:00, next to your 1:1 with Dan and Offsite planning.",
        False,
    ),
]


@pytest.mark.parametrize(("task_id", "answer", "passes"), ANSWERS)
def test_hand_task_answer_checks(task_id, answer, passes):
    task = TASKS[task_id]
    check = check_answer(answer, task.required_outputs, task.forbidden)
    assert check.passed == passes, check.failures


def test_hand_tasks_state_facts_and_forbid_false_claims():
    for task in ALL_HAND:
        claims = {f.claim for f in task.forbidden if isinstance(f, Claim)}
        if "error" in task.categories:
            assert "success" in claims and task.required_outputs, task.id
        if "not_found" in claims:
            assert "error" not in task.categories and task.required_outputs, task.id
    bound = [
        t.id for t in ALL_HAND if any(isinstance(f, Fact) and f.subject for f in t.required_outputs)
    ]
    assert bound == ["calendar-train-007", "calendar-train-026", "calendar-test-003"]
    old = [t.id for t in ALL_HAND if any(not isinstance(f, Fact) for f in t.required_outputs)]
    assert old == ["calendar-train-030"]  # "couldn't find Zoe": no kind fits a not-found phrase


# ------------------------------------------------------------------------------- audit kit
KIT = load_suite_part("calendar", "audit").kit
WITH_CALLS = [t for t in ALL_HAND if t.gold_calls]


def played(task):
    """(call, outcome, state before, state after) of every gold call, in the written order."""
    state, out = SUITE.initial_state(task), []
    for call in task.flat_gold_calls:
        outcome, after = SUITE.execute(state, call)
        out.append((call, outcome, state, after))
        state = after
    return out


def same_up_to_ids(actual, expected, initial):
    ids = record_ids(initial.model_dump(mode="json"), SUITE.generated_ids)
    return compare_states(
        actual.model_dump(mode="json"), expected.model_dump(mode="json"), ids, SUITE.generated_ids
    ).same


@pytest.mark.parametrize("task", WITH_CALLS, ids=lambda t: t.id)
def test_kit_undo_restores_the_state_before_each_gold_write(task):
    initial = SUITE.initial_state(task)
    for call, outcome, before, after in played(task):
        undo = KIT.undo(call, outcome, before)
        if not outcome.ok or outcome.kind is not ToolKind.WRITE:
            assert undo is None
        elif call.name == "delete_event":
            assert undo is None  # an event of the seeded world cannot come back under its id
        else:
            undone, restored = SUITE.execute(after, undo)
            assert undone.ok, undone.error
            assert same_up_to_ids(restored, before, initial), (call, undo)


def test_kit_undo_reverses_every_kind_of_edit(db):
    edits = [
        {"event_id": "ev-0034", "title": "Lunch", "location": "Cafe Luna", "description": "Yum"},
        {"event_id": "ev-0035", "date": "2026-03-05", "start": "13:00"},
        {"event_id": "ev-0035", "end": "14:45"},
        {"event_id": "ev-0036", "add_attendees": ["Omar Haddad"], "remove_attendees": [DAN]},
        {"event_id": "ev-0041", "description": "Bring mockups"},
    ]
    for arguments in edits:
        call = ToolCall(name="update_event", arguments=arguments)
        outcome, after = SUITE.execute(db, call)
        assert outcome.ok, outcome.error
        undone, restored = SUITE.execute(after, KIT.undo(call, outcome, db))
        assert undone.ok and state_hash(restored) == state_hash(db), arguments
    same = ToolCall(name="update_event", arguments={"event_id": "ev-0035", "start": "14:00"})
    outcome, _ = SUITE.execute(db, same)
    assert outcome.ok and KIT.undo(same, outcome, db) is None  # it changed nothing


def test_kit_undo_of_create_and_of_deleting_a_created_event(db):
    create = ToolCall(
        name="create_event",
        arguments={
            "title": "Sync",
            "date": "2026-03-05",
            "start": "16:00",
            "end": "16:30",
            "attendees": ["Grace Liu"],
            "description": "Agenda",
        },
    )
    created, with_event = SUITE.execute(db, create)
    undo = KIT.undo(create, created, db)
    assert undo == ToolCall(name="delete_event", arguments={"event_id": "ev-0089"})
    assert same_up_to_ids(SUITE.execute(with_event, undo)[1], db, db)
    delete = ToolCall(name="delete_event", arguments={"event_id": "ev-0089"})
    deleted, without = SUITE.execute(with_event, delete)
    again, back = SUITE.execute(without, KIT.undo(delete, deleted, with_event))
    assert again.ok and again.result["id"] == "ev-0090"  # a new id: the comparison ignores it
    assert same_up_to_ids(back, with_event, db) and not same_up_to_ids(back, db, db)
    failed, _ = SUITE.execute(db, ToolCall(name="delete_event", arguments={"event_id": "ev-0999"}))
    assert KIT.undo(delete, failed, db) is None


@pytest.mark.parametrize("task", WITH_CALLS, ids=lambda t: t.id)
def test_kit_respell_has_the_same_result_and_effect(task):
    for call, outcome, before, after in played(task):
        other = KIT.respell(call, before)
        if call.name in ("get_event", "delete_event"):
            assert other is None  # an id is spelled one way
            continue
        if other is None:  # only a failing look-up whose error quotes the query
            assert call.name == "find_people" and not outcome.ok, call
            continue
        assert other.arguments != call.arguments
        again, other_after = SUITE.execute(before, other)
        assert (again.result, again.error) == (outcome.result, outcome.error), (call, other)
        assert state_hash(other_after) == state_hash(after), (call, other)


def test_kit_respellings(db):
    def respelled(name, **arguments):
        other = KIT.respell(ToolCall(name=name, arguments=arguments), db)
        return other.arguments if other else None

    assert (
        respelled("check_availability", person=DAN, date="2026-03-03", start="14:00", end="15:00")[
            "person"
        ]
        == "Dan Okafor"
    )
    assert respelled("list_events", start_date="2026-03-05", attendee="Tom Becker") == {
        "start_date": "2026-03-05",
        "end_date": "2026-03-05",
        "attendee": "tom.becker@example.com",
    }
    assert respelled("search_events", query="design review")["query"] == "review design"
    assert respelled("find_people", query="Omar") == {"query": "omar"}
    assert respelled("find_people", query="Zoe") is None  # its error quotes the query
    create = respelled(
        "create_event", title="Focus", date="2026-03-06", start="14:00", end="16:00", attendees=[]
    )
    assert create["attendees"] == [ME]  # the user is added anyway
    move = respelled(
        "update_event", event_id="ev-0035", start="15:00", add_attendees=["Tom Becker"]
    )
    assert move == {
        "event_id": "ev-0035",
        "start": "15:00",
        "end": "15:30",
        "add_attendees": ["tom.becker@example.com"],
    }
    assert respelled("update_event", event_id="ev-0036", location="Zoom") == {
        "event_id": "ev-0036",
        "location": "Zoom",
        "allow_overlap": False,
    }  # nothing else to respell: the omitted default, given
    assert respelled("delete_event", event_id="ev-0035") is None


# ------------------------------------------------------------------------------- generator
@pytest.fixture(scope="module")
def generated():
    return SUITE.generate_tasks("train", 2000, 0), SUITE.generate_tasks("test", 200, 0)


def key(task):
    calls = [[c.model_dump() for c in step] for step in task.gold_calls]
    return json.dumps([task.instruction, calls], sort_keys=True)


def test_generator_is_deterministic():
    first = [t.model_dump() for t in SUITE.generate_tasks("train", 40, 5)]
    assert first == [t.model_dump() for t in SUITE.generate_tasks("train", 40, 5)]
    assert first != [t.model_dump() for t in SUITE.generate_tasks("train", 40, 6)]


def test_generator_gives_2000_distinct_train_tasks_disjoint_from_test(generated):
    train, test = generated
    assert len({key(t) for t in train}) == len(train) == 2000
    assert len({t.id for t in train}) == 2000 and train[0].id == "calendar-gen-train-0-0"
    assert not {key(t) for t in train} & {key(t) for t in test}
    other_seed = SUITE.generate_tasks("test", 100, 1)
    assert not {key(t) for t in train} & {key(t) for t in other_seed}
    covered = {c for t in train for c in t.categories}
    assert covered == {"single", "multi", "parallel", "dependent", "clarify", "no_call", "error"}
    assert len({t.world_seed for t in train}) > 50
    with pytest.raises(ValueError):
        SUITE.generate_tasks("dev", 1, 0)


def test_generated_gold_calls_replay(generated):
    train, test = generated
    for task in train[:150] + test[:50]:
        calls = replay(task)
        errors = [error for _, _, error in calls if error]
        assert len(errors) == ("error" in task.categories), (task.id, errors)
        check = check_answer(task.gold_answer, task.required_outputs, task.forbidden)
        assert check.passed, (task.id, check.failures)
        assert ("no_call" in task.categories) == (not task.gold_calls), task.id
        assert_parallel_category(task)
        assert ("clarify" in task.categories) == bool(task.user.hidden), task.id


def test_generated_tasks_state_facts(generated):
    train, test = generated
    for task in train[:300] + test[:60]:
        assert all(isinstance(f, Fact) for f in task.required_outputs), task.id
        claims = {f.claim for f in task.forbidden if isinstance(f, Claim)}
        if "error" in task.categories:
            assert claims == {"success"} and task.required_outputs, task.id
        elif "not_found" in claims:
            assert task.required_outputs and not task.user.hidden, task.id
    bound = [t for t in train if any(f.subject for f in t.required_outputs)]
    assert bound and all("parallel" in t.categories for t in bound)  # who of two is free


def test_oracle_solves_generated_tasks(generated):
    sample = generated[0][:60] + generated[1][:20]
    env = ToolEnv(SUITE, sample, limits=Limits(max_turns=12))
    for task in sample:
        result = play(env, OraclePolicy(), task_id=task.id, seed=0)
        assert result.end_reason == "answered" and result.components["completion"] == 1.0, task.id
