"""Sweep the recipe's RL stage against more SFT at an equal wall-clock budget, over seeds.

Every setting trains from one SFT cold start (the recipe's first: 16 oracle episodes) of
SmolLM2-135M on toolgym/SearchLookup-v0, once per seed, and is scored greedily on the same held-out
tasks. The baseline row spends the RL stage's wall time on more SFT instead (20 s a step of 8
demonstrations on one core, so 30 steps match a 4-step GRPO run's ~600 s). A setting wins when it
beats that baseline on every seed. Stage-two settings start from the baseline's checkpoint of the
same seed (RL once SFT has done its part) and are compared with as much SFT again.

Prints a table per stage (held-out success by seed, mean, whether each seed beat the baseline's
same seed, training seconds, how many held-out episodes ran out of turns); writes
``OUT/figures.json`` and ``OUT/plot.png`` (training success per step, band over seeds). Finished
runs are read back, so two processes with disjoint ``--only`` lists can share the work:
``python bench/recipe_sweep.py --seeds 0 1 2 --only "sft only (equal time)"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolgym.train.experiments import (
    GRPO_SETTINGS_HELP,
    GRPOSettings,
    curves,
    held_out_by_variant,
    parse_dataclass,
    run_all,
    slug,
    starting_point,
    summary,
    write_figures,
)
from toolgym.train.plot import plot_bands

TURN_COST = {"completion": 1.0, "step_match": 0.25, "num_turns": -0.1}
BASELINE = "sft only (equal time)"
SETTINGS: dict[str, dict[str, Any]] = {  # fields over GRPOSettings' plain GRPO
    BASELINE: {"algo": "sft", "group_size": 1, "tasks_per_step": 8, "lr": 5e-5},  # + baseline_steps
    "grpo": {},
    "grpo + turn cost": {"rewards": TURN_COST},
    "dr grpo + turn cost": {
        "rewards": TURN_COST,
        "aggregation": "constant",
        "grpo": {"scale_rewards": False},
    },  # fmt: skip
}
# Stage two: trained from the baseline's checkpoint of the same seed (RL once SFT has done its
# part), against spending that time on still more SFT. Their seed is the baseline's plus
# STAGE_TWO_SEED, so they draw a fresh task order instead of the one stage one already trained on.
STAGE_TWO_SEED = 1000
STAGE_TWO_BASELINE = "sft, then more sft (2x time)"
STAGE_TWO: dict[str, dict[str, Any]] = {
    STAGE_TWO_BASELINE: SETTINGS[BASELINE],  # + baseline_steps
    "sft, then grpo + turn cost": SETTINGS["grpo + turn cost"],
    "sft, then dr grpo + turn cost": SETTINGS["dr grpo + turn cost"],
}


@dataclass
class Args(GRPOSettings):
    """Plain GRPO (``GRPOSettings``), the seeds, and which settings to run."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    only: list[str] = field(default_factory=list)
    baseline_steps: int = 30
    out: str = "runs/bench/recipe_sweep"


HELP = GRPO_SETTINGS_HELP | {
    "only": f"run only these settings (of: {', '.join(SETTINGS | STAGE_TWO)})",
    "baseline_steps": "SFT steps of the baseline (8 demonstrations each): the RL stage's wall time",
}


def out_of_turns(run_dir: Path) -> int:
    """Held-out episodes of a finished run that ended at max_turns (the answer never came)."""
    samples = sorted((run_dir / "samples").glob("step-*.jsonl"))
    rows = [json.loads(line) for line in samples[-1].read_text().splitlines()] if samples else []
    return sum(row["end_reason"] == "max_turns" for row in rows)


def table(
    rows: dict[str, dict[str, Any]],
    out: Path,
    start: float,
    baseline: str = BASELINE,
    start_name: str = "SFT cold start",
) -> str:
    """The sweep as a markdown table; ``beats`` compares each seed with ``baseline``'s."""
    base = rows.get(baseline, {}).get("held_out_by_seed")
    lines = [f"start ({start_name}): {start:.1%} held-out",
             "| setting | held-out by seed | mean | beats SFT-only on seed | train s | out of turns |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, row in rows.items():
        by_seed = row["held_out_by_seed"]
        beats = (
            "-"
            if base is None or name == baseline
            else " ".join(
                "yes" if mine > theirs else "no"
                for mine, theirs in zip(by_seed, base, strict=False)
            )
        )
        turns = [out_of_turns(out / slug(name) / f"seed-{s}") for s in row["seed_ids"]]
        lines.append(f"| {name} | {' / '.join(f'{v:.1%}' for v in by_seed)} | "
                     f"{row['held_out_mean']:.1%} | {beats} | {row['train_seconds_mean']:.0f} | "
                     f"{' / '.join(map(str, turns))} |")  # fmt: skip
    return "\n".join(lines)


def main(args: Args) -> dict[str, Any]:
    """Run (or read back) every chosen setting on every seed; print and write the tables."""
    unknown = set(args.only) - set(SETTINGS) - set(STAGE_TWO)
    if unknown:
        raise SystemExit(
            f"--only: unknown settings {sorted(unknown)}; choose from {list(SETTINGS | STAGE_TWO)}"
        )
    more_sft = {"steps": args.baseline_steps}
    stage_two = {k: v | more_sft if k == STAGE_TWO_BASELINE else v for k, v in STAGE_TWO.items()
                 if not args.only or k in args.only}  # fmt: skip
    chosen = {k: v | more_sft if k == BASELINE else v for k, v in SETTINGS.items()
              if not args.only or k in args.only or (k == BASELINE and stage_two)}  # fmt: skip
    out, shared = Path(args.out), args.shared_fields()
    start, start_success = starting_point(shared, Path(args.init) if args.init else None,
                                          out / "start")  # fmt: skip
    results = run_all(chosen, args.seeds, shared | args.rl_fields(), start, out)
    second = [result for seed in args.seeds
              for result in run_all(stage_two, [seed + STAGE_TWO_SEED], shared | args.rl_fields(),
                                    out / slug(BASELINE) / f"seed-{seed}", out)]  # fmt: skip
    rows, rows_two = summary(results), summary(second)
    plot_bands({k: v for k, v in curves(results + second).items() if v[0]}, out / "plot.png",
               xlabel="env episodes (rollouts)", ylabel="success: training rollouts (sampled, line)",
               title=f"Recipe sweep: {args.model} on {args.env}",
               baseline=("SFT start, held-out (greedy)", start_success),
               finals=held_out_by_variant(results + second),
               finals_label="held-out after training (greedy, mean +- std)")  # fmt: skip
    figures = {"start_held_out": start_success, "settings": chosen | stage_two,
               "variants": rows | rows_two}  # fmt: skip
    write_figures(out, args, figures)
    print(table(rows, out, start_success))
    if rows_two:
        after_sft = rows[BASELINE]["held_out_mean"]
        print(table(rows_two, out, after_sft, STAGE_TWO_BASELINE, f"{BASELINE}, mean"))
    return figures


if __name__ == "__main__":
    main(parse_dataclass(Args, HELP, (__doc__ or "").splitlines()[0], None))
