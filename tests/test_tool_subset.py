"""A spec's ``tools`` list: the env offers only those tools of its suite (a curriculum's subset)."""

import json
import pickle

import pytest

from toolgym.content import load_suite
from toolgym.registry import load_spec, make_env
from toolgym.tasks import Task

CALENDAR = load_spec("envs/calendar.toml")
LOOKUP_TOOLS = ["list_events", "find_people"]


def _env(tools, tasks=None):
    spec = CALENDAR.model_copy(update={"tools": tools})
    return make_env(spec, "train", **({"tasks": tasks} if tasks is not None else {}))


def _single_call_tasks():
    tasks = make_env(CALENDAR, "train").unwrapped.tasks
    return [t for t in tasks if {c.name for c in t.flat_gold_calls} <= set(LOOKUP_TOOLS)]


def test_only_the_offered_tools_are_shown_and_callable():
    env = _env(LOOKUP_TOOLS, _single_call_tasks())
    names = [s["function"]["name"] for s in env.tool_specs]
    assert names == ["find_people", "list_events"]  # the suite's declaration order
    prompt = env.system_prompt(env.tasks[0])
    assert "create_event" not in prompt and "list_events" in prompt
    env.reset(seed=0)
    call = json.dumps({"name": "create_event", "arguments": {"title": "x"}})
    observation, _, _, _, info = env.step(f"<tool_call>\n{call}\n</tool_call>")
    assert observation[-1]["content"].startswith("Error: unknown tool 'create_event'")
    assert "available tools: find_people, list_events" in observation[-1]["content"]


def test_full_suite_is_the_default():
    env = make_env(CALENDAR, "train")
    assert len(env.tool_specs) == len(load_suite("calendar").tools) > len(LOOKUP_TOOLS)


def test_an_unknown_tool_name_is_named_with_the_available_ones():
    with pytest.raises(
        ValueError, match=r"toolgym/Calendar-v0: tools: .*\['send_fax'\].*list_events"
    ):
        _env(["list_events", "send_fax"])


def test_tasks_that_need_a_tool_not_offered_are_refused_by_id():
    with pytest.raises(
        ValueError, match=r"tools: \d+ task\(s\) need a tool .*calendar-train-\d+ calls"
    ):
        _env(LOOKUP_TOOLS)  # the whole split: some tasks create or move events


def test_an_empty_subset_of_a_suite_is_refused():
    with pytest.raises(ValueError, match="at least one tool"):
        load_suite("calendar").only([])


def test_a_subset_pickles_as_its_folder_and_names():
    full = load_suite("calendar")
    subset = full.only(["list_events"])
    again = pickle.loads(pickle.dumps(subset))
    assert [t.name for t in again.tools] == ["list_events"]
    assert again.full is full and again.tool("list_events") is full.tool("list_events")
    env = pickle.loads(pickle.dumps(_env(LOOKUP_TOOLS, _single_call_tasks()[:2])))
    assert [s["function"]["name"] for s in env.tool_specs] == ["find_people", "list_events"]


def test_subset_keeps_state_and_results_of_the_full_suite():
    task: Task = _single_call_tasks()[0]
    (call,) = task.flat_gold_calls
    full = load_suite("calendar")
    subset = full.only(LOOKUP_TOOLS)
    outcome_full, _ = full.execute(full.initial_state(task), call)
    outcome_subset, _ = subset.execute(subset.initial_state(task), call)
    assert outcome_subset.ok and outcome_subset.result == outcome_full.result
