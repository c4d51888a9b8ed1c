"""What runs on an accelerator, checked in one short call (``bench/gpu_check.sh`` runs this).

Sections, each printed as ``name: ok|FAIL|skipped  details`` and written to ``$OUT/gpu_check.json``:

- ``environment``: torch and its CUDA build, the device, bf16 support, and which inference engines
  (vLLM, SGLang) and extras (peft, ray) are installed (the device has no package index).
- ``sampler``: ``HFPolicy`` greedy rollouts of a multi-turn suite on the device against the same
  rollouts on CPU: identical token streams (fp32), the largest behaviour log-prob difference, and
  collector tokens/s on each.
- ``scoring``: ``token_logprobs`` of those streams on the device reproduces the stored behaviour
  log-probs (ratio 1 at the first update).
- ``train_step``: one clipped policy-gradient step (``policy_step``) on the device, fp32 and bf16
  autocast where supported: finite loss and gradient norm, and its time.

Without CUDA every device section says ``skipped``, unless ``--device cpu`` is given (which runs
the same checks CPU against CPU: the script's own test, ``tests/test_bench_gpu_check.py``).

Usage: python bench/gpu_check.py [--model smollm2-135m|tiny] [--device cuda|cpu] [--batch 8]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

import toolgym  # noqa: F401  (registers the envs)
from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch, Trajectory, collate
from toolgym.train.algos.pg import PolicyLossConfig, policy_step

ENV_ID = "toolgym/Calendar-v0"
PACKAGES = ("torch", "transformers", "vllm", "sglang", "peft", "ray", "flash-attn")


def environment(device: str) -> dict[str, Any]:
    """Versions, the device and what is installed."""
    installed = {}
    for name in PACKAGES:
        try:
            installed[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed[name] = None
    info: dict[str, Any] = {"installed": installed, "torch_cuda": torch.version.cuda}
    if device == "cuda":
        info |= {
            "device": torch.cuda.get_device_name(0),
            "capability": ".".join(map(str, torch.cuda.get_device_capability(0))),
            "bf16": torch.cuda.is_bf16_supported(),
            "memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1),
        }
    return info


def rollouts(
    model: Any, tokenizer: Any, batch: int, new_tokens: int
) -> tuple[list[Trajectory], float]:
    """Greedy episodes of ``batch`` Calendar tasks with ``model`` where it lives; tokens/s."""
    chat = ChatTokenizer(tokenizer)
    policy = HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id,
                      SamplingConfig(temperature=0.0, max_new_tokens=new_tokens))  # fmt: skip
    make_env = lambda: gym.make(ENV_ID, split="test", limits={"max_turns": 4})  # noqa: E731
    tasks = [t.id for t in make_env().unwrapped.tasks][:batch]  # type: ignore[attr-defined]
    collector = Collector(make_env, chat, policy, max_tokens=8192, progress=False)
    trajectories, stats = collector.collect(tasks, group_size=1, seed=0)
    return trajectories, stats.tokens_per_second


def to_device(batch: Batch, device: str) -> Batch:
    """Every tensor of ``batch`` on ``device``."""
    return Batch(*(getattr(batch, f).to(device) for f in Batch.__dataclass_fields__))


def sampler(device: str, model_name: str, batch: int, new_tokens: int) -> dict[str, Any]:
    """Device rollouts against CPU rollouts: same greedy streams, log-probs, tokens/s."""
    model, tokenizer = models.load(model_name, seed=0)  # type: ignore[arg-type]
    reference, cpu_rate = rollouts(model.eval(), tokenizer, batch, new_tokens)
    on_device, device_rate = rollouts(model.to(device).eval(), tokenizer, batch, new_tokens)
    same = sum(a.token_ids == b.token_ids for a, b in zip(reference, on_device, strict=True))
    diff = max(
        (abs(x - y) for a, b in zip(reference, on_device, strict=True) if a.token_ids == b.token_ids
         for x, y in zip(a.logprobs, b.logprobs, strict=True)),
        default=0.0,
    )  # fmt: skip
    ok = same == len(reference) and diff < 1e-3
    return {"ok": ok, "identical_streams": f"{same}/{len(reference)}", "max_logprob_diff": diff,
            "tokens_per_s_cpu": round(cpu_rate, 1), "tokens_per_s_device": round(device_rate, 1),
            "_model": model, "_trajectories": on_device, "_pad": tokenizer.pad_token_id}  # fmt: skip


def scoring(device: str, found: dict[str, Any]) -> dict[str, Any]:
    """Re-scoring the device's own streams on the device gives their behaviour log-probs."""
    batch = to_device(collate(found["_trajectories"], found["_pad"]), device)
    with torch.no_grad():
        logprobs = token_logprobs(found["_model"], batch, 1.0)
    diff = ((logprobs - batch.old_logprobs) * batch.loss_mask).abs().max().item()
    return {"ok": diff < 1e-3, "max_ratio_logprob_diff": diff}


