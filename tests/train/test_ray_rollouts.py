"""rollout.backend="ray": episodes from Ray actors on a local cluster (ray.init(num_cpus=2))."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

ray = pytest.importorskip("ray")

from toolgym.collector import Collector  # noqa: E402
from toolgym.llm import models  # noqa: E402
from toolgym.llm.sampler import HFPolicy, SamplingConfig  # noqa: E402
from toolgym.tokens.chat import ChatTokenizer  # noqa: E402
from toolgym.tokens.scoring import token_logprobs  # noqa: E402
from toolgym.tokens.trajectory import collate  # noqa: E402
from toolgym.train.config import TrainConfig  # noqa: E402
from toolgym.train.loop import Trainer  # noqa: E402
from toolgym.train.ray_rollouts import RayCollector, block_sampling_seed, model_tensors  # noqa: E402
from toolgym.train.run_env import make_env  # noqa: E402

pytestmark = pytest.mark.slow

TASKS = [f"search-train-{i:03d}" for i in range(1, 6)]
SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 2, "group_size": 2,
         "max_new_tokens": 8, "eval_tasks": 2, "lr": 1e-2, "steps": 2}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def config(**rollout):
    return TrainConfig(**SMALL, rollout={"backend": "ray", "workers": 2, **rollout})


@pytest.fixture
def learner():
    model, tokenizer = models.load("tiny", seed=0)
    return model, tokenizer


def local_blocks(cfg, model, tokenizer, blocks, group_size, seed):
    """What one in-process collector plays for the same blocks, seeded as the workers seed them."""
    chat = ChatTokenizer(tokenizer)
    sampling = SamplingConfig(cfg.temperature, cfg.top_p, cfg.max_new_tokens)
    policy = HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, sampling)
    collector = Collector(lambda: make_env(cfg, "train"), chat, policy,
                          max_tokens=cfg.max_tokens, progress=False)  # fmt: skip
    out = []
    for start, stop in blocks:
        policy.generator.manual_seed(block_sampling_seed(cfg.seed, seed + start))
        out += collector.collect(TASKS[start:stop], group_size, seed=seed + start)[0]
    return out


def assert_same_episodes(mine, theirs):
    assert [t.task_id for t in mine] == [t.task_id for t in theirs]
    assert [t.token_ids for t in mine] == [t.token_ids for t in theirs]
    for a, b in zip(mine, theirs, strict=True):
        assert a.total_reward == b.total_reward
        assert max((abs(x - y) for x, y in zip(a.logprobs, b.logprobs, strict=True)),
                   default=0.0) < 1e-5  # fmt: skip


def test_two_workers_play_what_one_collector_plays_block_by_block(learner):
    model, tokenizer = learner
    cfg = config()
    workers = RayCollector(cfg)
    try:
        workers.sync(model, 0)
        trajectories, stats = workers.collect(TASKS, 2, seed=7)
    finally:
        workers.close()
    assert stats.episodes == 10 and stats.generated_tokens > 0
    assert {t.policy_version for t in trajectories} == {0}
    # blocks as np.array_split cuts 5 tasks for 2 workers: 3 then 2
    assert_same_episodes(trajectories, local_blocks(cfg, model, tokenizer, [(0, 3), (3, 5)], 2, 7))


def test_after_a_sync_the_workers_sample_with_the_new_weights(learner):
    model, tokenizer = learner
    cfg = config()
    workers = RayCollector(cfg)
    try:
        workers.sync(model, 0)
        with torch.no_grad():
            for parameter in model.model.layers[0].parameters():
                parameter.add_(0.05 * torch.randn_like(parameter))
        workers.sync(model, 3)
        trajectories, _ = workers.collect(TASKS[:2], 2, seed=0)
    finally:
        workers.close()
    assert {t.policy_version for t in trajectories} == {3}
    batch = collate(trajectories, tokenizer.pad_token_id)
    mask = batch.loss_mask.bool()
    scored = token_logprobs(model, batch)  # the learner's current weights
    assert (scored[mask] - batch.old_logprobs[mask]).abs().max() < 1e-4


def test_only_trainable_tensors_travel_after_the_first_sync(learner):
    model, _ = learner
    model.model.embed_tokens.requires_grad_(False)
    every, trainable = model_tensors(model, every=True), model_tensors(model, every=False)
    assert set(trainable) < set(every)
    assert "model.embed_tokens.weight" in every and "model.embed_tokens.weight" not in trainable


def worker_pid(workers, index):
    return ray.get(workers.workers[index].ready.remote())


def test_a_killed_worker_is_replaced_and_its_block_replayed_exactly(learner):
    model, _ = learner
    workers = RayCollector(config())
    try:
        workers.sync(model, 0)
        before, _ = workers.collect(TASKS, 2, seed=3)
        os.kill(worker_pid(workers, 0), signal.SIGKILL)
        after, stats = workers.collect(TASKS, 2, seed=3)
    finally:
        workers.close()
    assert workers.counts == {"worker_restarts": 1, "worker_dropped_episodes": 0}
    assert stats.episodes == 10
    assert_same_episodes(after, before)  # the replacement holds the weights and the seeds


def test_a_hung_worker_is_killed_after_the_timeout_and_replaced(learner):
    model, _ = learner
    workers = RayCollector(config(worker_timeout=20.0))
    try:
        workers.sync(model, 0)
        before, _ = workers.collect(TASKS, 2, seed=3)
        os.kill(worker_pid(workers, 1), signal.SIGSTOP)  # alive, never answers
        after, _ = workers.collect(TASKS, 2, seed=3)
    finally:
        workers.close()
    assert workers.counts["worker_restarts"] == 1
    assert_same_episodes(after, before)


def test_a_block_out_of_retries_is_dropped_and_counted_not_the_step(learner):
    model, _ = learner
    workers = RayCollector(config(worker_retries=0))
    try:
        workers.sync(model, 0)
        before, _ = workers.collect(TASKS, 2, seed=3)
        os.kill(worker_pid(workers, 0), signal.SIGKILL)
        after, stats = workers.collect(TASKS, 2, seed=3)
        again, _ = workers.collect(TASKS, 2, seed=3)  # the replacement plays the next step
    finally:
        workers.close()
    assert workers.counts == {"worker_restarts": 1, "worker_dropped_episodes": 6}  # 3 tasks x 2
    assert stats.episodes == 4
    assert_same_episodes(after, before[6:])
    assert_same_episodes(again, before)


def test_more_workers_than_cpus_is_refused_before_anything_hangs():
    with pytest.raises(ValueError, match="needs 4 CPUs and the Ray cluster has 2"):
        RayCollector(config(workers=4))


@pytest.mark.parametrize("lora", [{"r": 0}, {"r": 4, "alpha": 8}], ids=["full", "lora"])
def test_training_on_ray_workers_keeps_them_in_step_with_the_learner(tmp_path, lora):
    if lora["r"]:
        pytest.importorskip("peft")
    cfg = TrainConfig(**{**SMALL, "out": tmp_path / "run"}, lora=lora,
                      rollout={"backend": "ray", "workers": 2})  # fmt: skip
    trainer = Trainer(cfg, progress=False)
    try:
        for _ in range(2):
            trainer.train_step()
        with torch.no_grad():  # weights far from the start, whatever two steps learned
            for parameter in trainer.model.parameters():
                if parameter.requires_grad:
                    parameter.add_(0.1 * torch.randn_like(parameter))
        trainer._after_update()  # what an update does: the workers get the trainable tensors
        rollout = trainer.rollout(TASKS[:2])
        mask = rollout.batch.loss_mask.bool()
        scored = token_logprobs(trainer.model, rollout.batch, cfg.temperature)
    finally:
        trainer.rollouts.close()
    assert {t.policy_version for t in rollout.trajectories} == {2}
    assert (scored[mask] - rollout.batch.old_logprobs[mask]).abs().max() < 1e-4


def test_the_cli_trains_on_ray_workers(tmp_path):
    """`toolgym train --set rollout.backend=ray`: the metrics carry the workers' counts."""
    out = tmp_path / "run"
    fields = {**SMALL, "rollout.backend": "ray", "rollout.workers": 2, "rollout.worker_cpus": 0.5}
    flags = [arg for key, value in fields.items() for arg in ("--set", f"{key}={value}")]
    result = subprocess.run(
        [sys.executable, "-m", "toolgym", "train", *flags, "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "reward_mean" in r]
    assert [r["step"] for r in steps] == [1, 2]
    assert all(r["worker_restarts"] == 0 and r["worker_dropped_episodes"] == 0 for r in steps)


def test_a_run_that_does_not_ask_for_ray_never_imports_it(tmp_path):
    code = ("import sys; from toolgym.train import TrainConfig, Trainer; "
            f"Trainer(TrainConfig(model='tiny', steps=1, out=r'{tmp_path}')).train_step(); "
            "print('ray' in sys.modules)")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_without_ray_installed_the_error_says_how_to_install_it(monkeypatch):
    from toolgym.train import ray_rollouts

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ImportError, match=r"pip install toolgym\[ray\]"):
        ray_rollouts.RayCollector(config())


def test_workers_on_a_server_generate_there_and_the_learner_pushes_its_weights(tmp_path):
    from toolgym.serve import background_server, create_app

    served, tokenizer = models.load("tiny", seed=123)  # other weights than the learner's
    app = create_app(served, tokenizer, model_name="tiny")
    with background_server(app) as url:
        cfg = TrainConfig(**{**SMALL, "out": tmp_path / "run"},
                          rollout={"backend": "ray", "workers": 2, "server_url": url})  # fmt: skip
        trainer = Trainer(cfg, progress=False)
        try:
            batches = app.state.batcher.batches
            trainer.train_step()
            assert app.state.batcher.batches > batches  # the workers' requests reached it
            assert app.state.weight_version == "1"
            rollout = trainer.rollout(TASKS[:2])
        finally:
            trainer.rollouts.close()
    for mine, theirs in zip(trainer.model.parameters(), served.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    assert {t.policy_version for t in rollout.trajectories} == {1}
    mask = rollout.batch.loss_mask.bool()
    scored = token_logprobs(trainer.model, rollout.batch, cfg.temperature)
    assert (scored[mask] - rollout.batch.old_logprobs[mask]).abs().max() < 1e-4
