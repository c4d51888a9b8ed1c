"""An exception escaping an env ends that episode (env_error), never the run that played it."""

import json
import logging

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.collector import Collector
from toolgym.env import ToolEnv
from toolgym.eval.run import EvalConfig, run_eval
from toolgym.policies.play import play
from toolgym.policies.reference import OraclePolicy
from toolgym.tokens.env import Generation
from toolgym.tokens.trajectory import Trajectory
from toolgym.train.rollouts import broken_counts, success_rate, without_broken_groups

ENV_ID = "toolgym/Calendar-v0"


class Bug(Exception):
    pass


@pytest.fixture
def broken_task(monkeypatch):
    """ToolEnv.step raises on the second turn of the first test task, as a suite bug would."""
    task_id = gym.make(ENV_ID, split="test").unwrapped.tasks[0].id
    step = ToolEnv.step

    def buggy(self, action):
        if self.task.id == task_id and len(self.episode.turns) == 1:
            raise Bug("boom in a tool suite")
        return step(self, action)

    monkeypatch.setattr(ToolEnv, "step", buggy)
    return task_id


def test_play_ends_the_episode_as_env_error_with_the_traceback(broken_task, caplog):
    env = gym.make(ENV_ID, split="test")
    with caplog.at_level(logging.ERROR, logger="toolgym"):
        result = play(env, OraclePolicy(), task_id=broken_task, seed=0)
    assert result.end_reason == "env_error" and result.truncated and result.steps == 1
    assert "Bug: boom in a tool suite" in result.error and "Traceback" in result.error
    assert result.messages[-1]["role"] == "assistant"  # the action that broke it is kept
    assert any("env error in task " + broken_task in r.message for r in caplog.records)
    again = play(env, OraclePolicy(), task_id=broken_task, seed=0)  # the env is usable again
    assert again.end_reason == "env_error"


def test_eval_counts_env_errors_apart_and_scores_the_rest(broken_task, tmp_path):
    config = EvalConfig(env=ENV_ID, agent="oracle", limit=3, out=tmp_path / "eval")
    summary = run_eval(config, progress=False)
    assert summary["episodes"] == 3 and summary["env_errors"] == 1
    assert summary["success_rate"] == 1.0  # the oracle on the two episodes the env did not break
    assert summary["failures"]["env_error"] == 1
    rows = [json.loads(line) for line in (tmp_path / "eval/results.jsonl").open()]
    broken = [r for r in rows if r["task_id"] == broken_task]
    assert broken[0]["failure"] == "env_error" and "boom in a tool suite" in broken[0]["error"]
    assert all(r["error"] is None for r in rows if r["task_id"] != broken_task)
    assert "boom in a tool suite" in (tmp_path / "eval/run.log").read_text()


class OracleTokens:
    """Generates, for each episode, the tokens of the env's expert message (a token policy)."""

    def __init__(self, chat, collector):
        self.chat, self.collector = chat, collector

    def generate(self, prefixes, max_new_tokens=None):
        live = [e for e in self.collector._pool if e.trajectory and not e.trajectory.truncated
                and not e.trajectory.terminated]  # fmt: skip
        return [Generation((*self.chat.encode(e.env.unwrapped.expert_message()),
                            self.chat.end_of_turn_id)) for e in live]  # fmt: skip


def test_the_collector_finishes_the_batch_around_a_broken_episode(broken_task, tiny):
    _, _, chat = tiny
    tasks = [t.id for t in gym.make(ENV_ID, split="test").unwrapped.tasks[:2]]
    collector = Collector(lambda: gym.make(ENV_ID, split="test"), chat, None, progress=False)
    collector.policy = OracleTokens(chat, collector)
    trajectories, _ = collector.collect(tasks, group_size=2)
    ends = [t.end_reason for t in trajectories]
    assert ends == ["env_error", "env_error", "answered", "answered"]
    broken = trajectories[0]
    assert "Bug: boom" in broken.error
    assert len(broken.turn_rewards) == sum(s.role == "assistant" for s in broken.segments) == 2
    assert broken_counts(trajectories) == {"env_error": 2, "user_error": 0}
    assert without_broken_groups(trajectories, 2) == trajectories[2:]
    assert success_rate(trajectories) == 1.0


def test_a_failed_reset_is_a_finished_env_error_trajectory(monkeypatch, tiny):
    _, _, chat = tiny
    task_id = gym.make(ENV_ID, split="test").unwrapped.tasks[0].id
    reset = ToolEnv.reset

    def buggy(self, *, seed=None, options=None):
        if (options or {}).get("task_id") == task_id:
            raise Bug("cannot build the world")
        return reset(self, seed=seed, options=options)

    monkeypatch.setattr(ToolEnv, "reset", buggy)
    other = gym.make(ENV_ID, split="test").unwrapped.tasks[1].id
    collector = Collector(lambda: gym.make(ENV_ID, split="test"), chat, None, progress=False)
    collector.policy = OracleTokens(chat, collector)
    trajectories, _ = collector.collect([task_id, other])
    assert [t.end_reason for t in trajectories] == ["env_error", "answered"]
    assert trajectories[0].task_id == task_id and "cannot build the world" in trajectories[0].error


def test_groups_with_an_env_error_sit_the_step_out():
    batch = [Trajectory(f"t{i}", end_reason=e) for i, e in
             enumerate(["answered", "env_error", "answered", "max_turns"])]  # fmt: skip
    assert [t.task_id for t in without_broken_groups(batch, 2)] == ["t2", "t3"]
