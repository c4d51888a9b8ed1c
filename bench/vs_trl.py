"""toolgym's GRPO step against TRL's ``GRPOTrainer``, side by side in one run.

Same model (SmolLM2-135M-Instruct by default), same single-turn task (the first turn of
``toolgym/SearchLookup-v0``: write the right search call; reward 1 when it matches the gold call,
scored by the toolgym env for both trainers), same batch (prompts x generations), max new tokens,
beta, learning rate and sampling temperature. Each configuration runs in a fresh subprocess, so its
peak resident memory (``ru_maxrss``) is its own; seconds per step is the median over the steps
after the first (warm-up). A worker killed by SIGKILL (the kernel's out-of-memory killer) is
reported as such and the other trainer's figures still print. TRL is a benchmark-only dependency: ``pip install -e '.[bench]'``.

    python bench/vs_trl.py                                # 4 x 8, 64 tokens, beta 0.04, 3 steps
    python bench/vs_trl.py --steps 2 --checkpointing off  # quicker
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENV_ID = "bench/SearchFirstCall-v0"


def register_task() -> None:
    """One assistant turn per episode, rewarded by step-wise exact match with the gold call."""
    import gymnasium as gym

    import toolgym
    from toolgym.content import content_roots

    spec = next(
        r / "envs" / "search_lookup.toml"
        for r in content_roots()
        if (r / "envs" / "search_lookup.toml").is_file()
    )
    if ENV_ID not in gym.registry:
        gym.register(
            ENV_ID,
            entry_point="toolgym.registry:make_env",
            kwargs={"spec": str(spec), "limits": {"max_turns": 1}, "rewards": {"step_match": 1.0}},
        )
    assert toolgym  # registers the bundled envs


def run_toolgym(args: argparse.Namespace) -> list[float]:
    from toolgym.train.config import TrainConfig
    from toolgym.train.loop import Trainer

    config = TrainConfig(
        env=ENV_ID, algo="grpo", model=args.model, steps=args.steps, out=Path(tempfile.mkdtemp()),
        tasks_per_step=args.prompts, group_size=args.generations, max_new_tokens=args.new_tokens,
        beta=args.beta, lr=args.lr, temperature=1.0, gradient_checkpointing=args.gc, seed=0,
    )  # fmt: skip
    trainer = Trainer(config, progress=False)
    return [trainer.train_step()["seconds"] for _ in range(args.steps)]


def run_trl(args: argparse.Namespace) -> list[float]:
    import gymnasium as gym
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from toolgym.llm import models

    model, tokenizer = models.load(args.model)
    env = gym.make(ENV_ID, split="train")
    tasks = env.unwrapped.tasks[: args.prompts * args.steps]

    rows = []
    for task in tasks:
        observation, _ = env.reset(options={"task_id": task.id})
        rows.append({"prompt": [dict(m) for m in observation], "task_id": task.id})

    def first_call_reward(completions: list[Any], task_id: list[str], **_: Any) -> list[float]:
        rewards = []
        for completion, tid in zip(completions, task_id, strict=True):
            env.reset(options={"task_id": tid})
            _, reward, *_ = env.step(completion[-1]["content"])
            rewards.append(float(reward))
        return rewards

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.start = 0.0

        def on_step_begin(self, *_: Any, **__: Any) -> None:
            self.start = time.perf_counter()

        def on_step_end(self, *_: Any, **__: Any) -> None:
            self.times.append(time.perf_counter() - self.start)

    timer = StepTimer()
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(), use_cpu=True, bf16=False, report_to="none",
        save_strategy="no", logging_steps=1, max_steps=args.steps, seed=0,
        per_device_train_batch_size=args.prompts * args.generations, num_generations=args.generations,
        max_completion_length=args.new_tokens, beta=args.beta, learning_rate=args.lr,
        temperature=1.0, gradient_checkpointing=args.gc, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=first_call_reward,
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[timer],
    )
    trainer.train()
    return timer.times


def worker(args: argparse.Namespace) -> None:
    register_task()
    times = run_toolgym(args) if args.worker == "toolgym" else run_trl(args)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(json.dumps({"step_seconds": times, "peak_rss_gib": peak_gib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--beta", type=float, default=0.04)
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--checkpointing", choices=["both", "on", "off"], default="both")
    parser.add_argument("--worker", choices=["toolgym", "trl"], help=argparse.SUPPRESS)
    parser.add_argument("--gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    settings = {"both": [False, True], "on": [True], "off": [False]}[args.checkpointing]
    shared = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
              if k in ("model", "prompts", "generations", "new_tokens", "beta", "lr", "steps")]  # fmt: skip
    print(f"GRPO step, {args.model}, {args.prompts} prompts x {args.generations} generations, "
          f"{args.new_tokens} new tokens, beta {args.beta}, {args.steps} steps each")  # fmt: skip
    print(f"{'checkpointing':<14} {'trainer':<8} {'s/step':>8} {'peak GiB':>9}")
    for gc in settings:
        result = {}
        for name in ("toolgym", "trl"):
            command = [sys.executable, __file__, "--worker", name, *shared] + (
                ["--gc"] if gc else []
            )
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode == -signal.SIGKILL:  # the kernel's OOM killer, as a rule
                print(
                    f"{'on' if gc else 'off':<14} {name:<8} {'killed (SIGKILL: out of memory?)':>18}"
                )
                continue
            if done.returncode != 0:
                sys.exit(f"{name} worker failed:\n{done.stderr[-3000:]}")
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            steps = measured["step_seconds"]
            seconds = statistics.median(steps[1:] if len(steps) > 1 else steps)
            result[name] = (seconds, measured["peak_rss_gib"])
            print(
                f"{'on' if gc else 'off':<14} {name:<8} {seconds:8.1f} {measured['peak_rss_gib']:9.2f}"
            )
        if len(result) == 2:
            (t_s, t_m), (r_s, r_m) = result["toolgym"], result["trl"]
            print(f"{'':<14} ratio    {t_s / r_s:8.2f}x {t_m / r_m:8.2f}x  (toolgym / TRL)")


if __name__ == "__main__":
    main()
