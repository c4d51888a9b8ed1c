"""A run without reward signal says so at every step and stops with advice (not silently)."""

import json
import logging

import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.train.algos import has_reward_signal
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer
from toolgym.train.rollouts import NoRewardSignal


@pytest.mark.parametrize(
    ("algo", "metrics", "signal"),
    [
        ("grpo", {"reward_std": 0.5, "reward_mean": 0.5, "zero_variance_groups": 1.0}, False),
        ("grpo", {"reward_std": 0.5, "reward_mean": 0.5, "zero_variance_groups": 0.5}, True),
        ("rloo", {"reward_std": 0.0, "reward_mean": 0.0, "zero_variance_groups": 1.0}, False),
        ("dpo", {"reward_std": 0.0, "reward_mean": 1.0, "zero_variance_groups": 1.0}, False),
        ("rest", {"reward_std": 0.0, "reward_mean": 1.0, "kept": 4}, True),  # SFT on successes
        ("rest", {"reward_std": 0.0, "reward_mean": 0.0, "kept": 0}, False),
        ("reinforce", {"reward_std": 0.0, "reward_mean": 1.0}, False),  # r - mean(r) = 0
        ("ppo", {"reward_std": 0.1, "reward_mean": 0.1}, True),
        ("online-em", {"reward_std": 0.0, "reward_mean": 1.0}, True),  # G grows with r > 0
        ("online-em", {"reward_std": 0.0, "reward_mean": 0.0}, False),
        ("sft", {"loss": 1.0}, True),  # no rollout: nothing to judge
        ("dagger", {"reward_std": 0.0, "reward_mean": 0.0}, True),  # learns from expert labels
    ],
)
def test_which_steps_carry_signal(algo, metrics, signal):
    assert has_reward_signal(metrics, algo) is signal


def test_grpo_with_every_reward_zero_warns_each_step_then_stops(tmp_path, caplog):
    config = TrainConfig(
        env="toolgym/Calendar-v0", model="tiny", algo="grpo", steps=6, tasks_per_step=1,
        group_size=2, max_new_tokens=4, max_tokens=4096, eval_tasks=1, stop_after_no_signal=2,
        out=tmp_path / "run",
    )  # fmt: skip
    trainer = Trainer(config, progress=False)
    with (
        caplog.at_level(logging.WARNING, logger="toolgym"),
        pytest.raises(
            NoRewardSignal, match="stopped at step 2: no reward signal for 2 step"
        ) as stop,
    ):
        trainer.run()
    assert "--init" in str(stop.value)
    warnings = [r.message for r in caplog.records if "no reward signal" in r.message]
    assert len(warnings) == 2
    lines = [json.loads(line) for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    assert [line.get("no_signal") for line in lines[:2]] == [1.0, 1.0]
    assert lines[-1]["stopped"].startswith("stopped at step 2")
    assert trainer.step == 2
    assert (tmp_path / "run/run.log").read_text().count("no reward signal for") == 2


def test_zero_disables_the_stop(tmp_path):
    config = TrainConfig(
        env="toolgym/Calendar-v0", model="tiny", algo="reinforce", steps=3, tasks_per_step=1,
        group_size=1, max_new_tokens=4, eval_tasks=1, stop_after_no_signal=0, out=tmp_path / "run",
    )  # fmt: skip
    trainer = Trainer(config, progress=False)
    trainer.run()
    assert trainer.step == 3 and trainer.flat_steps == 3


def test_a_solved_step_warns_but_never_stops_the_run(tmp_path, caplog):
    config = TrainConfig(
        env="toolgym/Calendar-v0", model="tiny", algo="grpo", steps=3, tasks_per_step=1,
        group_size=2, max_new_tokens=4, eval_tasks=1, stop_after_no_signal=1, out=tmp_path / "run",
    )  # fmt: skip
    trainer = Trainer(config, progress=False)
    solved = {"reward_mean": 1.0, "reward_std": 0.0, "zero_variance_groups": 1.0, "success": 1.0}
    with caplog.at_level(logging.WARNING, logger="toolgym"):
        for _ in range(3):
            metrics = dict(solved)
            trainer._watch_signal(metrics)  # a step whose every episode succeeded
            assert metrics["no_signal"] == 1.0
    assert trainer.flat_steps == 0
    assert sum("every episode of the step succeeded" in r.message for r in caplog.records) == 3
    with pytest.raises(NoRewardSignal):
        trainer._watch_signal(solved | {"success": 0.5, "reward_mean": 0.5})
