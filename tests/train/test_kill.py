"""A real ``kill -9`` of a training process: ``--resume`` finishes exactly like an unbroken run."""

import json
import signal
import subprocess
import sys
import time

import torch

from toolgym.train import checkpoint

ARGS = ["train", "--env", "toolgym/Search-v0", "--model", "tiny", "--algo", "grpo", "--steps", "8",
        "--set", "tasks_per_step=2", "--set", "group_size=2", "--set", "max_new_tokens=6",
        "--set", "eval_tasks=2", "--set", "checkpoint_every=2", "--set", "lr=1e-3",
        "--set", "stop_after_no_signal=0", "--no-progress"]  # the tiny model earns no reward  # fmt: skip


def toolgym(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "toolgym", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def logged_steps(run_dir) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def without_timing(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("time_") and k != "seconds"}


def test_sigkill_mid_run_then_resume_equals_an_unbroken_run(tmp_path):
    killed_dir, straight_dir = tmp_path / "killed", tmp_path / "straight"
    victim = toolgym(*ARGS, "--out", str(killed_dir))
    deadline = time.monotonic() + 300
    while len(logged_steps(killed_dir)) < 3:  # past the first checkpoint, mid-way to the next
        assert victim.poll() is None, victim.stderr.read() if victim.stderr else ""
        assert time.monotonic() < deadline, "the training process made no progress"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    done_before_kill = len(logged_steps(killed_dir))
    assert done_before_kill < 8 and not any(r.get("final") for r in logged_steps(killed_dir))

    straight = toolgym(*ARGS, "--out", str(straight_dir))
    resumed = toolgym("train", "--resume", str(killed_dir), "--no-progress")
    for process in (straight, resumed):
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err

    assert [without_timing(r) for r in logged_steps(killed_dir)] == [
        without_timing(r) for r in logged_steps(straight_dir)
    ]
    final_killed = checkpoint.load_latest(killed_dir)
    final_straight = checkpoint.load_latest(straight_dir)
    assert final_killed["step"] == final_straight["step"] == 8
    for name, weights in final_straight["model"].items():
        assert torch.equal(weights, final_killed["model"][name]), name
