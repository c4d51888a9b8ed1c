"""Data-parallel scaling on CPU: training steps/s of one config with 1 vs 2 learners (gloo).

Usage: python bench/ddp_scaling.py [--algo grpo] [--steps 6] [--tasks-per-step 8] [--ranks 1 2]

Each run is ``python -m torch.distributed.run --nproc_per_node N -m toolgym train`` on the tiny
model with the same global batch (``tasks_per_step`` x ``group_size`` episodes a step), one
thread per learner. Steps/s is taken from the logged per-step ``seconds`` after the first step
(warm-up), so start-up and the final evaluation are left out; ``wall`` is the whole command.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    """A free loopback port for the rendezvous."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(ranks: int, args: argparse.Namespace, out: Path) -> dict[str, float]:
    """Train with ``ranks`` learners; their steps/s (median step time) and wall seconds."""
    settings = {"tasks_per_step": args.tasks_per_step, "group_size": args.group_size,
                "max_new_tokens": args.max_new_tokens, "eval_tasks": 1, "eval_every": 0,
                "checkpoint_every": 1000, "stop_after_no_signal": 0}  # fmt: skip
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               "-m", "toolgym", "train", "--env", args.env, "--model", "tiny", "--algo", args.algo,
               "--steps", str(args.steps), "--out", str(out), "--no-progress"]  # fmt: skip
    for key, value in settings.items():
        command += ["--set", f"{key}={value}"]
    env = os.environ | {"OMP_NUM_THREADS": str(args.threads)}
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    seconds = [r["seconds"] for r in rows if "seconds" in r][1:]  # the first step warms up
    return {"steps_per_s": 1.0 / statistics.median(seconds), "wall_s": wall}


def main() -> None:
    """Run every world size and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="toolgym/Search-v0")
    parser.add_argument("--algo", default="grpo", choices=["grpo", "rloo", "reinforce", "sft"])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--tasks-per-step", type=int, default=8)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="OMP threads per learner")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for ranks in args.ranks:
            results[ranks] = run(ranks, args, Path(tmp) / f"ranks-{ranks}")
    base = results[args.ranks[0]]["steps_per_s"]
    print(f"{args.algo} on {args.env}, tiny model, {args.tasks_per_step} tasks x "
          f"{args.group_size} episodes a step, {args.threads} thread(s) per learner")  # fmt: skip
    print(f"{'ranks':>5} {'steps/s':>9} {'speed-up':>9} {'wall s':>8}")
    for ranks, figures in results.items():
        speedup = figures["steps_per_s"] / base
        print(
            f"{ranks:>5} {figures['steps_per_s']:>9.3f} {speedup:>8.2f}x {figures['wall_s']:>8.1f}"
        )


if __name__ == "__main__":
    main()
