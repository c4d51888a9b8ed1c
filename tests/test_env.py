"""ToolEnv behaviour on the tiny counters suite: turns, users, limits, determinism, rewards."""

import gymnasium as gym
import pytest

from toolgym.formats import get_format
from toolgym.tooling import ToolCall

HERMES = get_format("hermes")


def hermes(tool_name, /, **arguments):
    return HERMES.render_calls([ToolCall(name=tool_name, arguments=arguments)])


@pytest.fixture
def make(counters_env_id):
    def build(**kwargs):
        kwargs.setdefault("rewards", {"completion": 1.0})  # the spec also pays 0.1 per good format
        return gym.make(counters_env_id, **kwargs).unwrapped

    return build


def test_reset_gives_system_and_user_messages(make):
    env = make()
    obs, info = env.reset(seed=0, options={"task_id": "c-1"})
    assert [m["role"] for m in obs] == ["system", "user"]
    assert obs[1]["content"] == "How many apples?"
    assert "<tools>" in obs[0]["content"] and '"name": "get"' in obs[0]["content"]
    assert info["task_id"] == "c-1" and [t["function"]["name"] for t in info["tools"]] == [
        "get",
        "add",
    ]
    with pytest.raises(KeyError, match="no task 'nope'"):
        env.reset(options={"task_id": "nope"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"task": "c-1"})


def test_tool_turn_then_answer(make):
    env = make()
    env.reset(seed=0, options={"task_id": "c-1"})
    obs, reward, terminated, truncated, info = env.step(hermes("get", name="apples"))
    assert obs == [{"role": "tool", "name": "get", "content": "3"}]
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["reward_components"]["step_match"] == 1.0
    obs, reward, terminated, truncated, info = env.step("You have 3 apples.")
    assert obs == [] and terminated and not truncated and reward == 1.0
    assert (
        info["end_reason"] == "answered" and info["toolgym"]["final_answer"] == "You have 3 apples."
    )
    with pytest.raises(RuntimeError, match="call reset"):
        env.step("again")


def test_errors_become_observations_and_keep_state(make):
    env = make()
    env.reset(seed=0, options={"task_id": "c-2"})
    before = env.summary()["state_hash"]
    obs, *_ = env.step(hermes("add", name="apples", amount="two"))
    assert obs[0]["content"].startswith("Error: add: argument 'amount'")
    obs, *_ = env.step(hermes("teleport"))
    assert "unknown tool 'teleport'" in obs[0]["content"]
    assert env.summary()["state_hash"] == before
    obs, reward, terminated, truncated, info = env.step("<tool_call>{oops</tool_call>")
    assert "malformed tool call (hermes format)" in obs[-1]["content"]
    assert (
        truncated and info["end_reason"] == "max_invalid_streak" and reward == 0.0
    )  # 3 invalid turns in a row


def test_domain_error_is_not_an_invalid_turn(make):
    env = make(limits={"max_invalid_streak": 1})
    env.reset(seed=0, options={"task_id": "c-1"})
    obs, _, terminated, truncated, _ = env.step(hermes("get", name="pears"))
    assert obs[0]["content"] == "Error: no counter 'pears'; counters: ['apples']"
    assert not terminated and not truncated


def test_limits_truncate(make):
    env = make(limits={"max_turns": 2})
    env.reset(seed=0, options={"task_id": "c-1"})
    env.step(hermes("get", name="apples"))
    *_, terminated, truncated, info = env.step(hermes("get", name="apples"))
    assert truncated and not terminated and info["end_reason"] == "max_turns"
    assert info["reward_components"]["completion"] == 0.0

    env = make(limits={"max_calls_per_turn": 2, "max_invalid_streak": 2})
    env.reset(seed=0, options={"task_id": "c-1"})
    flood = HERMES.render_calls([ToolCall(name="get", arguments={"name": "apples"})] * 3)
    obs, _, _, truncated, info = env.step(flood)  # refused unread: an invalid turn, not an end
    assert not truncated and env.episode.turns[-1].outcomes == [] and env.episode.turns[-1].invalid
    assert obs[0]["content"] == (
        "Error: message refused: 3 tool calls in one message; at most 2 are allowed"
    )
    *_, truncated, info = env.step(flood)
    assert truncated and info["end_reason"] == "max_invalid_streak"


def test_long_results_are_cut_with_a_marker(make):
    env = make(limits={"max_result_chars": 64})
    env.reset(seed=0, options={"task_id": "c-1"})
    obs, *_ = env.step(hermes("get", name="x" * 500))
    text = obs[0]["content"]
    assert text.startswith("Error: no counter") and text.endswith("more characters not shown]")
    assert len(text) < 120


def test_clarification_with_scripted_user(make):
    env = make()
    env.reset(seed=0, options={"task_id": "c-3"})
    obs, _, _, _, info = env.step("How many should I add?")
    assert obs == [{"role": "user", "content": "Five."}]
    assert info["reward_components"]["step_match"] == 1.0  # asking was the gold move
    obs, _, _, _, info = env.step(hermes("add", name="pears", amount=5))
    assert info["reward_components"]["step_match"] == 1.0
    _, reward, terminated, _, info = env.step("Added five pears.")
    assert terminated and reward == 1.0


def test_guessing_instead_of_asking_is_not_a_step_match(make):
    env = make()
    env.reset(seed=0, options={"task_id": "c-3"})
    _, _, _, _, info = env.step(hermes("add", name="pears", amount=3))
    assert info["reward_components"]["step_match"] == 0.0
    _, reward, terminated, _, info = env.step("Added three pears.")
    assert terminated and reward == 0.0 and info["reward_components"]["state_match"] == 0.0


def test_glm_halting_rule(make):
    env = make(halt_on_malformed=True, rewards={"completion": 1.0, "format": 1.0})
    env.reset(seed=0, options={"task_id": "c-1"})
    _, reward, terminated, truncated, info = env.step("<tool_call>{bad json</tool_call>")
    assert terminated and not truncated and reward == 0.0 and info["end_reason"] == "malformed"


def test_same_seed_same_actions_same_everything(make):
    actions = [
        "What now?",
        hermes("get", name="apples"),
        "<tool_call>x</tool_call>",
        "There are 3.",
    ]

    def run():
        env = make()
        out = [env.reset(seed=7)]
        for action in actions:
            step = env.step(action)
            out.append(step)
            if step[2] or step[3]:
                break
        return out

    assert run() == run()
    env = make()
    drawn = {env.reset(seed=s)[1]["task_id"] for s in range(30)}
    assert drawn == {"c-1", "c-2", "c-3"}  # seeds choose among all tasks


def test_action_must_be_text(make):
    env = make()
    env.reset(seed=0)
    with pytest.raises(TypeError, match="assistant's message as a str"):
        env.step(["not", "text"])
