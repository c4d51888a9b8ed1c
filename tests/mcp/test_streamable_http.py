"""MCP-v0 over the streamable HTTP transport: a real server on a free local port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers toolgym/MCP-v0)

pytest.importorskip("mcp", reason="the mcp extra is not installed")
from mcp_helpers import KV_SERVER, call, kv_task

from toolgym.mcp.env import MCPEnv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_it_answers(port: int, process: subprocess.Popen[bytes], wait_s: float = 30) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the HTTP server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the HTTP server did not listen on port {port} within {wait_s} s")


def _start(port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(KV_SERVER), "--http", str(port)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_until_it_answers(port, process)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = _free_port()
    process = _start(port)
    yield f"http://127.0.0.1:{port}/mcp"
    _stop(process)


def _make(url: str, **kwargs: object) -> MCPEnv:
    kwargs.setdefault("timeout_s", 10)
    env = gym.make("toolgym/MCP-v0", server=url, tasks=[kv_task()], suite_name="kv", **kwargs)
    return env.unwrapped


def test_tools_a_call_an_error_and_a_scored_episode(url: str) -> None:
    env = _make(url, reset_tool="clear")  # one server for every session: its reset tool isolates
    try:
        assert [s["function"]["name"] for s in env.tool_specs] == ["put", "delete", "get"]
        put = env.tool_specs[0]["function"]["parameters"]
        assert put["required"] == ["key", "value"]
        for episode in range(2):
            env.reset(seed=episode)
            assert env.state.model_dump() == {}  # cleared at reset
            obs, *_ = env.step(call("get", key="color"))
            assert obs[0]["content"].startswith("Error:") and "no key 'color'" in obs[0]["content"]
            obs, *_ = env.step(call("put", key="color", value=3))  # refused by the schema
            assert "3 is not of type 'string'" in obs[0]["content"]
            obs, *_ = env.step(call("put", key="color", value="blue"))
            assert obs[0]["content"] == '{"result": "stored color"}'
            _, reward, terminated, _, info = env.step("Stored: color is blue.")
            assert terminated and reward == 1.0 and info["end_reason"] == "answered"
            assert info["reward_components"]["state_match"] == 1.0
    finally:
        env.close()


def test_a_fresh_session_per_episode_shares_the_servers_world(url: str) -> None:
    # Without a reset tool each episode opens its own HTTP session, but an HTTP server's world is
    # the server's: what one episode stored, the next one sees (hence reset_tool above).
    env = _make(url)
    try:
        env.reset(seed=0)
        env.step(call("put", key="shared", value="yes"))
        env.reset(seed=1)
        assert env.step(call("get", key="shared"))[0][0]["content"] == '{"result": "yes"}'
    finally:
        env.close()


def test_a_server_that_goes_away_ends_only_the_episode() -> None:
    port = _free_port()
    process = _start(port)
    try:
        env = _make(f"http://127.0.0.1:{port}/mcp", timeout_s=5)
    except BaseException:
        _stop(process)
        raise
    try:
        env.reset(seed=0)
        _stop(process)
        obs, _, terminated, truncated, info = env.step(call("put", key="color", value="blue"))
        assert "server is gone" in obs[0]["content"]
        assert truncated and not terminated and info["end_reason"] == "env_error"
        why = info["toolgym"]["server_error"]
        assert why == "MCP server failed during tools/call 'put': Connection closed"
        process = _start(port)  # back again: the next episode works
        env.reset(seed=1)
        obs, *_ = env.step(call("put", key="color", value="blue"))
        assert obs[0]["content"] == '{"result": "stored color"}'
    finally:
        env.close()
        _stop(process)
