"""The later sections of ``bench/gpu_check.py``: kv_cache, bf16_sampling, server_policy, recipe.

Each section returns a dict (``ok`` and figures; keys starting with ``_`` are not printed). Every
subprocess and HTTP call here has a timeout, and an engine subprocess is always killed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import httpx
import kv_cache as kv_bench  # bench/kv_cache.py: its forced multi-round rollout and prefill count
import torch

from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.llm.token_client import ServerTokenPolicy, TokenServerConfig
from toolgym.serve import background_server, create_app
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Trajectory
from toolgym.train.config import TrainConfig

ENV_ID = "toolgym/Calendar-v0"
ENGINE_STARTUP_S = 120.0
OFFLINE = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # nothing downloads
HTTP = {"read_timeout": 60.0, "max_retries": 1, "backoff_base": 0.5}  # every server call bounded
# toolgym recipe sizes: a handful of SFT and GRPO steps on a few held-out tasks
RECIPE_SETS = {
    "tiny": ["eval_tasks=4", "max_new_tokens=16", "sft.steps=2", "sft.tasks_per_step=2",
             "rl.steps=2", "rl.tasks_per_step=2", "rl.group_size=2", "rl.freeze_layers=0",
             "sft.freeze_layers=0"],
    "smollm2-135m": ["eval_tasks=8", "max_new_tokens=48", "sft.steps=2", "sft.tasks_per_step=4",
                     "rl.steps=3", "rl.tasks_per_step=2", "rl.group_size=4"],
}  # fmt: skip


def greedy(model: Any, chat: ChatTokenizer, pad: int, new_tokens: int, **config: Any) -> HFPolicy:
    """A greedy ``HFPolicy`` on the model's device."""
    return HFPolicy(
        model, chat.stop_ids, pad, SamplingConfig(0.0, max_new_tokens=new_tokens, **config)
    )


def collect(chat: ChatTokenizer, policy: Any, batch: int) -> tuple[list[Trajectory], Any]:
    """Greedy episodes of ``batch`` tasks of the multi-turn Calendar suite; (trajectories, stats)."""
    make_env = lambda: gym.make(ENV_ID, split="test", limits={"max_turns": 4})  # noqa: E731
    tasks = [t.id for t in make_env().unwrapped.tasks][:batch]  # type: ignore[attr-defined]
    collector = Collector(make_env, chat, policy, max_tokens=8192, progress=False)
    return collector.collect(tasks, group_size=1, seed=0)


def compare(reference: list[Trajectory], other: list[Trajectory]) -> dict[str, Any]:
    """Identical streams (count, fraction) and the largest log-prob difference over the tokens
    each pair has in common at its start (all of it where the streams are identical)."""
    same, diff = 0, 0.0
    for a, b in zip(reference, other, strict=True):
        same += a.token_ids == b.token_ids
        for x, y, lx, ly in zip(a.token_ids, b.token_ids, a.logprobs, b.logprobs, strict=False):
            if x != y:
                break
            diff = max(diff, abs(lx - ly))
    n = len(reference)
    return {"identical_streams": f"{same}/{n}", "identical_fraction": same / n if n else 0.0,
            "max_logprob_diff": diff}  # fmt: skip


def kv_cache(model: Any, tokenizer: Any, batch: int, new_tokens: int) -> dict[str, Any]:
    """Cross-turn KV cache on vs off on the device: same greedy streams and log-probs, speed and
    prefill tokens per generated token (collector episodes, and bench/kv_cache.py's forced rounds)."""
    chat, pad = ChatTokenizer(tokenizer), tokenizer.pad_token_id
    runs, found = {}, {}
    for name, kv in (("off", False), ("on", True)):
        policy = greedy(model, chat, pad, new_tokens, kv_cache=kv)
        found[name], stats = collect(chat, policy, batch)
        forced = kv_bench.rollout(
            HFPolicy(model, (), pad, SamplingConfig(0.0, max_new_tokens=new_tokens, kv_cache=kv)),
            chat, kv_bench.prompts(chat, ENV_ID, batch), rounds=3,
        )  # fmt: skip
        runs[name] = {
            "cache_active": policy.store is not None,
            "tokens_per_s": round(stats.tokens_per_second, 1),
            "prefill_per_generated": round(
                policy.prefill_tokens / max(stats.generated_tokens, 1), 2
            ),
            "forced_3_rounds": {
                "tokens_per_s": round(forced["generated"] / forced["seconds"], 1),
                "prefill_per_generated": round(forced["prefill"] / forced["generated"], 2),
            },
        }
    result = compare(found["off"], found["on"])
    saved = (runs["on"]["forced_3_rounds"]["prefill_per_generated"]
             < runs["off"]["forced_3_rounds"]["prefill_per_generated"])  # fmt: skip
    ok = result["identical_fraction"] == 1 and result["max_logprob_diff"] < 1e-4 and saved
    return {"ok": ok, **result, "cache_saves_prefill": saved, **runs}


