"""Where the learner trains: ``device`` resolves to the CPU or this rank's GPU; batches follow it.

A CPU build of torch cannot place a tensor on CUDA (not even a fake one), so the CUDA run itself
is checked where a GPU is present (the last test here, and ``bench/gpu_check.sh``'s recipe).
"""

import pytest
import torch

from toolgym.tokens.trajectory import Batch, Segment, Trajectory, collate
from toolgym.train import checkpoint
from toolgym.train.config import TrainConfig
from toolgym.train.distributed import learner_device
from toolgym.train.loop import Trainer

SMALL = {"env": "toolgym/Search-v0", "model": "tiny", "tasks_per_step": 1, "group_size": 2,
         "max_new_tokens": 4, "eval_tasks": 1, "steps": 1}  # fmt: skip


def test_cpu_is_the_cpu_and_auto_without_a_gpu_is_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert learner_device("cpu") == torch.device("cpu")
    assert learner_device("auto") == torch.device("cpu")


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device=cuda, but torch sees no GPU.*device=cpu"):
        learner_device("cuda")


def test_with_a_gpu_each_torchrun_rank_takes_its_local_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert learner_device("auto") == torch.device("cuda", 1)
    assert learner_device("cuda") == torch.device("cuda", 1)
    assert learner_device("cpu") == torch.device("cpu")  # asked for: the GPU is left alone
    monkeypatch.delenv("LOCAL_RANK")
    assert learner_device("cuda") == torch.device("cuda", 0)


def test_batch_to_moves_every_tensor():
    trajectory = Trajectory(
        "t", [Segment("user", (1, 2), False), Segment("assistant", (3, 4), True, (-0.5, -0.25))],
        turn_rewards=[1.0],
    )  # fmt: skip
    batch = collate([trajectory], pad_id=0, device="meta")  # a device every torch build has
    fields = Batch.__dataclass_fields__
    assert {getattr(batch, f).device.type for f in fields} == {"meta"}
    assert batch.input_ids.shape == (1, 4)
    on_cpu = collate([trajectory], pad_id=0)  # no device: built and left on the CPU
    assert {getattr(on_cpu, f).device.type for f in fields} == {"cpu"}
    assert on_cpu.to("cpu").old_logprobs.tolist() == [[0.0, 0.0, -0.5, -0.25]]


def test_the_trainer_collates_its_rollouts_onto_its_device(tmp_path, monkeypatch):
    """On a CPU machine every device is the CPU, so the check is that the device is passed on."""
    from toolgym.train import loop

    asked = []
    monkeypatch.setattr(loop, "collate", lambda *a: asked.append(a[2:]) or collate(*a))
    trainer = Trainer(TrainConfig(**SMALL, device="cpu", out=tmp_path / "run"), progress=False)
    assert trainer.device == torch.device("cpu")
    assert {p.device for p in trainer.model.parameters()} == {trainer.device}
    rollout = trainer.rollout(trainer._next_tasks())
    assert asked == [(trainer.device,)]
    assert rollout.batch.input_ids.device == rollout.rewards.device == trainer.device


def test_a_checkpoint_loads_onto_the_cpu(tmp_path):
    checkpoint.save(tmp_path, 1, {"w": torch.ones(2), "step": 1})
    state = checkpoint.load_latest(tmp_path)
    assert state["step"] == 1 and state["w"].device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("algo", ["grpo", "ppo", "rest", "dpo", "sft"])
def test_a_training_step_on_the_gpu(algo, tmp_path):
    trainer = Trainer(TrainConfig(**SMALL, algo=algo, device="cuda", out=tmp_path), progress=False)
    metrics = trainer.train_step()
    assert next(trainer.model.parameters()).is_cuda
    assert torch.isfinite(torch.tensor(metrics["loss"]))
    trainer._save()
    resumed = Trainer(TrainConfig(**SMALL, algo=algo, device="cuda", out=tmp_path),
                      resume=True, progress=False)  # fmt: skip
    assert resumed.step == 1
