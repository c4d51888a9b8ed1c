"""A spec's ``tools`` list: the env offers only those tools of its suite (a curriculum's subset)."""

import json
import pickle

import pytest

from toolgym.content import load_suite
from toolgym.registry import load_spec, make_env
from toolgym.tasks import Task

CALENDAR = load_spec("envs/calendar.toml")
LOOKUP_TOOLS = ["list_events", "find_people"]
LOOKUP_TEXT = "You look up Alice's calendar: find_people, then list_events."


def _env(tools, tasks=None, instructions=LOOKUP_TEXT):
    spec = CALENDAR.model_copy(update={"tools": tools, "instructions": instructions})
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


def test_the_spec_instructions_replace_the_suite_s():
    env = _env(LOOKUP_TOOLS, _single_call_tasks()[:1])
    prompt = env.system_prompt(env.tasks[0])
    assert prompt.startswith(LOOKUP_TEXT) and load_suite("calendar").instructions not in prompt
    spec = CALENDAR.model_copy(update={"instructions": "Be brief."})  # no subset: every tool
    full = make_env(spec, "train", tasks=env.tasks)
    assert full.system_prompt(full.tasks[0]).startswith("Be brief.")
    assert len(full.tool_specs) == len(load_suite("calendar").tools)


def test_a_subset_told_of_a_tool_it_does_not_offer_is_refused():
    """Calendar's instructions name search_events: a lookup subset must bring its own text."""
    with pytest.raises(
        ValueError,
        match=r"Calendar-v0: tools: the suite's instructions name tool\(s\) this env does not "
        r"offer \(search_events\); write the env's own instructions",
    ):
        _env(LOOKUP_TOOLS, _single_call_tasks()[:1], instructions=None)
    # offering it too: nothing the prompt names is missing
    _env([*LOOKUP_TOOLS, "search_events"], _single_call_tasks()[:1], instructions=None)


def test_the_bundled_lookup_curriculum_names_only_its_tools():
    env = make_env(load_spec("envs/calendar_lookup.toml"), "test")
    prompt = env.system_prompt(env.tasks[0])
    offered = {s["function"]["name"] for s in env.tool_specs}
    others = {t.name for t in load_suite("calendar").tools} - offered
    assert offered == {"find_people", "list_events", "get_event"}
    assert not [name for name in others if name in prompt], "names a tool it does not offer"
    assert "allow_overlap" not in prompt  # nor a rule of the write tools


def test_an_mcp_env_takes_its_instructions_from_the_mcp_table():
    spec = CALENDAR.model_copy(update={"instructions": "x"})
    spec = spec.model_copy(update={"mcp": spec.mcp.model_copy(update={"command": ["server"]})})
    with pytest.raises(ValueError, match=r"instructions: an \[mcp\] env takes its system prompt"):
        make_env(spec, "train", tasks=[])


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
    assert again.instructions == full.instructions
    env = pickle.loads(pickle.dumps(_env(LOOKUP_TOOLS, _single_call_tasks()[:2])))
    assert [s["function"]["name"] for s in env.tool_specs] == ["find_people", "list_events"]
    assert env.suite.instructions == LOOKUP_TEXT  # the spec's own text travels with the subset


def test_subset_keeps_state_and_results_of_the_full_suite():
    task: Task = _single_call_tasks()[0]
    (call,) = task.flat_gold_calls
    full = load_suite("calendar")
    subset = full.only(LOOKUP_TOOLS)
    outcome_full, _ = full.execute(full.initial_state(task), call)
    outcome_subset, _ = subset.execute(subset.initial_state(task), call)
    assert outcome_subset.ok and outcome_subset.result == outcome_full.result
