"""Data-parallel training (``distributed.py``): 2 gloo learners on CPU equal one process on the same batch.

The multi-process tests launch ``python -m torch.distributed.run --nproc_per_node 2`` on a free
loopback port with a small worker script (it records rank 0's gathered rollouts and saves every
rank's final parameters), then train one process in this test on the same global batch.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from ddp_launch import (
    SHAPED,
    SMALL,
    assert_same_parameters,
    launch,
    moved,
    rows,
    train_two_ranks,
    without_timing,
)

from toolgym.collector import RolloutStats
from toolgym.train import checkpoint
from toolgym.train import distributed as ddp
from toolgym.train.algos import ALGORITHMS
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer
from toolgym.trajectory_rows import ROLLOUTS, read_rows


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainConfig]:
    """A 2-rank GRPO run: 3 tasks a step (2 on rank 0, 1 on rank 1), 2 minibatches, KL term.

    The entropy bonus moves the weights even when a tiny model's group rewards tie.
    """
    tmp = tmp_path_factory.mktemp("grpo")
    config = TrainConfig(**SMALL, algo="grpo", minibatches=2, beta=0.05, entropy_coef=0.01,
                         rewards=SHAPED, temperature=1.5, checkpoint_every=1, out=tmp / "run",
                         log={"save_rollouts": True})  # fmt: skip
    return train_two_ranks(tmp, config), config


# ---------------------------------------------------------------- multi-process


def test_sft_two_ranks_equal_one_process(tmp_path):
    config = TrainConfig(**SMALL, algo="sft", epochs=2, out=tmp_path / "ddp")
    out = train_two_ranks(tmp_path, config)
    ranks = [torch.load(out / f"params-rank{r}.pt") for r in range(2)]
    single = Trainer(config.model_copy(update={"out": tmp_path / "one"}), progress=False)
    single.run()
    assert_same_parameters(ranks[0], ranks[1])
    assert_same_parameters(ranks[0], single.model.state_dict())
    assert moved(out, config)
    for two, one in zip(rows(out), rows(tmp_path / "one"), strict=True):  # the global loss
        if "loss" in one:
            assert two["loss"] == pytest.approx(one["loss"], rel=1e-5)


def test_grpo_two_ranks_equal_one_process_on_the_same_rollouts(grpo_run, tmp_path, monkeypatch):
    out, config = grpo_run
    rollouts = [pickle.loads((out / f"rollout-{s}.pkl").read_bytes()) for s in (1, 2)]
    assert [len(t) for t, _ in rollouts] == [6, 6]  # every rank's episodes, gathered
    assert rollouts[0][1].episodes == 6
    monkeypatch.setattr(Trainer, "_collect", lambda self, tasks, seed: rollouts[self.step])
    single = Trainer(config.model_copy(update={"out": tmp_path / "one"}), progress=False)
    single.run()
    ranks = [torch.load(out / f"params-rank{r}.pt") for r in range(2)]
    assert_same_parameters(ranks[0], ranks[1])
    assert_same_parameters(ranks[0], single.model.state_dict())
    assert moved(out, config)
    two, one = rows(out), rows(tmp_path / "one")
    assert [r["step"] for r in two] == [r["step"] for r in one] == [1, 2, 2]
    for a, b in zip(two[:2], one[:2], strict=True):  # the minibatch's diagnostics, not a rank's
        for key in ("loss", "kl", "entropy", "approx_kl", "clipfrac", "grad_norm", "reward_mean"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key


def test_rollout_rows_hold_every_ranks_episodes_in_global_order(grpo_run):
    out, _ = grpo_run
    for step in (1, 2):
        trajectories, _ = pickle.loads((out / f"rollout-{step}.pkl").read_bytes())
        saved = [row for _, row in read_rows(out / ROLLOUTS / f"step-{step:06d}.parquet")]
        assert [r["task_id"] for r in saved] == [t.task_id for t in trajectories]
        assert [r["reward"] for r in saved] == pytest.approx([t.total_reward for t in trajectories])
        assert len({r["task_id"] for r in saved}) == 3  # rank 0's 2 tasks and rank 1's one


def test_rank_zero_alone_writes_and_a_two_rank_resume_continues_exactly(grpo_run, tmp_path):
    run, config = grpo_run
    assert [r["step"] for r in rows(run)] == [1, 2, 2]  # one line per step: rank 0's
    assert (run / "saved-by-rank0").read_text() == "xx" and not (run / "saved-by-rank1").exists()
    assert checkpoint.load_latest(run)["step"] == 2
    assert len(checkpoint.load_latest(run)["rank_rngs"]) == 2  # each learner's sampling RNG
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-000002.jsonl"]
    out = tmp_path / "run"
    shutil.copytree(run, out)
    saved = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps(saved | {"steps": 3, "out": str(out)}))
    done = launch("-m", "toolgym", "train", "--resume", str(out), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["step"] for r in rows(out)] == [1, 2, 3, 3] and rows(out)[-1]["final"]
    assert checkpoint.load_latest(out)["step"] == 3
    assert done.stdout.count("test success") == 2  # every rank got rank 0's evaluation
    straight = train_two_ranks(
        tmp_path, config.model_copy(update={"steps": 3, "out": tmp_path / "straight"})
    )
    assert [without_timing(r) for r in rows(out)] == [without_timing(r) for r in rows(straight)]


def test_a_refused_setting_fails_clearly_under_torchrun(tmp_path):
    done = launch("-m", "toolgym", "train", "--env", "toolgym/Search-v0", "--model", "tiny",
                  "--steps", "1", "--set", "rollout.backend=server",
                  "--set", "rollout.server_url=http://127.0.0.1:9", "--out", str(tmp_path / "run"))  # fmt: skip
    assert done.returncode != 0
    assert "rollout.backend='server' is not supported under torchrun" in done.stderr


# ---------------------------------------------------------------------- helpers


def test_task_blocks_are_contiguous_and_cover_the_tasks():
    assert [ddp.task_block(5, 2, r) for r in range(2)] == [(0, 3), (3, 5)]
    assert [ddp.task_block(6, 3, r) for r in range(3)] == [(0, 2), (2, 4), (4, 6)]
    assert [ddp.task_block(1, 2, r) for r in range(2)] == [(0, 1), (1, 1)]  # rank 1 plays none
    assert ddp.task_block(4) == (0, 4)  # alone: every task


MASK = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0],
                     [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])  # fmt: skip  # 3, 1, 2, 0, 4 tokens


def test_shares_weigh_each_rank_by_its_part_of_the_global_normaliser():
    index = torch.tensor([0, 1, 2, 4])  # 10 tokens; rank 0 rows 0, 1 (4), rank 1 rows 2, 4 (6)
    first, second = (ddp.share(index, MASK, "token_mean", ranks=2, at=r) for r in range(2))
    assert first.index.tolist() == [0, 1] and second.index.tolist() == [2, 4]
    assert (first.weight, second.weight) == pytest.approx((0.4, 0.6))
    for mode in ("sequence_mean", "constant"):  # rows: 2 of 4 each
        part = ddp.share(index, MASK, mode, ranks=2, at=1)
        assert part.weight == 0.5 and part.token_weight == pytest.approx(0.6)
    three = [
        ddp.share(torch.tensor([1, 3, 4]), MASK, "token_mean", ranks=3, at=r) for r in range(3)
    ]
    assert [p.weight for p in three] == pytest.approx(
        [0.2, 0.2, 0.8]
    )  # 1, 0 (clamped to 1), 4 of 5
    alone = ddp.share(index, MASK, "token_mean")
    assert alone.index is index and alone.weight == 1.0


def test_a_rank_without_rows_computes_one_with_weight_zero():
    empty = ddp.share(torch.tensor([2]), MASK, "sequence_mean", ranks=2, at=1)
    assert empty.index.tolist() == [2] and empty.weight == 0.0 == empty.token_weight


def test_shares_rebuild_the_global_loss_of_every_aggregation():
    from toolgym.train.losses import aggregate

    per_token = torch.arange(20, dtype=torch.float64).reshape(5, 4) / 7
    index = torch.tensor([0, 1, 2, 3, 4])
    for mode in ("token_mean", "sequence_mean", "constant"):
        whole = aggregate(per_token[index], MASK[index], mode, 6.0)
        parts = [ddp.share(index, MASK, mode, ranks=2, at=r) for r in range(2)]
        summed = sum(
            aggregate(per_token[p.index], MASK[p.index], mode, 6.0) * p.weight for p in parts
        )
        assert float(summed) == pytest.approx(float(whole), rel=1e-12), mode


def test_alone_every_collective_is_a_no_op():
    stats = RolloutStats(episodes=2)
    trajectories: list[Any] = ["a", "b"]
    assert ddp.gather_rollouts(trajectories, stats) == (trajectories, stats)
    assert ddp.reduce_weighted({"loss": 1.5}, [0.25]) == {"loss": 1.5}
    assert ddp.broadcast({"x": 1}) == {"x": 1} and ddp.all_gather(3) == [3]
    assert ddp.is_main() and ddp.world_size() == 1 and not ddp.active()


def test_every_registered_algorithm_is_supported_and_has_a_two_rank_test():
    assert set(ddp.SUPPORTED_ALGOS) == set(ALGORITHMS)
    here = Path(__file__).parent
    tests = "".join(p.read_text() for p in here.glob("test_distributed*.py"))
    for algo in ALGORITHMS:
        assert f'"{algo}"' in tests, f"{algo}: no 2-rank exactness test"


def test_an_algorithm_not_made_exact_is_refused(monkeypatch):
    monkeypatch.setattr(ddp, "world_size", lambda: 2)
    monkeypatch.setattr(ddp, "SUPPORTED_ALGOS", ("grpo",))
    with pytest.raises(
        ValueError, match="algo='sft' does not support data-parallel.*supported: grpo"
    ):
        ddp.check_supported(TrainConfig.model_construct(algo="sft", rollout=TrainConfig().rollout))


def test_a_rollout_server_is_refused_under_torchrun(monkeypatch):
    config = TrainConfig(**SMALL, rollout={"backend": "server", "server_url": "http://x"})
    ddp.check_supported(config)  # alone: fine
    monkeypatch.setattr(ddp, "world_size", lambda: 2)
    with pytest.raises(
        ValueError, match="rollout.backend='server' is not supported under torchrun"
    ):
        ddp.check_supported(config)
