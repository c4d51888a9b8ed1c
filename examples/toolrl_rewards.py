"""Fine-grained vs coarse rewards (ToolRL), and a length bonus: GRPO on the same cold start.

ToolRL (Qian et al., 2025) scores each tool-calling turn as R_format + R_correct, where
R_correct in [-3, 3] gives partial credit for the right tool names, parameter names and values
(``toolgym.rewards.toolrl``), and reports that this fine-grained reward beats a coarse one that
pays only exact matches, and that a bonus for longer reasoning hurts. The same three GRPO runs
here, from one SFT cold start of SmolLM2-135M on toolgym/SearchLookup-v0; only the reward differs:

- fine: the ``toolrl`` component on every turn;
- coarse: ``toolrl_coarse``, the same cases with R_correct of calls binary (+3 exact, else -3);
- fine + length: ``toolrl`` plus ``length``, min(characters written outside the calls / 200, 1).

Every variant is judged by the same held-out task completion (greedy), which none of them trains
on directly. Plot: training success against rollouts (band over seeds). Run:
``python examples/toolrl_rewards.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from toolgym.train.experiments import GRPO_SETTINGS_HELP as HELP
from toolgym.train.experiments import (
    GRPOSettings,
    parse_dataclass,
    run_experiment,
    winner,
    write_figures,
)

VARIANTS: dict[str, dict[str, Any]] = {  # each replaces GRPOSettings' rewards
    "fine (toolrl)": {"rewards": {"toolrl": 1.0}},
    "coarse (toolrl_coarse)": {"rewards": {"toolrl_coarse": 1.0}},
    "fine + length bonus": {"rewards": {"toolrl": 1.0, "length": 1.0}},
}


@dataclass
class Args(GRPOSettings):
    """Plain GRPO (``GRPOSettings``), its reward replaced; each field is a flag."""

    out: str = "runs/examples/toolrl_rewards"


def main(args: Args) -> dict[str, Any]:
    """Start point, every variant on every seed; plot.png and figures.json in ``args.out``."""
    title = f"ToolRL rewards: {args.model} on {args.env}"
    figures = run_experiment(VARIANTS, args, title=title)
    figures["winner"] = winner(figures["variants"])  # by mean held-out success over seeds
    write_figures(args.out, args, figures)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(parse_dataclass(Args, HELP, (__doc__ or "").splitlines()[0], None)),
                     indent=2))  # fmt: skip
