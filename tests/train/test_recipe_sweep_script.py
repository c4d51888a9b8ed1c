"""bench/recipe_sweep.py: every setting from one start on every seed, and its table (tiny model)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sweep() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "recipe_sweep", ROOT / "bench" / "recipe_sweep.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_tiny_sweep_runs_each_setting_per_seed_from_one_start(sweep: ModuleType, tmp_path) -> None:
    args = sweep.Args(model="tiny", freeze_layers=0, steps=1, eval_tasks=2, max_new_tokens=6,
                      seeds=[0, 1], baseline_steps=1, out=str(tmp_path),
                      only=[sweep.BASELINE, "dr grpo + turn cost", sweep.STAGE_TWO_BASELINE,
                            "sft, then dr grpo + turn cost"])  # fmt: skip
    figures = sweep.main(args)
    stage_one, stage_two = [sweep.BASELINE, "dr grpo + turn cost"], [
        sweep.STAGE_TWO_BASELINE, "sft, then dr grpo + turn cost"]  # fmt: skip
    assert list(figures["variants"]) == stage_one + stage_two
    for name in stage_two:  # a fresh task order, from the baseline's checkpoint of each seed
        assert figures["variants"][name]["seed_ids"] == [1000, 1001], name
        for seed in (0, 1):
            config = json.loads(
                (tmp_path / sweep.slug(name) / f"seed-{seed + 1000}" / "config.json").read_text()
            )
            assert config["init"] == str(tmp_path / sweep.slug(sweep.BASELINE) / f"seed-{seed}")
    for name in stage_one:
        row = figures["variants"][name]
        assert row["seed_ids"] == [0, 1] and len(row["held_out_by_seed"]) == 2, name
        for seed in (0, 1):
            config = json.loads(
                (tmp_path / sweep.slug(name) / f"seed-{seed}" / "config.json").read_text()
            )
            assert config["init"] == str(tmp_path / "start") and config["seed"] == seed
    baseline = json.loads(
        (tmp_path / sweep.slug(sweep.BASELINE) / "seed-0" / "config.json").read_text()
    )
    assert baseline["algo"] == "sft" and baseline["steps"] == 1
    rl = json.loads((tmp_path / "dr-grpo---turn-cost" / "seed-1" / "config.json").read_text())
    assert rl["rewards"] == sweep.TURN_COST and rl["aggregation"] == "constant"
    assert rl["grpo"]["scale_rewards"] is False and rl["algo"] == "grpo"
    assert (tmp_path / "plot.png").stat().st_size > 1000
    assert json.loads((tmp_path / "figures.json").read_text())["figures"] == figures
    two = json.loads((tmp_path / sweep.slug(sweep.STAGE_TWO_BASELINE) / "seed-1001" / "config.json"
                      ).read_text())  # fmt: skip
    assert two["algo"] == "sft" and two["steps"] == 1 and two["seed"] == 1001
    two_rl = json.loads((tmp_path / sweep.slug("sft, then dr grpo + turn cost") / "seed-1000" /
                         "config.json").read_text())  # fmt: skip
    assert two_rl["algo"] == "grpo" and two_rl["aggregation"] == "constant"
    with pytest.raises(SystemExit, match="unknown settings"):
        sweep.main(sweep.Args(model="tiny", only=["no such setting"], out=str(tmp_path)))


def test_table_compares_each_seed_with_the_baselines_same_seed(sweep: ModuleType, tmp_path) -> None:
    run = tmp_path / sweep.slug("rl") / "seed-0" / "samples"
    run.mkdir(parents=True)
    ends = ["answered", "max_turns", "max_turns", "answered"]
    (run / "step-000004.jsonl").write_text(
        "".join(json.dumps({"end_reason": e}) + "\n" for e in ends)
    )
    row = {"held_out_mean": 0.5, "train_seconds_mean": 12.0}
    rows = {
        sweep.BASELINE: row | {"held_out_by_seed": [0.5, 0.25], "seed_ids": [0, 1]},
        "rl": row | {"held_out_by_seed": [0.75, 0.25], "seed_ids": [0, 1]},
    }
    lines = sweep.table(rows, tmp_path, start=0.375).splitlines()
    assert lines[0] == "start (SFT cold start): 37.5% held-out"
    assert lines[3].startswith(f"| {sweep.BASELINE} | 50.0% / 25.0% | 50.0% | - | 12 |")
    assert lines[4] == "| rl | 75.0% / 25.0% | 50.0% | yes no | 12 | 2 / 0 |"  # a tie is no win
    against_rl = sweep.table(rows, tmp_path, 0.5, baseline="rl", start_name="after SFT")
    assert against_rl.splitlines()[0] == "start (after SFT): 50.0% held-out"
    assert " | 50.0% | no no | 12 |" in against_rl.splitlines()[3]  # the SFT row, against rl's
