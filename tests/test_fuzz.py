"""10,000+ random and malformed assistant texts across all envs: nothing escapes, nothing corrupts."""

import json

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolgym  # noqa: F401
from toolgym.registry import registered_specs
from toolgym.suite import state_hash
from toolgym.tooling import ToolCall

BUNDLED = sorted(i for i in registered_specs() if i.startswith("toolgym/"))
EXAMPLES_PER_ENV = 250  # x >= 10 texts each x 4 envs >= 10,000 texts
SENT = {"texts": 0}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(
        ["../../etc/passwd", "/abs/path", "a\x00b", "2026-03-02", "10:00", "x" * 300]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=5,
)
FRAGMENTS = [
    "<tool_call>",
    "</tool_call>",
    "<think>",
    "</think>",
    "<arg_key>",
    "</arg_key>",
    "<arg_value>",
    "</arg_value>",
    "{",
    "}",
    '"name"',
    '"arguments"',
    ":",
    ",",
    "?",
    " ",
    "\n",
    "[",
    "]",
    "\x00",
    "🙂",
]


def action_strategy(env):
    tools = [s["function"] for s in env.tool_specs]
    gold = [c for t in env.tasks for c in t.flat_gold_calls]

    @st.composite
    def call_text(draw):
        if gold and draw(st.booleans()):
            base = draw(st.sampled_from(gold))
            arguments = dict(base.arguments)
            for key in draw(st.lists(st.sampled_from(sorted(arguments) or ["x"]), max_size=2)):
                arguments[key] = draw(json_values)
            name = base.name
        else:
            tool = draw(st.sampled_from(tools))
            keys = list(tool["parameters"].get("properties", {})) + ["unknown_arg"]
            arguments = draw(st.dictionaries(st.sampled_from(keys), json_values, max_size=4))
            name = draw(st.sampled_from([tool["name"], tool["name"], "no_such_tool", ""]))
        calls = [ToolCall(name=name or "x", arguments=arguments)] * draw(st.integers(1, 3))
        text = env.tool_format.render_calls(calls)
        if draw(st.integers(0, 4)) == 0:  # corrupt it
            cut = draw(st.integers(0, len(text)))
            text = text[:cut] + draw(st.sampled_from(FRAGMENTS)) + text[cut + 1 :]
        return text

    soup = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
    answer = st.sampled_from(
        ["Done.", "Which day?", "Shall I proceed?", "", "<think>ok</think>All set."]
    )
    return st.one_of(call_text(), call_text(), soup, st.text(max_size=300), answer)


@pytest.mark.parametrize("tool_format", ["hermes", "glm"])
@pytest.mark.parametrize("env_id", BUNDLED)
def test_fuzz_assistant_texts(env_id, tool_format):
    env = gym.make(env_id, format=tool_format).unwrapped
    limits = env.limits

    @settings(
        max_examples=EXAMPLES_PER_ENV // 2, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.data())
    def episode(data):
        env.reset(seed=data.draw(st.integers(0, 2**16)))
        actions = data.draw(st.lists(action_strategy(env), min_size=10, max_size=20))
        for action in actions:
            before = state_hash(env.state)
            obs, reward, terminated, truncated, info = env.step(action)
            SENT["texts"] += 1
            assert env.observation_space.contains(obs)
            json.dumps(info)  # info is plain JSON
            turn = env.episode.turns[-1]
            assert not any(o.error_kind == "tool_crash" for o in turn.outcomes), turn.outcomes
            if not any(o.ok for o in turn.outcomes):
                assert state_hash(env.state) == before, "a failed or invalid turn changed the state"
            assert len(env.episode.turns) <= limits.max_turns
            if terminated or truncated:
                assert info["end_reason"]
                env.reset(seed=data.draw(st.integers(0, 2**16)))

    episode()


def test_fuzz_sent_at_least_10000_texts():
    if SENT["texts"] == 0:
        pytest.skip("run together with test_fuzz_assistant_texts")
    print(f"fuzz: {SENT['texts']} assistant texts sent")
    assert SENT["texts"] >= 10_000
