"""The training loop: run directory, CLI, exact resume after a kill, --init, config errors."""

import json

import pytest
import torch
from typer.testing import CliRunner

from toolgym.cli import app
from toolgym.train import checkpoint
from toolgym.train.config import TrainConfig, load_config
from toolgym.train.loop import Trainer

runner = CliRunner()
SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 2, "group_size": 2,
         "max_new_tokens": 6, "eval_tasks": 2, "lr": 1e-3}  # fmt: skip


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_timing(row):
    return {k: v for k, v in row.items() if not k.startswith("time_") and k != "seconds"}


def test_cli_trains_grpo_and_writes_the_run(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--env", "toolgym/Search-v0", "--model", "tiny", "--algo", "grpo", "--steps", "3", "--out", str(out),
            "--set", "tasks_per_step=2", "--set", "group_size=2", "--set", "max_new_tokens=6", "--set", "eval_tasks=2",
            "--no-progress"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "test success" in result.output and "on 2 held-out tasks" in result.output
    logged = rows(out)
    assert [r["step"] for r in logged] == [1, 2, 3, 3] and logged[-1]["final"]
    for key in ("loss", "reward_mean", "approx_kl", "clipfrac", "entropy", "grad_norm", "zero_variance_groups",
                "completion_mean", "format_mean", "time_generate", "time_env"):  # fmt: skip
        assert key in logged[0], key
    assert (out / "learning_curve.png").stat().st_size > 1000
    assert json.loads((out / "config.json").read_text())["algo"] == "grpo"
    assert checkpoint.load_latest(out)["step"] == 3
    samples = [
        json.loads(line)
        for line in (out / "samples" / "step-000003.jsonl").read_text().splitlines()
    ]
    assert len(samples) == 2 and all("assistant_turns" in s for s in samples)
    assert sum(s["success"] for s in samples) / 2 == logged[-1]["eval_success"]


def test_process_rewards_reach_the_trainer(tmp_path):
    outcome_only = Trainer(
        TrainConfig(**SMALL, steps=1, out=tmp_path / "a"), progress=False
    ).train_step()
    assert outcome_only["reward_mean"] == 0.0  # a random tiny model never completes a task
    weights = {"completion": 1.0, "format": 0.5}
    shaped = Trainer(
        TrainConfig(**SMALL, steps=1, rewards=weights, out=tmp_path / "b"), progress=False
    ).train_step()
    assert shaped["completion_mean"] == 0.0 and shaped["format_mean"] > 0
    assert shaped["reward_mean"] > 0  # 0.5 per well-formed turn


def test_resume_after_a_kill_continues_exactly(tmp_path):
    config = TrainConfig(**SMALL, steps=4, checkpoint_every=2, out=tmp_path / "straight")
    straight = Trainer(config, progress=False)
    straight.run()

    killed_config = config.model_copy(update={"out": tmp_path / "killed"})
    killed = Trainer(killed_config, progress=False)
    for _ in range(2):
        killed._log(killed.train_step())
    killed._save()
    killed._log(killed.train_step())  # step 3 was in flight when the process died: not checkpointed
    del killed
    resumed = Trainer(killed_config, resume=True, progress=False)
    assert resumed.step == 2
    resumed.run()
    assert [without_timing(r) for r in rows(tmp_path / "killed")] == [
        without_timing(r) for r in rows(tmp_path / "straight")
    ]
    for (name, a), b in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_sft_then_init_from_its_checkpoint(tmp_path):
    sft = Trainer(
        TrainConfig(
            **SMALL | {"lr": 3e-3, "group_size": 1}, algo="sft", steps=6, out=tmp_path / "sft"
        ),
        progress=False,
    )
    sft.run()
    losses = [r["loss"] for r in rows(tmp_path / "sft") if "loss" in r]
    assert losses[-1] < losses[0]
    follow = Trainer(
        TrainConfig(**SMALL, steps=1, init=tmp_path / "sft", out=tmp_path / "grpo"), progress=False
    )
    for a, b in zip(
        sft.model.state_dict().values(), follow.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="group_size >= 2"):
        load_config(None, {"algo": "grpo", "group_size": 1})
    bad = tmp_path / "c.toml"
    bad.write_text('algo = "ppo2"\n')
    with pytest.raises(ValueError, match=r"c.toml: algo: Input should be"):
        load_config(bad, {})
    result = runner.invoke(app, ["train", "--set", "nonsense_field=1", "--no-progress"])
    assert (
        result.exit_code == 2 and "nonsense_field: Extra inputs are not permitted" in result.output
    )


def test_freeze_layers_trains_only_the_top(tmp_path):
    config = TrainConfig(**SMALL | {"group_size": 1}, algo="sft", steps=1, freeze_layers=1,
                         out=tmp_path / "frozen")  # fmt: skip
    trainer = Trainer(config, progress=False)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train_step()
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all(n.startswith(("model.layers.1.", "model.norm")) for n in changed)
    optimised = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    frozen = trainer.model.get_input_embeddings().weight
    assert id(frozen) not in optimised
    with pytest.raises(ValueError, match="freeze_layers=3, but the model has 2 decoder layers"):
        Trainer(config.model_copy(update={"freeze_layers": 3}), progress=False)


def test_gradient_checkpointing_run_updates_the_model(tmp_path):
    config = TrainConfig(**SMALL | {"group_size": 1}, algo="sft", steps=1,
                         gradient_checkpointing=True, out=tmp_path / "gc")  # fmt: skip
    trainer = Trainer(config, progress=False)
    assert trainer.model.is_activation_checkpointing
    before = [p.detach().clone() for p in trainer.model.parameters()]
    metrics = trainer.train_step()
    assert metrics["grad_norm"] > 0
    assert any(
        not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True)
    )
