"""rollout.backend="server": episodes from `toolgym serve` over HTTP, weights pushed after each step."""

import json

import pytest
import torch

from toolgym.llm import models
from toolgym.serve import background_server, create_app
from toolgym.tokens.scoring import token_logprobs
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer
from toolgym.train.server_rollouts import WeightPusher, WeightSyncError

SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 2, "group_size": 2,
         "max_new_tokens": 6, "eval_tasks": 2, "lr": 1e-2, "steps": 2}  # fmt: skip


@pytest.fixture
def server():
    model, tokenizer = models.load("tiny", seed=123)  # other weights than the learner's
    app = create_app(model, tokenizer, model_name="tiny")
    with background_server(app) as url:
        yield url, app, model


def test_training_generates_on_the_server_and_keeps_its_weights_in_step(server, tmp_path):
    url, app, served = server
    config = TrainConfig(**SMALL, out=tmp_path / "run",
                         rollout={"backend": "server", "server_url": url})  # fmt: skip
    trainer = Trainer(config, progress=False)
    assert app.state.weight_version == "0"  # the learner's starting weights were pushed first
    seen = []
    original = trainer._collect

    def spy(tasks, seed):
        trajectories, stats = original(tasks, seed)
        for mine, theirs in zip(trainer.model.parameters(), served.parameters(), strict=True):
            assert torch.equal(mine, theirs)  # every rollout is sampled with the current weights
        seen.append(stats)
        return trajectories, stats

    trainer._collect = spy
    batches = app.state.batcher.batches
    trainer.run()
    assert len(seen) == 2 and app.state.batcher.batches > batches  # the server generated them
    assert app.state.weight_version == "2"
    for mine, theirs in zip(trainer.model.parameters(), served.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    assert [p.name for p in (tmp_path / "run" / "weights").iterdir()] == ["step-000002"]
    rows = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["step"] for r in rows if "reward_mean" in r] == [1, 2]


def test_trajectories_record_the_version_that_sampled_them(server, tmp_path):
    url, _, _ = server
    config = TrainConfig(**SMALL, out=tmp_path / "run",
                         rollout={"backend": "server", "server_url": url})  # fmt: skip
    trainer = Trainer(config, progress=False)
    first = trainer.rollout(["search-train-001"])
    trainer.train_step()
    second = trainer.rollout(["search-train-001"])
    assert {t.policy_version for t in first.trajectories} == {0}
    assert {t.policy_version for t in second.trajectories} == {1}


def test_a_server_that_refuses_the_weights_stops_with_its_message(server, tmp_path):
    url, _, _ = server
    pusher = WeightPusher(url, tmp_path)
    tiny, _ = models.load("tiny", seed=0)
    tiny.model.embed_tokens.weight.data = torch.zeros(3, 3)  # a shape the server cannot take
    with pytest.raises(WeightSyncError, match="do not fit"):
        pusher.push(tiny, 1)
    with pytest.raises(WeightSyncError, match="update_weights_from_disk"):
        WeightPusher("http://127.0.0.1:9", tmp_path, timeout=2).push(models.load("tiny")[0], 1)


def test_asynchronous_rollouts_overlap_training_and_lag_one_update(server, tmp_path):
    url, app, _ = server
    config = TrainConfig(**{**SMALL, "steps": 3}, out=tmp_path / "run",
                         rollout={"backend": "server", "server_url": url, "asynchronous": True})  # fmt: skip
    trainer = Trainer(config, progress=False)
    versions = []
    original = trainer.rollout

    def spy(tasks, **kwargs):
        rollout = original(tasks, **kwargs)
        versions.append((trainer.step, sorted({t.policy_version for t in rollout.trajectories})))
        return rollout

    trainer.rollout = spy
    trainer.run()
    # step 0 collects at once; steps 1 and 2 take the prefetch started one update earlier
    assert versions == [(0, [0]), (1, [0]), (2, [1])]
    rows = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    steps = [r for r in rows if "reward_mean" in r]
    assert [r["async_hits"] for r in steps] == [0, 1, 2]
    assert steps[-1]["stale_episodes"] == 0 and steps[-1]["async_misses"] == 0


def test_a_prefetch_past_the_staleness_bound_is_dropped_and_counted(server, tmp_path):
    url, _, _ = server
    config = TrainConfig(**SMALL, out=tmp_path / "run", rollout={
        "backend": "server", "server_url": url, "asynchronous": True, "max_off_policy_steps": 0})  # fmt: skip
    trainer = Trainer(config, progress=False)
    trainer.train_step()
    metrics = trainer.train_step()  # its prefetch lags one update: too old under a bound of 0
    assert metrics["stale_episodes"] == SMALL["tasks_per_step"] * SMALL["group_size"]
    assert metrics["async_hits"] == 0


def test_a_lora_run_pushes_its_adapter_through_vllms_route_and_samples_with_it(server, tmp_path):
    pytest.importorskip("peft")
    url, app, _ = server
    served_base, _ = models.load("tiny", seed=0)  # the server must hold the learner's base
    app.state.adapters.model.load_state_dict(served_base.state_dict())
    config = TrainConfig(**SMALL, out=tmp_path / "run", lora={"r": 4, "alpha": 8},
                         rollout={"backend": "server", "server_url": url, "protocol": "vllm"})  # fmt: skip
    trainer = Trainer(config, progress=False)
    assert app.state.adapters.versions == {"toolgym-policy": 1}  # the starting adapter
    trainer.train_step()
    trainer.train_step()
    assert app.state.adapters.versions == {"toolgym-policy": 3}  # replaced in place each step
    with torch.no_grad():  # an adapter far from zero, whatever the two steps learned
        for name, parameter in trainer.model.named_parameters():
            if "lora_" in name:
                parameter.add_(0.3 * torch.randn_like(parameter))
    trainer._after_update()
    rollout = trainer.rollout(["search-train-001", "search-train-002"])
    assert {t.policy_version for t in rollout.trajectories} == {2}
    mask = rollout.batch.loss_mask.bool()
    scored = token_logprobs(trainer.model, rollout.batch, config.temperature)
    assert (scored[mask] - rollout.batch.old_logprobs[mask]).abs().max() < 1e-4
    saved = [p.name for p in (tmp_path / "run" / "weights" / "step-000002").iterdir()]
    assert "adapter_config.json" in saved and "model.safetensors" not in saved  # adapter only