def train_step(device: str, found: dict[str, Any]) -> dict[str, Any]:
    """One clipped PG step on the device (fp32, then bf16 autocast where supported)."""
    model = found["_model"]
    batch = to_device(collate(found["_trajectories"], found["_pad"]), device)
    advantages = torch.linspace(-1, 1, batch.input_ids.shape[0], device=device)[:, None]
    advantages = advantages * batch.loss_mask
    result: dict[str, Any] = {}
    modes = ["fp32"] + (["bf16"] if device == "cuda" and torch.cuda.is_bf16_supported() else [])
    for mode in modes:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
        start = time.perf_counter()
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=mode == "bf16"):
            stats = policy_step(model, optimizer, batch, advantages, PolicyLossConfig())
        if device == "cuda":
            torch.cuda.synchronize()
        finite = all(
            map(
                lambda v: torch.isfinite(torch.tensor(v)).item(),
                (stats["loss"], stats["grad_norm"]),
            )
        )
        result[mode] = {"loss": stats["loss"], "grad_norm": stats["grad_norm"], "finite": finite,
                        "seconds": round(time.perf_counter() - start, 3)}  # fmt: skip
    result["ok"] = all(r["finite"] for r in result.values() if isinstance(r, dict))
    return result


def run_section(
    name: str, action: Callable[[], dict[str, Any]], report: dict[str, Any]
) -> dict[str, Any]:
    """Run one check; print and record its outcome (a failure never stops the others)."""
    try:
        found = action()
    except Exception:  # noqa: BLE001 - a failing check is reported, the next one still runs
        found = {"ok": False, "error": traceback.format_exc(limit=3)}
    shown = {k: v for k, v in found.items() if not k.startswith("_")}
    status = "ok" if shown.pop("ok", True) else "FAIL"
    print(f"{name}: {status}  {json.dumps(shown, default=str)}", flush=True)
    report[name] = {"status": status, **shown}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", choices=["smollm2-135m", "tiny"])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=48)
    args = parser.parse_args()
    report: dict[str, Any] = {}
    device = args.device
    available = device == "cpu" or torch.cuda.is_available()
    run_section("environment", lambda: environment(device if available else "cpu"), report)
    if not available:
        for name in ("sampler", "scoring", "train_step"):
            print(f"{name}: skipped  (no CUDA device)")
            report[name] = {"status": "skipped"}
    else:
        found = run_section(
            "sampler", lambda: sampler(device, args.model, args.batch, args.new_tokens), report
        )
        if "_model" in found:
            run_section("scoring", lambda: scoring(device, found), report)
            run_section("train_step", lambda: train_step(device, found), report)
    out = Path(os.environ.get("OUT", "runs/gpu_check"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {out / 'gpu_check.json'}")
    raise SystemExit(1 if any(r["status"] == "FAIL" for r in report.values()) else 0)


if __name__ == "__main__":
    main()
