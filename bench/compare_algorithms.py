"""Every training algorithm from one starting checkpoint, with one rollout budget, side by side.

1. Starting point: an SFT cold start (oracle trajectories; ``--start-steps`` steps of
   ``--start-tasks`` tasks: the recipe's SFT stage), or an existing run with ``--init RUN_DIR``.
   Its held-out success is every curve's first point (0 rollouts).
2. Each algorithm trains from that checkpoint until it has used ``--rollouts`` env episodes
   (sampled rollouts; for ``sft``, oracle demonstrations), ``--per-step`` per step, and is
   evaluated greedily on the same ``--eval-tasks`` held-out tasks every ``--eval-every`` steps.
3. ``--seeds``: every algorithm runs once per seed (``OUT/<algo>/seed-<k>/``), all from the one
   starting checkpoint, so the spread is the training's own (sampling, task order).
4. ``comparison.md`` / ``comparison.json``: held-out success after the budget (mean +- std over
   seeds, each seed's, and the best seen), training wall time (rollouts + updates, evaluations
   excluded), generated tokens; and ``comparison.png``: held-out success against rollouts, one
   line per algorithm with a band of +- 1 std over seeds.

Same env, rewards (the recipe's RL stage's), model, sampling temperature, token budgets, frozen
layers and seed for all; what differs per algorithm (group size, learning rate; GRPO is the
recipe's Dr. GRPO) is in ``SETTINGS`` and in the table.

    python bench/compare_algorithms.py                                  # SmolLM2, CPU: ~1 hour
    python bench/compare_algorithms.py --model tiny --env toolgym/SearchLookup-v0 --rollouts 8 \\
        --per-step 4 --eval-tasks 4 --start-steps 1 --out /tmp/compare   # a smoke run: ~1 minute
    python bench/compare_algorithms.py --rollouts 256 --eval-every 4 --algos grpo rest dagger
    python bench/compare_algorithms.py --seeds 0 1 2                    # bands over 3 seeds
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from toolgym.train.recipe import RL_DEFAULTS, SFT_DEFAULTS

ALGOS = ["sft", "grpo", "rloo", "ppo", "rest", "online-em", "dagger", "dpo"]
GROUP = 4  # samples per task for the algorithms that compare or select within a task
SETTINGS: dict[str, dict[str, Any]] = {
    # imitation: one episode per task (an oracle demonstration, or the learner's own for DAgger)
    "sft": {"group_size": 1, "lr": 5e-5},
    "dagger": {"group_size": 1, "lr": 5e-5, "dagger": {"batch": 8}},
    # reinforcement learning from groups of GROUP samples per task
    "grpo": {  # the recipe's Dr. GRPO
        "group_size": GROUP,
        "lr": 3e-5,
        "aggregation": RL_DEFAULTS["aggregation"],
        "grpo": RL_DEFAULTS["grpo"],
    },
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
    parser.add_argument("--start-steps", type=int, default=SFT_DEFAULTS["steps"],
                        help="SFT cold-start steps (the recipe's)")  # fmt: skip
    parser.add_argument("--start-tasks", type=int, default=8, help="SFT cold-start tasks per step")
    parser.add_argument("--temperature", type=float, default=0.7, help="rollout sampling")
    parser.add_argument("--freeze-layers", type=int, default=20, help="0 for the tiny model")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=1400)
    parser.add_argument("--seed", type=int, default=0, help="seed of the starting checkpoint")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed")
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
    """The starting run directory (``--init``, else an SFT cold start) and its held-out success."""
    from toolgym.train import experiments

    return experiments.starting_point(shared_fields(args), args.init, args.out / "start",
                                      steps=args.start_steps, tasks_per_step=args.start_tasks,
                                      freeze_layers=args.freeze_layers)  # fmt: skip


def variant(args: argparse.Namespace, algo: str) -> dict[str, Any]:
    """One algorithm's TrainConfig fields over the shared ones (its ``SETTINGS``, the budget)."""
    settings = SETTINGS[algo]
    return settings | {
        "algo": algo, "steps": args.rollouts // args.per_step,
        "tasks_per_step": args.per_step // settings["group_size"], "eval_every": args.eval_every,
        "temperature": args.temperature, "freeze_layers": args.freeze_layers,
        "rewards": RL_DEFAULTS["rewards"],
    }  # fmt: skip


def row(algo: str, runs: list[Any]) -> dict[str, Any]:
    """An algorithm's row of the table: its runs over seeds, summed up."""
    success = [r.held_out for r in runs]
    return {
        "algo": algo,
        "success": statistics.fmean(success),
        "success_std": statistics.pstdev(success),
        "success_by_seed": success,
        "best": max(s for r in runs for _, s in [*r.evals, (0, r.held_out)]),
        "rollouts": runs[0].success[-1][0] if runs[0].success else runs[0].evals[-1][0],
        "train_seconds": statistics.fmean(r.seconds for r in runs),
        "generated_tokens": round(statistics.fmean(r.generated_tokens for r in runs)),
        "settings": SETTINGS[algo],
        "curves": [r.evals for r in runs],
    }


def markdown(rows: list[dict[str, Any]], start: float, args: argparse.Namespace) -> str:
    n, seeds = args.eval_tasks, len(args.seeds)
    lines = [
        f"{args.model} on {args.env}: held-out success on {n} test tasks (greedy) after "
        f"{args.rollouts} env episodes, {args.per_step} per step, from one checkpoint "
        f"(start: {round(start * n)}/{n} = {start:.1%}); {seeds} seed(s): {args.seeds}.",
        "",
        "| algorithm | held-out success (mean +- std) | by seed | best seen | train time (s) | "
        "generated tokens | settings |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        by_seed = ", ".join(f"{round(s * n)}/{n}" for s in r["success_by_seed"])
        lines.append(
            f"| {r['algo']} | {r['success']:.1%} +- {r['success_std']:.1%} | {by_seed} | "
            f"{r['best']:.1%} | {r['train_seconds']:.0f} | {r['generated_tokens']} | {settings} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], start: float, path: Path, title: str) -> None:
    from toolgym.train.plot import plot_bands

    curves = {r["algo"]: [[(0, start), *curve] for curve in r["curves"]] for r in rows}
    plot_bands(curves, path, xlabel="env episodes (rollouts; oracle demonstrations for sft)",
               ylabel="held-out success (greedy)", title=title)  # fmt: skip


def main() -> None:
    from toolgym.train.experiments import run_variant, slug

    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    start_dir, start = starting_point(args)
    print(f"start: {start_dir} held-out success {start:.1%}", flush=True)
    rows = []
    for algo in args.algos:
        runs = []
        for seed in args.seeds:
            fields = shared_fields(args) | variant(args, algo) | {
                "init": start_dir, "out": args.out / slug(algo) / f"seed-{seed}"}  # fmt: skip
            runs.append(run_variant(algo, seed, fields))
            print(f"{algo} seed {seed}: {runs[-1].held_out:.1%}, {runs[-1].seconds:.0f} s",
                  flush=True)  # fmt: skip
        rows.append(row(algo, runs))
        table = markdown(rows, start, args)
        (args.out / "comparison.md").write_text(table)  # rewritten after each algorithm
        (args.out / "comparison.json").write_text(
            json.dumps({"start": start, "seeds": args.seeds, "rows": rows}, indent=2) + "\n"
        )
        plot(rows, start, args.out / "comparison.png", f"{args.model} on {args.env}")
    print(table)


if __name__ == "__main__":
    main()
