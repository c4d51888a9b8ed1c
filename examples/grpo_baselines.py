"""GRPO's baseline three ways: mean/std-normalised, mean only, and Dr. GRPO, over 3 seeds.

The tutorial calls the choice of baseline "worth testing empirically"; this tests it. From one
SFT cold start of SmolLM2-135M on toolgym/SearchLookup-v0 (oracle episodes), GRPO trains with
each way of turning a group's rewards into advantages (``toolgym.train.advantages``):

- mean/std (GRPO, Shao et al. 2024): A = (r - mean_g) / (std_g + eps), each sequence's token
  mean, then the mean over sequences;
- mean only: A = r - mean_g, the same per-sequence reduction (only the std division removed);
- Dr. GRPO (Liu et al. 2025): A = r - mean_g and the token sum over a constant (the generation
  budget), so neither a group's spread nor an episode's length rescales its gradient.

Everything else is the recipe's first RL stage (plain GRPO). The plot is training success
against rollouts (each step's 16 episodes, the same tasks for every variant of a seed) with a band
over seeds; the table is held-out success (greedy) after training.
Run: ``python examples/grpo_baselines.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolgym.train.experiments import GRPO_SETTINGS_HELP as HELP
from toolgym.train.experiments import (
    GRPOSettings,
    parse_dataclass,
    run_experiment,
    winner,
    write_figures,
)

VARIANTS: dict[str, dict[str, Any]] = {
    "mean/std (GRPO)": {"grpo": {"scale_rewards": True}, "aggregation": "sequence_mean"},
    "mean only": {"grpo": {"scale_rewards": False}, "aggregation": "sequence_mean"},
    "Dr. GRPO": {"grpo": {"scale_rewards": False}, "aggregation": "constant"},
}


@dataclass
class Args(GRPOSettings):
    """Plain GRPO (``GRPOSettings``), on three seeds; each field is a flag."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    out: str = "runs/examples/grpo_baselines"


def main(args: Args) -> dict[str, Any]:
    """Start point, every variant on every seed; plot.png and figures.json in ``args.out``."""
    title = f"GRPO baselines: {args.model} on {args.env}"
    figures = run_experiment(VARIANTS, args, title=title)
    figures["winner"] = winner(figures["variants"])  # by mean held-out success over seeds
    write_figures(args.out, args, figures)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(parse_dataclass(Args, HELP, (__doc__ or "").splitlines()[0], None)),
                     indent=2))  # fmt: skip
