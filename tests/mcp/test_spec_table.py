"""An env spec's ``[mcp]`` table: ``envs/kv.toml`` in a user's content root gives an MCP env."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from typer.testing import CliRunner

import toolgym
from toolgym import content, registry

pytest.importorskip("mcp", reason="the mcp extra is not installed")
from mcp_helpers import KV_SERVER, KV_TASK, call

from toolgym.cli import app
from toolgym.mcp.env import MCPEnv
from toolgym.policies.play import play
from toolgym.policies.reference import OraclePolicy

SPEC = """\
id = "mcptest/KV-v0"
suite = "kv"
description = "A key-value store behind MCP."

[mcp]
command = [{python}, "kv_server.py"]
cwd = "servers"
env = {{ KV_INITIAL = '{{"size": "L"}}' }}
call_timeout_s = 20

[tasks]
test = ["kv/test.jsonl"]
"""

TASK = KV_TASK | {"expected_state": {"size": "L", "color": "blue"}}  # size: from [mcp] env


@pytest.fixture(autouse=True)
def isolated(monkeypatch):
    """The test's content root and env ids are its own (search path and registries restored)."""
    monkeypatch.setattr(content, "_extra_roots", list(content._extra_roots))
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))
    before = set(gym.registry)
    yield
    for env_id in set(gym.registry) - before:
        del gym.registry[env_id]


def make_root(folder: Path, spec: str = SPEC) -> Path:
    """A content root with no tools/: envs/kv.toml, tasks/kv/test.jsonl and the server."""
    (folder / "servers").mkdir(parents=True)
    shutil.copy(KV_SERVER, folder / "servers" / "kv_server.py")
    (folder / "tasks" / "kv").mkdir(parents=True)
    (folder / "tasks" / "kv" / "test.jsonl").write_text(json.dumps(TASK) + "\n")
    (folder / "envs").mkdir()
    (folder / "envs" / "kv.toml").write_text(spec.format(python=json.dumps(sys.executable)))
    return folder


def test_the_spec_registers_an_mcp_env_the_oracle_completes(tmp_path: Path) -> None:
    root = make_root(tmp_path / "lab")
    assert toolgym.register_envs(root) == ["mcptest/KV-v0"]
    env = gym.make("mcptest/KV-v0", split="test").unwrapped
    try:
        assert isinstance(env, MCPEnv) and env.suite.name == "kv"
        assert [s["function"]["name"] for s in env.tool_specs] == ["put", "delete", "get", "clear"]
        env.reset(seed=0)
        assert env.state.model_dump() == {"size": "L"}  # the server ran in servers/ with its env
        assert play(env, OraclePolicy(), seed=0).components["completion"] == 1.0
        assert env.timeout_s == 20.0
    finally:
        env.close()


def test_make_overrides_reach_the_mcp_table(tmp_path: Path) -> None:
    toolgym.register_envs(make_root(tmp_path / "lab"))
    spec = registry.registered_specs()["mcptest/KV-v0"]
    env = gym.make(
        "mcptest/KV-v0",
        split="test",
        mcp=spec.mcp.model_dump() | {"reset_tool": "clear", "call_timeout_s": 5.0},
        limits={"max_turns": 2},
    ).unwrapped
    try:
        assert env.reset_tool == "clear" and env.timeout_s == 5.0 and env.limits.max_turns == 2
        assert "clear" not in [s["function"]["name"] for s in env.tool_specs]
        env.reset(seed=0)
        env.step(call("put", key="color", value="red"))
        env.reset(seed=1)  # the same server, cleared by its reset tool
        assert env.state.model_dump() == {}
    finally:
        env.close()


def test_toolgym_list_shows_the_mcp_env(tmp_path: Path) -> None:
    root = make_root(tmp_path / "lab")
    result = CliRunner().invoke(app, ["list", "--content", str(root), "--json"])
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.output) if r["id"] == "mcptest/KV-v0")
    assert (row["suite"], row["test"], row["train"]) == ("kv", 1, 0)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('command = ["python"]\nurl = "http://x/mcp"', "either command .* or url .*, not both"),
        ("call_timeout_s = 5", r"\['call_timeout_s'\] given without a server: add command"),
        ('url = "http://x/mcp"\ncwd = "servers"', "env and cwd apply to a stdio server"),
        ('url = "ftp://x"', "url: String should match pattern"),
        ('command = ["python"]\ntimeout = 3', "mcp.timeout: Extra inputs are not permitted"),
        ("command = []", "mcp.command: List should have at least 1 item"),
        ('command = ["python"]\ncall_timeout_s = 0', "call_timeout_s: Input should be greater"),
    ],
)
def test_a_bad_mcp_table_names_the_file_and_the_fix(tmp_path: Path, table: str, message: str):
    path = tmp_path / "envs" / "bad.toml"
    path.parent.mkdir()
    path.write_text(f'id = "x/Bad-v0"\nsuite = "kv"\n[tasks]\ntest = []\n[mcp]\n{table}\n')
    with pytest.raises(ValueError, match=message) as caught:
        registry.load_spec(path)
    assert str(path) in str(caught.value)


def test_specs_without_the_table_are_unchanged() -> None:
    calendar = registry.registered_specs()["toolgym/Calendar-v0"]
    assert not calendar.mcp.active
    assert type(gym.make("toolgym/Calendar-v0").unwrapped).__name__ == "ToolEnv"


def test_toolgym_validate_accepts_the_tasks_of_an_mcp_suite(tmp_path: Path) -> None:
    root = make_root(tmp_path / "lab")
    tasks = root / "tasks" / "kv" / "test.jsonl"
    result = CliRunner().invoke(app, ["validate", "--content", str(root), str(tasks)])
    assert result.exit_code == 0, result.output
    assert "1 task(s) checked: 0 invalid" in result.output
    stray = root / "tasks" / "kv" / "other.jsonl"  # a suite no spec serves is still an error
    stray.write_text(json.dumps(TASK | {"suite": "kv2"}) + "\n")
    result = CliRunner().invoke(app, ["validate", "--content", str(root), str(stray)])
    assert result.exit_code == 1 and "suite: no tool suite 'kv2'" in result.output
