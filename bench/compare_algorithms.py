"""Every training algorithm from one starting checkpoint, with one rollout budget, side by side.

1. Starting point: the recipe's SFT cold start (oracle trajectories; ``--start-steps`` steps of
   ``--start-tasks`` tasks), or an existing run with ``--init RUN_DIR``. Its held-out success is
   every curve's first point (0 rollouts).
2. Each algorithm trains from that checkpoint until it has used ``--rollouts`` env episodes
   (sampled rollouts; for ``sft``, oracle demonstrations), ``--per-step`` per step, and is
   evaluated greedily on the same ``--eval-tasks`` held-out tasks every ``--eval-every`` steps.
3. ``comparison.md`` / ``comparison.json``: held-out success after the budget (and the best seen),
   training wall time (rollouts + updates, evaluations excluded), generated tokens; and
   ``comparison.png``: success against rollouts, one line per algorithm.

Same env, rewards, model, sampling temperature, token budgets, frozen layers and seed for all;
what differs per algorithm (group size, learning rate) is in ``SETTINGS`` and in the table.

    python bench/compare_algorithms.py                                  # SmolLM2, CPU: ~1 hour
    python bench/compare_algorithms.py --model tiny --env toolgym/SearchLookup-v0 --rollouts 8 \\
        --per-step 4 --eval-tasks 4 --start-steps 1 --out /tmp/compare   # a smoke run: ~1 minute
    python bench/compare_algorithms.py --rollouts 256 --eval-every 4 --algos grpo rest dagger
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ALGOS = ["sft", "grpo", "rloo", "ppo", "rest", "online-em", "dagger", "dpo"]
GROUP = 4  # samples per task for the algorithms that compare or select within a task
SETTINGS: dict[str, dict[str, Any]] = {
    # imitation: one episode per task (an oracle demonstration, or the learner's own for DAgger)
    "sft": {"group_size": 1, "lr": 5e-5},
    "dagger": {"group_size": 1, "lr": 5e-5, "dagger": {"batch": 8}},
    # reinforcement learning from groups of GROUP samples per task
    "grpo": {"group_size": GROUP, "lr": 3e-5},
    "rloo": {"group_size": GROUP, "lr": 3e-5},
    "ppo": {"group_size": GROUP, "lr": 3e-5},
    "rest": {"group_size": GROUP, "lr": 3e-5},  # every success, weighted r / sum r
    "dpo": {"group_size": GROUP, "lr": 3e-5, "dpo": {"beta": 0.1}},
    # plain parameter steps eta * G/M (not Adam): the step's norm is at most eta * max_grad_norm
    "online-em": {"group_size": GROUP, "lr": 0.1, "online_em": {"baseline": True}},
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m", help="smollm2-135m or tiny")
    parser.add_argument("--env", default="toolgym/SearchLookup-v0")
    parser.add_argument("--algos", nargs="+", default=ALGOS, choices=ALGOS)
    parser.add_argument("--rollouts", type=int, default=32, help="env episodes per algorithm")
    parser.add_argument("--per-step", type=int, default=16, help="env episodes per step")
    parser.add_argument("--eval-every", type=int, default=1, help="evaluate every N steps")
    parser.add_argument("--eval-tasks", type=int, default=64, help="held-out tasks per evaluation")
    parser.add_argument("--init", type=Path, help="start from this run (else an SFT cold start)")
    parser.add_argument("--start-steps", type=int, default=2, help="SFT cold-start steps")
    parser.add_argument("--start-tasks", type=int, default=8, help="SFT cold-start tasks per step")
    parser.add_argument("--temperature", type=float, default=0.7, help="rollout sampling")
    parser.add_argument("--freeze-layers", type=int, default=20, help="0 for the tiny model")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=1400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    args = parser.parse_args()
    if args.per_step % GROUP or args.rollouts % args.per_step:
        parser.error(f"--per-step must be a multiple of {GROUP} and divide --rollouts")
    return args


def shared_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "env": args.env,
        "model": args.model,
        "seed": args.seed,
        "eval_tasks": args.eval_tasks,
        "max_new_tokens": args.max_new_tokens,
        "max_tokens": args.max_tokens,
        "checkpoint_every": 10_000,  # the final step is saved anyway
    }


def starting_point(args: argparse.Namespace) -> tuple[Path, float]:
    """The starting run directory and its held-out success."""
    from toolgym.train.config import TrainConfig
    from toolgym.train.loop import Trainer

    if args.init is not None:
        config = TrainConfig(**shared_fields(args), init=args.init, out=args.out / "start-eval")
        return args.init, Trainer(config).evaluate()["eval_success"]
    config = TrainConfig(**shared_fields(args), algo="sft", group_size=1, lr=5e-5,
                         steps=args.start_steps, tasks_per_step=args.start_tasks,
                         out=args.out / "start")  # fmt: skip
    return config.out, Trainer(config).run()["eval_success"]


def train(args: argparse.Namespace, algo: str, start: Path) -> dict[str, Any]:
    """One algorithm's run; returns its row of the table and its curve."""
    from toolgym.train.config import TrainConfig
    from toolgym.train.loop import Trainer

    settings = SETTINGS[algo]
    steps = args.rollouts // args.per_step
    fields = shared_fields(args) | settings | {
        "algo": algo, "init": start, "out": args.out / algo, "steps": steps,
        "tasks_per_step": args.per_step // settings["group_size"], "eval_every": args.eval_every,
        "temperature": args.temperature, "freeze_layers": args.freeze_layers,
        "rewards": {"completion": 1.0, "step_match": 0.25},
    }  # fmt: skip
    began = time.perf_counter()
    Trainer(TrainConfig(**fields)).run()
    wall = time.perf_counter() - began
    rows = [
        json.loads(line) for line in (args.out / algo / "metrics.jsonl").read_text().splitlines()
    ]
    steps_logged = [r for r in rows if not r.get("final")]
    curve = [(r["episodes"], r["eval_success"]) for r in steps_logged if "eval_success" in r]
    final = next(r for r in rows if r.get("final"))
    return {
        "algo": algo,
        "success": final["eval_success"],
        "best": max([s for _, s in curve] + [final["eval_success"]]),
        "rollouts": steps_logged[-1]["episodes"],
        "train_seconds": sum(r["seconds"] for r in steps_logged),
        "wall_seconds": wall,
        "generated_tokens": sum(r.get("generated_tokens", 0) for r in steps_logged),
        "settings": settings,
        "curve": curve,
    }


