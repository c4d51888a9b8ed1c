"""What runs on an accelerator, checked in one short call (``bench/gpu_check.sh`` runs this).

Sections, each printed as ``name: ok|FAIL|skipped  details`` and written to ``$OUT/gpu_check.json``:

- ``environment``: torch and its CUDA build, the device, bf16 support, and which inference engines
  (vLLM, SGLang) and extras (peft, ray) are installed (the device has no package index).
- ``sampler``: ``HFPolicy`` greedy rollouts of a multi-turn suite on the device against the same
  rollouts on CPU: identical token streams (fp32), the largest behaviour log-prob difference, and
  collector tokens/s on each.
- ``scoring``: ``token_logprobs`` of those streams on the device reproduces the stored behaviour
  log-probs (ratio 1 at the first update).
- ``kv_cache``: the same greedy rollouts with ``SamplingConfig(kv_cache=True)`` against
  ``kv_cache=False`` on the device: identical streams, log-prob difference < 1e-4, tokens/s and
  prefill tokens per generated token of each (``HFPolicy.prefill_tokens``), for the collector's
  episodes and for ``bench/kv_cache.py``'s forced 3-round rollout (where the cache must save).
- ``bf16_sampling``: the rollouts under bf16 autocast against fp32: agreement, finite log-probs,
  tokens/s (``train_step`` covers bf16 for the update).
- ``server_policy``: the ``toolgym serve`` app on the device model (uvicorn on loopback in a
  thread) through ``ServerTokenPolicy`` with both wire protocols (``vllm``, ``sglang``) against
  the in-process policy: identical streams, log-prob difference, tokens/s ratio. With
  ``--device cpu`` also the ``toolgym serve`` command as a subprocess (it has no device option).
  Then, with CUDA and SmolLM2, each installed engine (vLLM, SGLang; the script installs nothing) as a
  subprocess on SmolLM2's converted fp32 folder (120 s startup limit, always killed; its log in
  ``$OUT/server_<engine>.log``): the fraction of identical streams and the log-prob difference.
- ``train_step``: one clipped policy-gradient step (``policy_step``) on the device, fp32 and bf16
  autocast where supported: finite loss and gradient norm, and its time.
- ``recipe``: ``toolgym recipe`` at a small size (a few SFT and GRPO steps, few held-out tasks) as
  a subprocess: wall time and the held-out success it writes. The trainer takes a device only if
  ``TrainConfig`` has a ``device`` field; without one, on CUDA this section fails saying so.

Without CUDA every device section says ``skipped``, unless ``--device cpu`` is given (which runs
the same checks CPU against CPU: the script's own test, ``tests/test_bench_gpu_check.py``). Every
subprocess and HTTP call has a timeout; a failing section never stops the others. The figures are
one run each (no repeats), sized to finish in a few minutes on a GPU.

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

import gpu_check_sections as sections  # bench/gpu_check_sections.py: the later sections
import torch

import toolgym  # noqa: F401  (registers the envs)
from toolgym.llm import models
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Trajectory, collate
from toolgym.train.algos.pg import PolicyLossConfig, policy_step

SECTIONS = ("sampler", "scoring", "kv_cache", "bf16_sampling", "server_policy", "train_step",
            "recipe")  # fmt: skip
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
    policy = sections.greedy(model, chat, tokenizer.pad_token_id, new_tokens)
    trajectories, stats = sections.collect(chat, policy, batch)
    return trajectories, stats.tokens_per_second


def sampler(device: str, model_name: str, batch: int, new_tokens: int) -> dict[str, Any]:
    """Device rollouts against CPU rollouts: same greedy streams, log-probs, tokens/s."""
    model, tokenizer = models.load(model_name, seed=0)  # type: ignore[arg-type]
    reference, cpu_rate = rollouts(model.eval(), tokenizer, batch, new_tokens)
    on_device, device_rate = rollouts(model.to(device).eval(), tokenizer, batch, new_tokens)
    same = sections.compare(reference, on_device)
    ok = same["identical_fraction"] == 1 and same["max_logprob_diff"] < 1e-3
    return {"ok": ok, "identical_streams": same["identical_streams"],
            "max_logprob_diff": same["max_logprob_diff"],
            "tokens_per_s_cpu": round(cpu_rate, 1), "tokens_per_s_device": round(device_rate, 1),
            "_model": model, "_tokenizer": tokenizer, "_trajectories": on_device, "_pad": tokenizer.pad_token_id}  # fmt: skip


def scoring(device: str, found: dict[str, Any]) -> dict[str, Any]:
    """Re-scoring the device's own streams on the device gives their behaviour log-probs."""
    batch = collate(found["_trajectories"], found["_pad"], device)
    with torch.no_grad():
        logprobs = token_logprobs(found["_model"], batch, 1.0)
    diff = ((logprobs - batch.old_logprobs) * batch.loss_mask).abs().max().item()
    return {"ok": diff < 1e-3, "max_ratio_logprob_diff": diff}


def train_step(device: str, found: dict[str, Any]) -> dict[str, Any]:
    """One clipped PG step on the device (fp32, then bf16 autocast where supported)."""
    model = found["_model"]
    batch = collate(found["_trajectories"], found["_pad"], device)
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


def loaded(found: dict[str, Any], name: str, device: str) -> tuple[Any, Any]:
    """The sampler's device model and tokenizer, or a fresh load where the sampler failed."""
    if "_model" not in found:
        model, found["_tokenizer"] = models.load(name, seed=0)  # type: ignore[arg-type]
        found["_loaded"] = model.to(device).eval()
    return found.get("_model", found.get("_loaded")), found["_tokenizer"]


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
    if "_skipped" in found:
        status, shown = "skipped", {"reason": found["_skipped"]}
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
    out = Path(os.environ.get("OUT", "runs/gpu_check"))
    out.mkdir(parents=True, exist_ok=True)
    available = device == "cpu" or torch.cuda.is_available()
    run_section("environment", lambda: environment(device if available else "cpu"), report)
    if not available:
        for name in SECTIONS:
            print(f"{name}: skipped  (no CUDA device)")
            report[name] = {"status": "skipped"}
    else:
        found = run_section(
            "sampler", lambda: sampler(device, args.model, args.batch, args.new_tokens), report
        )
        if "_model" in found:
            run_section("scoring", lambda: scoring(device, found), report)
        size = (args.batch, args.new_tokens)
        model = lambda: loaded(found, args.model, device)  # noqa: E731  (model, tokenizer)
        run_section("kv_cache", lambda: sections.kv_cache(*model(), *size), report)
        run_section(
            "bf16_sampling", lambda: sections.bf16_sampling(device, *model(), *size), report
        )
        run_section(
            "server_policy",
            lambda: sections.server_policy(device, *model(), args.model, *size, out),
            report,
        )
        if "_model" in found:  # the step changes the weights: after every sampling check
            run_section("train_step", lambda: train_step(device, found), report)
        run_section("recipe", lambda: sections.recipe(device, args.model, out), report)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {out / 'gpu_check.json'}")
    raise SystemExit(1 if any(r["status"] == "FAIL" for r in report.values()) else 0)


if __name__ == "__main__":
    main()
