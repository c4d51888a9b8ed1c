"""bench/gpu_check.py runs its checks (CPU against CPU here) and skips cleanly without CUDA.

The tiny model, 2 episodes of 8 tokens a turn: the whole script takes well under a minute.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu_check.py"
SECTIONS = ("environment", "sampler", "scoring", "kv_cache", "bf16_sampling", "server_policy",
            "train_step", "recipe")  # fmt: skip


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", "tiny", "--batch", "2", "--new-tokens", "8", *args],
        capture_output=True, text=True, env=os.environ | {"OUT": str(tmp_path)}, timeout=600,
    )  # fmt: skip
    return result, json.loads((tmp_path / "gpu_check.json").read_text())


def test_every_check_passes_cpu_against_cpu(tmp_path):
    result, report = run(tmp_path, "--device", "cpu")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {name: r["status"] for name, r in report.items()} == dict.fromkeys(SECTIONS, "ok")
    assert report["sampler"]["identical_streams"] == "2/2"
    assert report["sampler"]["tokens_per_s_device"] > 0  # episodes generated tokens
    assert report["train_step"]["fp32"]["grad_norm"] > 0  # the step had trainable tokens

    kv = report["kv_cache"]  # cache on vs off: same greedy streams, fewer prefill tokens
    assert kv["identical_streams"] == "2/2" and kv["max_logprob_diff"] < 1e-4
    assert kv["on"]["cache_active"] and not kv["off"]["cache_active"]
    forced = kv["on"]["forced_3_rounds"], kv["off"]["forced_3_rounds"]
    assert forced[0]["prefill_per_generated"] < forced[1]["prefill_per_generated"]
    assert all(kv[m]["tokens_per_s"] > 0 for m in ("on", "off"))

    bf16 = report["bf16_sampling"]
    assert bf16["finite_logprobs"] and bf16["tokens_per_s_bf16"] > 0

    server = report["server_policy"]  # toolgym serve over loopback, both wire protocols
    for protocol in ("vllm", "sglang"):
        assert server[protocol]["identical_streams"] == "2/2", server[protocol]
        assert server[protocol]["max_logprob_diff"] < 1e-4 and server[protocol]["ratio"] > 0
    cli = server["cli_subprocess"]  # the `toolgym serve` command as a subprocess
    assert cli["ok"] and cli["identical_streams"] == "2/2" and cli["max_logprob_diff"] < 1e-4
    assert "skipped" in server["engines"]  # vLLM/SGLang: not installed, or run only on CUDA

    recipe = report["recipe"]
    assert recipe["finished"] and recipe["wall_s"] > 0 and recipe["eval_tasks"] == 4
    assert set(recipe["held_out_success"]) == {"base", "sft", "rl"}
    assert (tmp_path / "recipe_summary.json").is_file()


def test_without_cuda_the_device_checks_are_skipped(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    result, report = run(tmp_path, "--device", "cuda")
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["environment"]["status"] == "ok"
    assert {r["status"] for name, r in report.items() if name != "environment"} == {"skipped"}
    assert set(report) == set(SECTIONS)