def markdown(rows: list[dict[str, Any]], start: float, args: argparse.Namespace) -> str:
    n = args.eval_tasks
    lines = [
        f"{args.model} on {args.env}: held-out success on {n} test tasks (greedy) after "
        f"{args.rollouts} env episodes, {args.per_step} per step, from one checkpoint "
        f"(start: {round(start * n)}/{n} = {start:.1%}).",
        "",
        "| algorithm | held-out success | best seen | train time (s) | generated tokens | settings |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        settings = ", ".join(f"{k}={v}" for k, v in row["settings"].items())
        lines.append(
            f"| {row['algo']} | {round(row['success'] * n)}/{n} ({row['success']:.1%}) | "
            f"{row['best']:.1%} | {row['train_seconds']:.0f} | {row['generated_tokens']} | "
            f"{settings} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], start: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for row in rows:
        points = [(0, start), *row["curve"]]
        axis.plot(*zip(*points, strict=True), "o-", label=row["algo"])
    axis.set_xlabel("env episodes (rollouts; oracle demonstrations for sft)")
    axis.set_ylabel("held-out success (greedy)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(ncol=2, fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    start_dir, start = starting_point(args)
    print(f"start: {start_dir} held-out success {start:.1%}", flush=True)
    rows = []
    for algo in args.algos:
        rows.append(train(args, algo, start_dir))
        print(f"{algo}: {rows[-1]['success']:.1%} after {rows[-1]['rollouts']} episodes, "
              f"{rows[-1]['train_seconds']:.0f} s", flush=True)  # fmt: skip
        table = markdown(rows, start, args)
        (args.out / "comparison.md").write_text(table)  # rewritten after each algorithm
        (args.out / "comparison.json").write_text(
            json.dumps({"start": start, "rows": rows}, indent=2) + "\n"
        )
        plot(rows, start, args.out / "comparison.png", f"{args.model} on {args.env}")
    print(table)


if __name__ == "__main__":
    main()
