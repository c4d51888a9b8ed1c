"""MCP-v0 over a third-party-style server: schemas, validation, errors, isolation, crashes."""

from __future__ import annotations

import re
import sys
import time

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers toolgym/MCP-v0)

pytest.importorskip("mcp", reason="the mcp extra is not installed")
from mcp_helpers import HERE, child_pids

from toolgym.tasks import Task

SERVER = [sys.executable, str(HERE / "third_party_server.py")]


def _task(answer: str = "5") -> Task:
    return Task.model_validate(
        {
            "id": "add-1",
            "suite": "mcp",
            "instruction": "What is 2 + 3?",
            "gold_calls": [[{"name": "add", "arguments": {"a": 2, "b": 3}}]],
            "required_outputs": [{"value": answer}],
            "gold_answer": f"It is {answer}.",
        }
    )


def _call(name: str, **arguments: object) -> str:
    import json

    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def test_tools_calls_errors_and_isolation() -> None:
    before = child_pids()
    env = gym.make("toolgym/MCP-v0", server=SERVER, tasks=[_task()], timeout_s=20).unwrapped
    try:
        names = [s["function"]["name"] for s in env.tool_specs]
        assert names == ["add", "write_note", "fail", "reset_notes", "pid"]
        env.reset(seed=0)
        obs, *_ = env.step(_call("add", a=2, b=3))
        assert "5" in obs[0]["content"]
        obs, *_ = env.step(_call("add", a="two", b=3))  # refused by the schema, never sent
        assert "'two' is not of type 'integer'" in obs[0]["content"]
        obs, *_ = env.step(_call("fail"))
        assert "Error executing tool fail" in obs[0]["content"]
        obs, *_ = env.step(_call("write_note", text="x"))
        assert "1 notes" in obs[0]["content"]
        first = env.step(_call("pid"))[0][0]["content"]
        _, reward, term, _, info = env.step("It is 5.")
        assert term and reward == 1.0, info["toolgym"]["completion"]
        env.reset(seed=1)  # a fresh process: no notes, another pid
        assert "1 notes" in env.step(_call("write_note", text="y"))[0][0]["content"]
        assert env.step(_call("pid"))[0][0]["content"] != first
        assert len(child_pids() - before) == 1
    finally:
        env.close()
    time.sleep(0.2)
    assert child_pids() - before == set()


def test_reset_tool_keeps_one_server() -> None:
    env = gym.make(
        "toolgym/MCP-v0", server=SERVER, tasks=[_task()], reset_tool="reset_notes"
    ).unwrapped
    try:
        assert "reset_notes" not in [s["function"]["name"] for s in env.tool_specs]
        env.reset(seed=0)
        env.step(_call("write_note", text="x"))
        pid = env.step(_call("pid"))[0][0]["content"]
        env.reset(seed=1)
        assert "1 notes" in env.step(_call("write_note", text="y"))[0][0]["content"]
        assert env.step(_call("pid"))[0][0]["content"] == pid
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["crash", "hang"])
def test_broken_server_ends_only_its_episode(mode: str) -> None:
    before = child_pids()
    env = gym.make("toolgym/MCP-v0", server=[*SERVER, mode], tasks=[_task()], timeout_s=3).unwrapped
    try:
        env.reset(seed=0)
        obs, reward, terminated, truncated, info = env.step(_call("add", a=2, b=3))
        assert "this episode's server is gone" in obs[0]["content"]
        assert truncated and not terminated and info["end_reason"] == "env_error"
        why = info["toolgym"]["server_error"]
        assert why == (
            "MCP server did not answer tools/call 'add' within 3 s"
            if mode == "hang"
            else "MCP server failed during tools/call 'add': Connection closed"
        )
        assert info["reward_components"]["completion"] == 0.0
        with pytest.raises(RuntimeError, match="call reset"):
            env.step(_call("pid"))
        env.reset(seed=1)  # the next episode gets a fresh server, and works
        obs, _, terminated, truncated, info = env.step(_call("pid"))
        assert re.fullmatch(r'\{"result": \d+\}', obs[0]["content"]) and not (
            terminated or truncated
        )
        assert env.summary()["server_error"] is None
        assert len(child_pids() - before) == 1  # the dead one is gone, the new one runs
    finally:
        env.close()
    time.sleep(0.2)
    assert child_pids() - before == set()


def test_a_server_that_dies_under_its_reset_tool_is_replaced() -> None:
    before = child_pids()
    env = gym.make(
        "toolgym/MCP-v0", server=[*SERVER, "crash"], tasks=[_task()], reset_tool="reset_notes"
    ).unwrapped
    try:
        env.reset(seed=0)
        first = env.step(_call("pid"))[0][0]["content"]
        assert env.step(_call("add", a=2, b=3))[3]  # crashes: truncated
        env.reset(seed=1)
        assert env.step(_call("pid"))[0][0]["content"] != first  # a new process
        assert "1 notes" in env.step(_call("write_note", text="x"))[0][0]["content"]
    finally:
        env.close()
    time.sleep(0.2)
    assert child_pids() - before == set()


def test_bad_server_spec_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="list of argv strings"):
        gym.make("toolgym/MCP-v0", server="not a url", tasks=[_task()])
