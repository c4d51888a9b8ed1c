"""Launch helpers for the data-parallel tests: a real ``torchrun`` of 2 gloo learners on loopback.

The worker script records rank 0's gathered rollout per step (``rollout-N.pkl``) and saves every
rank's final parameters (``params-rankR.pt``), so one process can replay the same global batch
(:func:`replay`) and be compared with the ranks (:func:`assert_same_run`).

The tiny random model earns the same shaped reward on every Search episode, so the algorithms
that need differing rewards in a group play :data:`TOY`, whose tasks it passes about half the
time (success: the answer contains an 's').
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import torch
from pydantic import BaseModel

from toolgym import Task, ToolEnv, ToolSuite
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer

SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 3, "group_size": 2,
         "max_new_tokens": 6, "eval_tasks": 2, "lr": 1e-3, "steps": 2}  # fmt: skip
SHAPED = {"completion": 1.0, "format": 0.5}  # a random tiny model earns format reward: signal

TOY = "toolgym-test/DataParallelLetter-v0"


class Nothing(BaseModel):
    pass


def make_toy(split: str = "train", rewards: Any = None, **_: Any) -> ToolEnv:
    """Three train tasks (one test task) without tools, passed by an answer containing 's'."""
    suite = ToolSuite("toy", Nothing, (), lambda seed: Nothing(), instructions="Answer briefly.")
    tasks = [Task(id=f"toy-{split}-{n}", suite="toy", instruction=f"Say something {n}.",
                  required_outputs=["s"], gold_answer="s")
             for n in range(3 if split == "train" else 1)]  # fmt: skip
    return ToolEnv(suite, tasks, rewards=rewards or {"completion": 1.0})


if TOY not in gym.registry:
    gym.register(TOY, entry_point=make_toy)

# lr 1e-4: Adam's first steps are about lr x sign(g), so the float noise of a near-zero gradient
# entry (rows batched differently on 2 ranks) can move a weight by up to lr. At 1e-3 the runs
# ended 0.3e-6 to 1.5e-5 apart (dpo 9.2e-6 here, over 1e-5 on a CI machine); a wrong weight
# moves them by 1e-4 or more (ReST with per-rank weights: 6.8e-4).
TOY_RUN = SMALL | {"env": TOY, "eval_tasks": 1, "group_size": 4, "rewards": SHAPED,
                   "temperature": 1.5, "lr": 1e-4}  # fmt: skip

WORKER = """
import pickle, sys
sys.path.insert(0, HERE)
import ddp_launch  # registers the toy env
from pathlib import Path
import torch
from toolgym.train import checkpoint
from toolgym.train import distributed as ddp
from toolgym.train.config import TrainConfig
from toolgym.train.loop import Trainer

config = TrainConfig.model_validate_json(Path(sys.argv[1]).read_text())
collect, save = Trainer._collect, checkpoint.save

def recording(self, tasks, seed):  # rank 0 keeps each step's gathered rollout
    trajectories, stats = collect(self, tasks, seed)
    if ddp.is_main():
        with (self.out / f"rollout-{self.step + 1}.pkl").open("wb") as f:
            pickle.dump((trajectories, stats), f)
    return trajectories, stats

def saving(*args, **kwargs):  # who wrote checkpoints
    with (config.out / f"saved-by-rank{ddp.rank()}").open("a") as f:
        f.write("x")
    return save(*args, **kwargs)

Trainer._collect, checkpoint.save = recording, saving
trainer = Trainer(config, progress=False)
trainer.run()
torch.save(trainer.model.state_dict(), config.out / f"params-rank{ddp.rank()}.pt")
""".replace("HERE", repr(str(Path(__file__).parent)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(*args: str) -> subprocess.CompletedProcess[str]:
    """``torchrun --nproc_per_node 2 ARGS`` on a free loopback port (gloo on CPU)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env |= {"OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()), *args]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def train_two_ranks(tmp: Path, config: TrainConfig) -> Path:
    """Train ``config`` with 2 learners through the worker script; returns its run directory."""
    (tmp / "config.json").write_text(config.model_dump_json())
    (tmp / "worker.py").write_text(WORKER)
    done = launch(str(tmp / "worker.py"), str(tmp / "config.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    return config.out


def assert_same_parameters(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-5, rtol=0, msg=name)


def replay(out: Path, config: TrainConfig, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Trainer:
    """One process trained on the 2-rank run's recorded rollouts (one per step)."""
    rollouts = [pickle.loads((out / f"rollout-{s}.pkl").read_bytes()) for s in (1, 2)]
    size = config.tasks_per_step * config.group_size
    assert [len(t) for t, _ in rollouts] == [size, size]  # every rank's episodes, gathered
    monkeypatch.setattr(Trainer, "_collect", lambda self, tasks, seed: rollouts[self.step])
    single = Trainer(config.model_copy(update={"out": tmp / "one"}), progress=False)
    single.run()
    return single


def assert_same_run(
    out: Path, single: Trainer, config: TrainConfig, keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Both ranks and the one process hold the same (moved) weights and log the same ``keys``.

    Returns the 2-rank run's two training rows.
    """
    ranks = [torch.load(out / f"params-rank{r}.pt") for r in range(2)]
    assert_same_parameters(ranks[0], ranks[1])
    assert_same_parameters(ranks[0], single.model.state_dict())
    assert moved(out, config)
    two, one = rows(out), rows(single.out)
    assert [r["step"] for r in two] == [r["step"] for r in one] == [1, 2, 2]
    for a, b in zip(two[:2], one[:2], strict=True):  # the global minibatch's values, not a rank's
        for key in keys:
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
    return two[:2]


def rows(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_timing(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("time_") and k != "seconds"}


def moved(run_dir: Path, config: TrainConfig) -> bool:
    """Whether training changed the weights (a zero gradient would make equality vacuous)."""
    start = Trainer(config.model_copy(update={"out": run_dir.parent / "start"}), progress=False)
    trained = torch.load(run_dir / "params-rank0.pt")
    return any(not torch.equal(p, trained[k]) for k, p in start.model.state_dict().items())
