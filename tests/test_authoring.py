"""A user authors a tool suite, tasks and an env spec outside the repo, without touching the engine."""

import gymnasium as gym
import pytest
from conftest import TASKS

import toolgym
from toolgym.policies import OraclePolicy, play


def test_user_suite_registers_and_runs(counters_root):
    assert not (counters_root / "tools").is_relative_to(toolgym.content.bundled_root())
    toolgym.register_envs(counters_root)  # may be a repeat: the counters fixture registers it
    assert "mylab/Counters-v0" in gym.registry
    assert toolgym.register_envs(counters_root) == []  # the same root again changes nothing
    env = gym.make("mylab/Counters-v0")
    for task in TASKS:
        result = play(env, OraclePolicy(), task_id=task["id"], seed=0)
        assert result.end_reason == "answered"
        assert result.components["completion"] == 1.0
        # completion (1.0) + 0.1 per well-formed turn
        assert result.total_reward == pytest.approx(1.0 + 0.1 * result.steps)
    env.close()