def bf16_sampling(device: str, model: Any, tokenizer: Any, batch: int, new_tokens: int) -> dict:
    """Greedy rollouts under bf16 autocast against fp32 ones: agreement, finite log-probs, speed."""
    if device == "cuda" and not torch.cuda.is_bf16_supported():
        return {"_skipped": "no bf16 on this device"}
    chat = ChatTokenizer(tokenizer)
    pad = tokenizer.pad_token_id
    fp32, fp32_stats = collect(chat, greedy(model, chat, pad, new_tokens), batch)
    with torch.autocast(device_type=device, dtype=torch.bfloat16):
        bf16, bf16_stats = collect(chat, greedy(model, chat, pad, new_tokens), batch)
    finite = all(math.isfinite(v) for t in bf16 for v in t.logprobs)
    return {"ok": finite and bf16_stats.generated_tokens > 0, **compare(fp32, bf16),
            "finite_logprobs": finite, "tokens_per_s_fp32": round(fp32_stats.tokens_per_second, 1),
            "tokens_per_s_bf16": round(bf16_stats.tokens_per_second, 1)}  # fmt: skip


def remote_rollouts(
    url: str, protocol: str, name: str, chat: ChatTokenizer, batch: int, new_tokens: int
) -> tuple[list[Trajectory], float]:
    """Greedy episodes through ``ServerTokenPolicy`` at ``url``; (trajectories, tokens/s)."""
    config = TokenServerConfig(base_url=url, protocol=protocol, model=name, temperature=0.0,  # type: ignore[arg-type]
                               max_new_tokens=new_tokens, **HTTP)  # fmt: skip
    with ServerTokenPolicy(config, chat.stop_ids) as remote:
        trajectories, stats = collect(chat, remote, batch)
    return trajectories, stats.tokens_per_second


def server_policy(
    device: str, model: Any, tokenizer: Any, model_name: str, batch: int, new_tokens: int, out: Path
) -> dict[str, Any]:
    """``toolgym serve`` (its app, on the device, uvicorn on loopback in a thread) through
    ``ServerTokenPolicy`` with both protocols vs the in-process policy; then vLLM/SGLang if installed.

    The ``toolgym serve`` command has no device option (it serves ``models.load``'s CPU model), so
    the check builds the same app (``create_app`` + uvicorn, as ``serve`` does) on the device model.
    """
    chat = ChatTokenizer(tokenizer)
    local, stats = collect(chat, greedy(model, chat, tokenizer.pad_token_id, new_tokens), batch)
    result: dict[str, Any] = {"tokens_per_s_in_process": round(stats.tokens_per_second, 1)}
    with background_server(create_app(model, tokenizer, model_name=model_name), timeout=30) as url:
        for protocol in ("vllm", "sglang"):
            got, rate = remote_rollouts(url, protocol, model_name, chat, batch, new_tokens)
            result[protocol] = compare(local, got) | {
                "tokens_per_s": round(rate, 1), "ratio": round(rate / stats.tokens_per_second, 2)
            }  # fmt: skip
    ok = all(result[p]["identical_fraction"] == 1 and result[p]["max_logprob_diff"] < 1e-4
             for p in ("vllm", "sglang"))  # fmt: skip
    result["cli_subprocess"] = cli_serve(device, model_name, local, chat, batch, new_tokens, out)
    cli = result["cli_subprocess"]
    ok = ok and cli.get("ok", True) and cli.get("identical_fraction", 1) == 1
    result["engines"] = engines(device, model_name, local, chat, batch, new_tokens, out)
    ok = ok and all(e.get("ok", True) for e in result["engines"].values() if isinstance(e, dict))
    return {"ok": ok, **result}


def engine_command(engine: str, folder: Path, port: int, dtype: str = "float32") -> list[str]:
    """The server command of ``engine`` on SmolLM2's transformers folder (the weights HFPolicy
    runs: the packaged GGUF dequantised to fp32 by ``models.load``), a small memory share.

    The folder, not the GGUF: current vLLM reads GGUF only with the separate vllm-gguf-plugin
    (``vllm serve FILE.gguf --tokenizer FOLDER``), and would run the Q4_1 kernels, not fp32.
    """
    common = ["--host", "127.0.0.1", "--port", str(port), "--dtype", dtype]
    if engine == "vllm":
        return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(folder),
                "--served-model-name", "smollm2-135m", *common, "--gpu-memory-utilization", "0.3",
                "--max-model-len", "8192", "--enforce-eager", "--seed", "0"]  # fmt: skip
    return [sys.executable, "-m", "sglang.launch_server", "--model-path", str(folder),
            "--served-model-name", "smollm2-135m", *common, "--mem-fraction-static", "0.3",
            "--context-length", "8192", "--disable-cuda-graph", "--random-seed", "0"]  # fmt: skip


