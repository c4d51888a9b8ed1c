"""Untrusted model output never stops a run: hostile strings, huge actions, floods of calls."""

import json

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.argument_text import (
    DEFAULT_MAX_CHARS,
    argument_problems,
    string_rules,
    text_problem,
)
from toolgym.content import load_suite
from toolgym.suite import state_hash
from toolgym.tooling import ToolCall

BOOKING = {"hotel_id": "H-BOS-1", "check_in": "2026-03-10", "check_out": "2026-03-13",
           "room_type": "standard"}  # fmt: skip


def travel():
    env = gym.make("toolgym/Travel-v0").unwrapped
    env.reset(seed=0, options={"task_id": "travel-train-003"})
    return env


def safe_text(value):
    """Everything an episode hands out must survive a strict UTF-8 writer (a JSONL file)."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


def test_a_lone_surrogate_from_a_json_escape_is_refused_and_the_episode_ends_normally():
    env = travel()
    before = state_hash(env.state)
    raw = json.dumps({"name": "book_hotel", "arguments": BOOKING | {"guest_name": "Ann"}})
    raw = raw.replace('"Ann"', '"Ann\\udfff"')  # the escape, as a model would write it
    obs, *_ = env.step(f"<tool_call>\n{raw}\n</tool_call>")
    assert "lone surrogate (U+DFFF) at character 3" in obs[0]["content"]
    assert state_hash(env.state) == before and env.episode.turns[-1].invalid
    *_, terminated, _, info = env.step("Booked.")
    assert terminated and info["toolgym"]["state_hash"]
    safe_text(info)


@pytest.mark.parametrize("name", ["Ann\x00", "Ann\x1b[31m", "Ann\nBob", "Ann\x85"])
def test_control_characters_in_a_one_line_field_are_refused(name):
    env = travel()
    before = state_hash(env.state)
    call = ToolCall(name="book_hotel", arguments=BOOKING | {"guest_name": name})
    obs, *_ = env.step(env.tool_format.render_calls([call]))
    assert "control characters are not allowed" in obs[0]["content"]
    assert state_hash(env.state) == before


def test_multiline_parameters_keep_newlines_and_tabs_but_not_nul():
    env = gym.make("toolgym/Files-v0").unwrapped
    env.reset(seed=0)
    good = ToolCall(name="write_file", arguments={"path": "notes.txt", "content": "a\n\tb\r\n"})
    outcome, state = env.suite.execute(env.state, good)
    assert outcome.ok, outcome.error
    for bad in ({"path": "a\nb.txt", "content": "x"}, {"path": "a.txt", "content": "x\x00"}):
        outcome, after = env.suite.execute(env.state, ToolCall(name="write_file", arguments=bad))
        assert outcome.error_kind == "invalid_arguments" and after is env.state


def test_strings_are_checked_at_every_depth_and_keys_too():
    schema = {
        "type": "object",
        "properties": {
            "people": {"type": "array", "items": {"type": "string"}},
            "note": {"anyOf": [{"type": "string", "x-multiline": True}, {"type": "null"}]},
            "short": {"type": "string", "maxLength": 4},
        },
    }
    problems = argument_problems(
        {"people": ["ok", "b\x00d"], "note": "line\nline", "short": "abcde", "k\ud800": 1}, schema
    )
    assert problems == [  # names first, then values breadth first
        "an argument name holds a lone surrogate (U+D800) at character 1; it is not valid Unicode text",
        "argument 'short' is 5 characters long; at most 4 are allowed",
        "argument 'people[1]' holds NUL (U+0000) at character 1; control characters are not allowed "
        "(only multiline text fields may hold newlines and tabs)",
    ]
    assert text_problem("x" * DEFAULT_MAX_CHARS) is None
    assert text_problem("x" * (DEFAULT_MAX_CHARS + 1)) is not None
    assert text_problem("\u202eRTL and zero\u200bwidth are text") is None


def test_an_unknown_tool_name_is_never_echoed_raw():
    env = travel()
    obs, *_ = env.step('<tool_call>{"name": "bo\\udfffk", "arguments": {}}</tool_call>')
    assert "'name' holds a lone surrogate (U+DFFF) at character 2" in obs[0]["content"]
    safe_text(obs)
    outcome, _ = env.suite.execute(env.state, ToolCall(name="bo\udfffk"))  # from Python
    assert outcome.error.startswith("unknown tool (a name that holds a lone surrogate")
    safe_text(outcome.error)


def test_messages_over_the_limit_or_not_unicode_are_refused_unread():
    env = travel()
    limit = env.limits.max_action_chars
    call = ToolCall(name="book_hotel", arguments=BOOKING | {"guest_name": "A" * limit})
    before = state_hash(env.state)
    obs, *_, info = env.step(env.tool_format.render_calls([call]))
    assert obs[0]["content"].startswith("Error: message refused: the message has")
    assert state_hash(env.state) == before and env.episode.turns[-1].invalid
    assert len(info["messages"][-2]["content"]) < limit + 100  # kept as an excerpt, not whole
    obs, *_, info = env.step("I booked it \udfff for you.")
    assert "lone surrogate at character 12" in obs[0]["content"]
    safe_text(info)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * 50_000, "nested deeper than 32 levels"),
        (
            json.dumps({"name": "get_hotel", "arguments": {str(i): i for i in range(2_000)}}),
            "more than 512 object keys",
        ),  # fmt: skip
    ],
)
def test_oversized_call_json_is_an_error_turn(body, problem):
    env = gym.make(
        "toolgym/Travel-v0", limits={"max_call_chars": 1 << 20, "max_action_chars": 1 << 20}
    ).unwrapped
    env.reset(seed=0)
    obs, *_ = env.step(f"<tool_call>{body}</tool_call>")
    assert problem in obs[0]["content"] and env.episode.turns[-1].invalid


SUITES = ("calendar", "files", "search", "travel")
hostile = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), max_size=12
) | st.sampled_from(["\udfff", "\x00", "a\nb", "\u202e", "x" * 5000])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SUITES), st.data())
def test_no_string_a_tool_receives_breaks_the_state_or_its_hash(suite_name, data):
    suite = load_suite(suite_name)
    state = suite.make_state(0)
    before = state_hash(state)
    tool = data.draw(st.sampled_from(suite.tools))
    names = list(tool.parameters.get("properties", {}))
    arguments = data.draw(st.dictionaries(st.sampled_from(names + ["extra"]), hostile, max_size=4))
    outcome, after = suite.execute(state, ToolCall(name=tool.name, arguments=arguments))
    state_hash(after)  # never raises
    safe_text(outcome.error or outcome.result)
    if not outcome.ok:
        assert state_hash(after) == before
    properties = tool.parameters.get("properties", {})
    for name, value in arguments.items():
        multiline, max_chars = string_rules(properties.get(name), tool.parameters)
        if text_problem(value, multiline=multiline, max_chars=max_chars) or text_problem(name):
            assert outcome.error_kind == "invalid_arguments"  # it never reached the tool
