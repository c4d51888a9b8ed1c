"""bench/fuzz.py at a tiny size: the report's structure, and that each detector detects.

Fake envs (ToolEnv subclasses over the Files suite, registered under ``fuzztest/``) raise, corrupt
the state on refused turns, or hang; the fuzz must count each. Timings are never asserted.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import toolgym  # noqa: F401
from toolgym.env import ToolEnv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
fuzz: Any = importlib.import_module("fuzz")
fuzz_report: Any = importlib.import_module("fuzz_report")

SMOKE_ENVS = ("toolgym/Search-v0", "toolgym/Travel-v0", "toolgym/BFCL-simple-v0")


class RaisingEnv(ToolEnv):
    """Its second step in every episode raises."""

    def step(self, action: str) -> Any:
        if self.episode is not None and len(self.episode.turns) >= 1:
            raise ValueError("deliberate failure on the second turn")
        return super().step(action)


class CorruptingEnv(ToolEnv):
    """Changes the state on every turn in which no call was accepted."""

    def step(self, action: str) -> Any:
        result = super().step(action)
        if not any(o.ok for o in self.episode.turns[-1].outcomes):
            self.state = self.state.model_copy(update={"seed": self.state.seed + 1})
        return result


class HangingEnv(ToolEnv):
    """Every step sleeps far past the fuzz's step timeout."""

    def step(self, action: str) -> Any:
        time.sleep(5)
        return super().step(action)


@pytest.fixture(scope="module")
def files_env() -> ToolEnv:
    return gym.make("toolgym/Files-v0").unwrapped


@pytest.fixture
def register(files_env):
    """Register a ToolEnv subclass over the Files suite as ``fuzztest/<Name>-v0``."""
    ids = []

    def add(cls: type[ToolEnv]) -> str:
        env_id = f"fuzztest/{cls.__name__}-v0"
        gym.register(
            env_id,
            entry_point=lambda format="hermes", **_: cls(
                files_env.suite, files_env.tasks, format=format
            ),
        )
        ids.append(env_id)
        return env_id

    yield add
    for env_id in ids:
        gym.registry.pop(env_id, None)


def counts(report: dict[str, Any]) -> dict[str, Any]:
    """Every counter of the report, timings left out."""
    timing = ("step_s", "max_step_s", "max_at")
    return {
        table: {k: {c: v for c, v in row.items() if c not in timing} for k, row in rows.items()}
        for table, rows in ((t, report[t]) for t in ("rows", "kinds"))
    } | {"exceptions": {k: e["count"] for k, e in report["exceptions"].items()}}


@pytest.fixture(scope="module")
def smoke() -> dict[str, Any]:
    return fuzz.run_fuzz(fuzz.Config(actions=300, envs=SMOKE_ENVS, seed=3))


def test_smoke_report_structure(smoke):
    report = smoke
    assert set(report["rows"]) == {f"{e} {f}" for e in SMOKE_ENVS for f in fuzz.FORMATS}
    assert report["actions"] == 300
    assert sum(r["actions"] for r in report["rows"].values()) == 300
    assert all(r["actions"] == 50 and r["episodes"] >= 1 for r in report["rows"].values())
    bfcl = report["rows"]["toolgym/BFCL-simple-v0 hermes"]
    assert bfcl["episodes"] == bfcl["actions"]  # single-turn: one step per episode
    assert sum(k["actions"] for k in report["kinds"].values()) == 300
    assert {"expert", "mutated", "hostile_value", "answer"} <= set(report["kinds"])
    assert len(report["slowest"]) == 10 and report["slowest"][0]["seconds"] >= report["slowest"][-1]["seconds"]  # fmt: skip
    assert report["workers"][0]["actions"] == 300 and report["peak_rss_mib"] > 0
    bad = report["exceptions_total"] or report["corruptions_total"]
    assert report["exit_code"] == (1 if bad else 0)
    json.loads(json.dumps(report))  # plain JSON, surrogates escaped
    text = fuzz_report.format_report(report)
    assert "TOTAL" in text and all(e in text for e in SMOKE_ENVS)


def test_the_same_seed_gives_the_same_run(smoke):
    again = fuzz.run_fuzz(fuzz.Config(actions=300, envs=SMOKE_ENVS, seed=3))
    assert counts(again) == counts(smoke)


def test_an_exception_escaping_step_is_counted_with_a_repro(register):
    env_id = register(RaisingEnv)
    report = fuzz.run_fuzz(fuzz.Config(actions=60, envs=(env_id,), seed=1))
    assert report["exceptions_total"] > 0 and report["exit_code"] == 1
    (key, entry), *_ = report["exceptions"].items()
    assert key.startswith("step: ValueError at tests/test_bench_fuzz.py")
    assert entry["count"] == report["exceptions_total"]
    assert entry["first"]["turn"] == 1 and len(entry["first"]["prior"]) == 1
    assert env_id in entry["first"]["repro"] and "env.step(" in entry["first"]["repro"]
    assert key in fuzz_report.format_report(report)


def test_a_state_change_on_a_refused_turn_is_a_corruption(register):
    env_id = register(CorruptingEnv)
    report = fuzz.run_fuzz(fuzz.Config(actions=80, envs=(env_id,), seed=2))
    assert report["corruptions_total"] > 0 and report["exit_code"] == 1
    assert report["exceptions_total"] == 0
    example = report["corruptions"][0]
    assert env_id in example["repro"]
    assert sum(k["corruptions"] for k in report["kinds"].values()) == report["corruptions_total"]


def test_a_real_env_has_no_corruption_on_refused_turns():
    report = fuzz.run_fuzz(fuzz.Config(actions=80, envs=("toolgym/Files-v0",), seed=2))
    assert report["corruptions_total"] == 0


def test_a_failing_state_hash_is_its_own_kind_of_exception(monkeypatch):
    calls = {"n": 0}
    real = fuzz.state_hash

    def flaky(state):
        calls["n"] += 1
        if calls["n"] % 4 == 0:
            raise UnicodeEncodeError("utf-8", "\udfff", 0, 1, "surrogates not allowed")
        return real(state)

    monkeypatch.setattr(fuzz, "state_hash", flaky)
    report = fuzz.run_fuzz(fuzz.Config(actions=60, envs=("toolgym/Search-v0",), seed=4))
    hash_failures = sum(r["hash_failures"] for r in report["rows"].values())
    assert hash_failures > 0 and report["exit_code"] == 1
    assert any(k.startswith("state_hash: UnicodeEncodeError") for k in report["exceptions"])


def test_a_hanging_step_is_cut_by_the_step_timeout(register):
    env_id = register(HangingEnv)
    config = fuzz.Config(actions=4, envs=(env_id,), seed=5, step_timeout=0.05)
    report = fuzz.run_fuzz(config)
    assert report["actions"] == 4
    assert any(k.startswith("step: StepTimeout") for k in report["exceptions"])


def test_workers_split_the_actions_and_the_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "fuzz.json"
    argv = ["--actions", "40", "--workers", "2", "--envs", "toolgym/Search-v0", "--json", str(out)]
    status = fuzz.main(argv)
    report = json.loads(out.read_text())
    assert status == report["exit_code"]
    assert sorted(w["actions"] for w in report["workers"]) == [20, 20]
    assert report["actions"] == 40 and "TOTAL" in capsys.readouterr().out
