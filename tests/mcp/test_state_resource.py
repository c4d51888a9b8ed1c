"""Completion by a server's state resource: the right words earn nothing if the world is wrong."""

from __future__ import annotations

import sys

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers toolgym/MCP-v0)

pytest.importorskip("mcp", reason="the mcp extra is not installed")
from mcp_helpers import HERE, KV_SERVER, call, kv_task

from toolgym.mcp.env import MCPEnv, MCPEnvError
from toolgym.policies.play import play
from toolgym.policies.reference import OraclePolicy

KV = [sys.executable, str(KV_SERVER)]
ANSWER = "Stored: color is blue."


def _make(server: list[str] = KV, **kwargs: object) -> MCPEnv:
    kwargs.setdefault("tasks", [kv_task()])
    env = gym.make("toolgym/MCP-v0", server=server, suite_name="kv", timeout_s=20, **kwargs)
    return env.unwrapped


def _play(env: MCPEnv, actions: list[str]) -> dict:
    """Reset, play ``actions``, and return the last step's info (the episode must end there)."""
    env.reset(seed=0)
    for action in actions[:-1]:
        assert not any(env.step(action)[2:4])
    _, _, terminated, truncated, info = env.step(actions[-1])
    assert terminated and not truncated
    return info


@pytest.fixture
def env():
    made = _make()
    yield made
    made.close()


def test_the_right_state_completes_the_task(env: MCPEnv) -> None:
    assert env.state_uri == "state://current"  # found by the convention
    info = _play(env, [call("put", key="color", value="blue"), ANSWER])
    assert info["reward_components"]["completion"] == 1.0
    assert info["reward_components"]["state_match"] == 1.0
    assert env.state.model_dump() == {"color": "blue"}  # read from the server, not replayed


def test_the_oracle_completes_it(env: MCPEnv) -> None:
    assert play(env, OraclePolicy(), seed=0).components["completion"] == 1.0


def test_right_words_after_undoing_the_write_do_not(env: MCPEnv) -> None:
    actions = [call("put", key="color", value="blue"), call("delete", key="color"), ANSWER]
    info = _play(env, actions)
    completion = info["toolgym"]["completion"]
    assert info["reward_components"]["completion"] == 0.0
    assert completion["reasons"] == ["state_differs"]
    assert completion["state_differences"] == ['color: missing (expected "blue")']


def test_a_wrong_write_is_never_repaired_by_the_gold(env: MCPEnv) -> None:
    # The gold cursor checks an off-gold call against the gold by running the gold call; on an MCP
    # suite that must never reach the server (it would store "blue" for the agent).
    info = _play(env, [call("put", key="color", value="red"), ANSWER])
    assert info["reward_components"]["completion"] == 0.0
    assert "state_differs" in info["toolgym"]["completion"]["reasons"]
    assert env.state.model_dump() == {"color": "red"}


def test_the_state_is_read_after_writes_and_again_at_reset(env: MCPEnv) -> None:
    env.reset(seed=0)
    assert env.state.model_dump() == {}
    env.step(call("put", key="size", value="L"))
    assert env.state.model_dump() == {"size": "L"}
    env.step(call("get", key="size"))
    env.reset(seed=1)  # a fresh server: an empty store
    assert env.state.model_dump() == {}


def test_an_unreadable_state_resource_fails_the_state_and_says_why() -> None:
    env = _make([*KV, "--bad-state"])
    try:
        info = _play(env, [call("put", key="color", value="blue"), ANSWER])
        assert info["reward_components"]["completion"] == 0.0
        assert info["toolgym"]["state_error"].startswith(
            "state resource 'state://current': its text is not JSON"
        )
        assert "state_resource_error" in info["toolgym"]["completion"]["state_differences"][0]
    finally:
        env.close()


def test_a_named_state_resource_is_used_and_a_missing_one_refused() -> None:
    env = _make([*KV, "--state-uri", "kv://store"], state_resource="kv://store")
    try:
        assert env.state_uri == "kv://store"
        info = _play(env, [call("put", key="color", value="blue"), ANSWER])
        assert info["reward_components"]["completion"] == 1.0
    finally:
        env.close()
    with pytest.raises(MCPEnvError, match=r"state_resource 'kv://nope' cannot be read"):
        _make(state_resource="kv://nope")


def test_tasks_the_server_cannot_score_are_refused_when_the_env_is_built() -> None:
    no_state = [sys.executable, str(HERE / "third_party_server.py")]
    with pytest.raises(MCPEnvError, match=r"\['kv-1'\] set expected_state.*state://current"):
        _make(no_state)
    with pytest.raises(MCPEnvError, match=r"set initial_state.*reset_tool"):
        _make(tasks=[kv_task(initial_state={"color": "red"})])


def test_a_task_without_expected_state_scores_no_state() -> None:
    env = _make(tasks=[kv_task(expected_state=None)])
    try:
        info = _play(
            env, [call("put", key="color", value="blue"), call("put", key="x", value="y"), ANSWER]
        )
        assert info["reward_components"]["completion"] == 1.0  # an extra write: not scored
        assert env.state.model_dump() == {}
    finally:
        env.close()