def engines(
    device: str, model_name: str, local: list[Trajectory], chat: ChatTokenizer, batch: int,
    new_tokens: int, out: Path,
) -> dict[str, Any]:  # fmt: skip
    """vLLM / SGLang servers on SmolLM2 (subprocesses, killed after) against the in-process streams."""
    installed = [e for e in ("vllm", "sglang") if importlib.util.find_spec(e) is not None]
    if not installed:
        return {"skipped": "vllm/sglang not installed"}
    if device != "cuda" or model_name != "smollm2-135m":
        return {"skipped": f"{'/'.join(installed)} needs CUDA and --model smollm2-135m"}
    folder = models.cache_dir() / "smollm2-135m-instruct"  # written by models.load
    found = {}
    for engine in installed:
        for dtype in ("float32", "bfloat16"):  # bf16 only where the engine refused fp32 at once
            port = free_port()
            command = engine_command(engine, folder, port, dtype)
            found[engine] = served_by(engine, command, port, engine, "smollm2-135m", local, chat,
                                      batch, new_tokens, out) | {"dtype": dtype}  # fmt: skip
            if found[engine]["ok"] or "exited" not in found[engine]["error"]:
                break
    return found


def cli_serve(
    device: str, model_name: str, local: list[Trajectory], chat: ChatTokenizer, batch: int,
    new_tokens: int, out: Path,
) -> dict[str, Any]:  # fmt: skip
    """The ``toolgym serve`` command as a subprocess (CPU: the command has no device option)."""
    if device != "cpu":
        return {"skipped": "toolgym serve has no device option (the app was served on the device)"}
    port = free_port()
    command = [sys.executable, "-m", "toolgym", "serve", "--model", model_name, "--port", str(port)]
    return served_by("toolgym_serve", command, port, "vllm", model_name, local, chat, batch,
                     new_tokens, out, startup_s=60.0)  # fmt: skip


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_by(
    name: str, command: list[str], port: int, protocol: str, served: str,
    local: list[Trajectory], chat: ChatTokenizer, batch: int, new_tokens: int, out: Path,
    startup_s: float = ENGINE_STARTUP_S,
) -> dict[str, Any]:  # fmt: skip
    """Start ``command``, wait for /v1/models (at most ``startup_s``), compare, always kill it."""
    log, url, start = out / f"server_{name}.log", f"http://127.0.0.1:{port}", time.perf_counter()
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=OFFLINE)  # fmt: skip
        try:
            while not healthy(url):
                if process.poll() is not None or time.perf_counter() - start > startup_s:
                    why = "exited" if process.poll() is not None else f"not up in {startup_s:.0f} s"
                    return {"ok": False, "error": f"{name} {why}", "command": " ".join(command),
                            "log_tail": log.read_text()[-1500:]}  # fmt: skip
                time.sleep(1)
            startup = time.perf_counter() - start
            try:
                got, rate = remote_rollouts(url, protocol, served, chat, batch, new_tokens)
            except Exception as exc:  # noqa: BLE001 - reported; the other servers still run
                return {"ok": False, "error": f"rollouts failed: {exc!r}"[:1500]}
            return {"ok": True, "startup_s": round(startup, 1), **compare(local, got),
                    "tokens_per_s": round(rate, 1), "command": " ".join(command)}  # fmt: skip
        finally:
            stop(process)


def healthy(url: str) -> bool:
    """Whether the server at ``url`` answers ``/v1/models`` with 200 (2 s timeout)."""
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{url}/v1/models", timeout=2.0).status_code == 200
    return False


def stop(process: subprocess.Popen) -> None:
    """Terminate ``process``'s session (the engine and its workers), then kill what is left."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)


def recipe(device: str, model_name: str, out: Path, timeout: float = 300.0) -> dict[str, Any]:
    """Time ``toolgym recipe`` at a small size; the held-out success it writes (summary.json).

    The trainer takes a device only if ``TrainConfig`` has a ``device`` field; without one it
    trains the CPU model ``models.load`` returns, so on CUDA this section fails, saying so.
    """
    takes_device = "device" in TrainConfig.model_fields
    if device == "cuda" and not takes_device:
        return {"ok": False, "error": "the trainer cannot train on CUDA: TrainConfig has no device "
                "field and Trainer trains models.load's CPU model as is (toolgym/train/loop.py); "
                "the recipe was not run"}  # fmt: skip
    sets = RECIPE_SETS[model_name] + ([f"sft.device={device}", f"rl.device={device}"]
                                      if takes_device else [])  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gpu_check_recipe_") as run_dir:  # checkpoints
        command = [sys.executable, "-m", "toolgym", "recipe", "--model", model_name, "--out",
                   run_dir, "--no-progress", *(a for s in sets for a in ("--set", s))]  # fmt: skip
        start = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"toolgym recipe ran past {timeout:.0f} s"}
        seconds = round(time.perf_counter() - start, 1)
        if done.returncode != 0:
            return {"ok": False, "returncode": done.returncode, "wall_s": seconds,
                    "stderr_tail": done.stderr[-1500:]}  # fmt: skip
        text = (Path(run_dir) / "summary.json").read_text()
    (out / "recipe_summary.json").write_text(text)
    summary = json.loads(text)
    return {"ok": True, "finished": True, "wall_s": seconds, "sets": sets,
            "held_out_success": {k: summary[k] for k in ("base", "sft", "rl")},
            "eval_tasks": summary["eval_tasks"],
            "stage_s": {k: round(v, 1) for k, v in summary["seconds"].items()},
            "printed": [line for line in done.stdout.splitlines() if "/" in line][-4:]}  # fmt: skip
