"""bench/gpu_check.py runs its checks (CPU against CPU here) and skips cleanly without CUDA."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu_check.py"


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", "tiny", "--batch", "2", "--new-tokens", "8", *args],
        capture_output=True, text=True, env=os.environ | {"OUT": str(tmp_path)}, timeout=600,
    )  # fmt: skip
    return result, json.loads((tmp_path / "gpu_check.json").read_text())


def test_every_check_passes_cpu_against_cpu(tmp_path):
    result, report = run(tmp_path, "--device", "cpu")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {name: r["status"] for name, r in report.items()} == dict.fromkeys(
        ("environment", "sampler", "scoring", "train_step"), "ok"
    )
    assert report["sampler"]["identical_streams"] == "2/2"
    assert report["sampler"]["tokens_per_s_device"] > 0  # episodes generated tokens
    assert report["train_step"]["fp32"]["grad_norm"] > 0  # the step had trainable tokens


def test_without_cuda_the_device_checks_are_skipped(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    result, report = run(tmp_path, "--device", "cuda")
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["sampler"]["status"] == "skipped" and report["environment"]["status"] == "ok"
