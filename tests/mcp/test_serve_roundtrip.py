"""A bundled suite served by ``toolgym mcp serve`` and consumed by MCP-v0 scores as natively."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import gymnasium as gym
import pytest
from mcp_helpers import child_pids

import toolgym  # noqa: F401
from toolgym.env import ToolEnv
from toolgym.policies.reference import OraclePolicy

pytest.importorskip("mcp", reason="the mcp extra is not installed")

ENV_ID = "toolgym/Calendar-v0"
TASKS = ["calendar-test-001", "calendar-test-002", "calendar-test-003"]


def _play(env: ToolEnv, task_id: str) -> tuple[float, list[str]]:
    """The oracle's return on ``task_id`` and every tool observation it got."""
    obs, _ = env.reset(options={"task_id": task_id})
    policy = OraclePolicy()
    policy.reset(env, env.task)
    messages, total = list(obs), 0.0
    for _ in range(env.limits.max_turns):
        obs, reward, term, trunc, _ = env.step(policy.act(messages))
        messages += obs
        total += reward
        if term or trunc:
            return total, [m["content"] for m in messages if m["role"] == "tool"]
    raise AssertionError("the oracle did not finish")


def _served(task_id: str, episode_file: Path | None = None) -> list[str]:
    argv = [sys.executable, "-m", "toolgym", "mcp", "serve", ENV_ID, "--task", task_id]
    return argv + (["--episode-file", str(episode_file)] if episode_file else [])


@pytest.mark.slow
def test_served_calendar_scores_like_native(tmp_path: Path) -> None:
    native = gym.make(ENV_ID, split="test").unwrapped
    before = child_pids()
    for task_id in TASKS:
        task = (
            native.tasks_by_id[task_id]
            if hasattr(native, "tasks_by_id")
            else next(t for t in native.tasks if t.id == task_id)
        )
        expected = _play(native, task_id)
        env = gym.make(
            "toolgym/MCP-v0",
            server=_served(task_id),
            tasks=[task],
            suite_name="calendar",
            instructions=native.suite.instructions,
            timeout_s=60,
        ).unwrapped
        try:
            assert [s["function"]["name"] for s in env.tool_specs] == [
                s["function"]["name"] for s in native.tool_specs
            ] + ["score"]
            reward, observations = _play(env, task_id)
            assert reward == expected[0] == 1.0
            assert observations == expected[1] and observations  # the same results, as text
        finally:
            env.close()
    time.sleep(0.2)
    assert child_pids() - before == set()


@pytest.mark.slow
def test_score_tool_writes_the_native_verdict(tmp_path: Path) -> None:
    from toolgym.mcp.client import MCPConnection

    out = tmp_path / "episode.json"
    conn = MCPConnection(_served("calendar-test-002", out), timeout_s=60)
    try:
        bad = conn.call_tool("find_people", {"query": 5})
        assert bad.is_error and "find_people" in bad.text
        found = conn.call_tool("find_people", {"query": "Sarah Patel"})
        assert "sarah.patel@example.com" in found.text and not found.is_error
        verdict = json.loads(conn.call_tool("score", {"answer": "sarah.patel@example.com"}).text)
        assert verdict["reward"] == 1.0 and verdict["task_id"] == "calendar-test-002"
        assert json.loads(out.read_text()) == verdict
        again = conn.call_tool("find_people", {"query": "Sarah Patel"})
        assert again.is_error and "episode is over" in again.text
    finally:
        conn.close()


def test_unknown_task_is_a_clear_error() -> None:
    import subprocess

    done = subprocess.run(_served("no-such-task"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no task 'no-such-task'" in done.stderr
