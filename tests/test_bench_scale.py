"""Smoke runs of the scale-out benchmarks on the tiny model (the figures come from SmolLM2 runs)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run(script, *args):
    done = subprocess.run([sys.executable, str(BENCH / script), *args],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_lora_memory_prints_both_variants_and_their_ratio():
    pytest.importorskip("peft")
    out = run("lora_memory.py", "--model", "tiny", "--steps", "2", "--tasks", "1")
    assert "lora/full" in out and "peak_rss_mb" in out and "trainable_parameters" in out


def test_kv_cache_bench_reports_the_prefill_saving():
    out = run(
        "kv_cache.py", "--model", "tiny", "--rounds", "2", "--new-tokens", "4", "--batch", "2"
    )
    assert "cache on" in out and "prefill per generated token down" in out


def test_server_rollouts_bench_compares_both_protocols_with_in_process():
    out = run("server_rollouts.py", "--model", "tiny", "--repeats", "1", "--max-new-tokens", "4")
    assert "in-process" in out and "sglang" in out and "vllm" in out


def test_ray_rollouts_bench_compares_workers_with_in_process():
    pytest.importorskip("ray")
    out = run("ray_rollouts.py", "--model", "tiny", "--repeats", "1", "--max-new-tokens", "4",
              "--tasks", "2", "--group", "1")  # fmt: skip
    assert "in-process" in out and "ray x2" in out and "sync to 2 workers" in out
