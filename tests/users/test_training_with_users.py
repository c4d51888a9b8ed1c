"""Training with an LLM user: user failures drop their GRPO group, never count against the policy."""

import gymnasium as gym
import pytest
import torch

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.serve import background_server
from toolgym.tokens.trajectory import Trajectory
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer
from toolgym.train.rollouts import without_broken_groups

try:
    from .fault_server import fault_app
except ImportError:
    from fault_server import fault_app  # type: ignore[no-redef]


def trajectories(ends):
    return [Trajectory(f"t{i}", end_reason=end) for i, end in enumerate(ends)]


def test_a_group_with_a_user_error_sits_the_step_out():
    batch = trajectories(
        ["answered", "max_turns", "user_error", "answered", "answered", "answered"]
    )
    kept = without_broken_groups(batch, group_size=2)
    assert [t.task_id for t in kept] == ["t0", "t1", "t4", "t5"]
    assert without_broken_groups(batch, group_size=1) == batch[:2] + batch[3:]


@pytest.fixture
def user_server():
    behaviours: dict[str, str] = {}
    with background_server(fault_app(behaviours)) as url:
        yield url, behaviours


def config(tmp_path, url, **fields):
    return TrainConfig(
        env="toolgym/Calendar-v0", model="tiny", algo="grpo", steps=1, tasks_per_step=2,
        group_size=2, max_new_tokens=6, max_tokens=8192, eval_tasks=2, out=tmp_path / "run",
        user={"kind": "llm", "model": "fault", "base_url": url, "max_retries": 0,
              "cache": str(tmp_path / "users.sqlite")},
        **fields,
    )  # fmt: skip


def test_grpo_with_an_llm_user_drops_the_group_whose_user_failed(tmp_path, user_server):
    url, behaviours = user_server
    trainer = Trainer(config(tmp_path, url), progress=False)
    first, second = (trainer.train_tasks[trainer.order[i]] for i in (0, 1))
    tasks = {t.id: t for t in gym.make("toolgym/Calendar-v0").unwrapped.tasks}
    behaviours[tasks[first].instruction] = "http500"  # the first task's user is down
    metrics = trainer.train_step()
    assert metrics["episodes_dropped"] == 2
    assert metrics["time_user"] > 0 and metrics["loss"] == metrics["loss"]  # trained on the rest
    assert metrics["user_calls"] >= 1 and metrics["user_generated_tokens"] > 0  # the ok group
    assert second != first


def test_a_step_whose_users_all_failed_stops_with_a_clear_error(tmp_path, user_server):
    url, behaviours = user_server
    trainer = Trainer(config(tmp_path, url), progress=False)
    for task in gym.make("toolgym/Calendar-v0").unwrapped.tasks:
        behaviours[task.instruction] = "http500"
    with pytest.raises(RuntimeError, match="every group held an episode that ended in user_error"):
        trainer.train_step()


def test_cli_overrides_reach_the_user_config(tmp_path):
    from toolgym.settings import parse_sets

    parsed = parse_sets(["user.kind=llm", "user.seed=3", "lr=0.001"])
    assert parsed == {"user": {"kind": "llm", "seed": 3}, "lr": 0.001}
    settings = TrainConfig.model_validate(parsed)
    assert settings.user.kind == "llm" and settings.user.seed == 3


def test_the_policy_frozen_at_the_start_can_play_the_user(tmp_path):
    settings = TrainConfig(
        env="toolgym/Calendar-v0", model="tiny", algo="grpo", steps=1, tasks_per_step=1,
        group_size=2, max_new_tokens=6, max_tokens=8192, eval_tasks=1, lr=1e-2,
        out=tmp_path / "run", user={"kind": "llm", "model": "policy", "max_tokens": 8},
    )  # fmt: skip
    trainer = Trainer(settings, progress=False)
    user_model = trainer.user_backend.policy.model
    assert user_model is not trainer.model
    before = [p.detach().clone() for p in user_model.parameters()]
    metrics = trainer.train_step()
    assert metrics["time_user"] > 0  # the frozen copy answered the policy's messages
    assert all(torch.equal(a, b) for a, b in zip(before, user_model.parameters(), strict=True))
    with torch.no_grad():  # however far the policy moves, its user copy stays where it started
        for parameter in trainer.model.parameters():
            parameter.add_(1.0)
    assert all(torch.equal(a, b) for a, b in zip(before, user_model.parameters(), strict=True))
    assert not any(p.requires_grad for p in user_model.parameters())
    with pytest.raises(ValueError, match="user.model='policy' is for training"):
        gym.make("toolgym/Calendar-v0", user={"kind": "llm", "model": "policy"})
