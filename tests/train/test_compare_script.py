"""bench/compare_algorithms.py runs end to end (tiny model, tiny budget) and writes its table and plot."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_comparison_script_trains_every_algorithm_from_one_start(tmp_path):
    out = tmp_path / "compare"
    command = [sys.executable, str(ROOT / "bench" / "compare_algorithms.py"), "--model", "tiny",
               "--rollouts", "8", "--per-step", "4", "--eval-tasks", "2", "--start-steps", "1",
               "--freeze-layers", "0", "--max-new-tokens", "8", "--seeds", "0", "1",
               "--out", str(out)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "comparison.json").read_text())
    algos = [row["algo"] for row in summary["rows"]]
    assert algos == ["sft", "grpo", "rloo", "ppo", "rest", "online-em", "dagger", "dpo"]
    assert summary["seeds"] == [0, 1]
    for row in summary["rows"]:
        assert row["rollouts"] == 8, row  # the same budget for every algorithm
        assert len(row["curves"]) == len(row["success_by_seed"]) == 2  # one run per seed
        for curve in row["curves"]:
            assert [episodes for episodes, _ in curve] == [4, 8]  # evaluated after each step
        by_seed = row["success_by_seed"]
        assert (
            row["success"] == sum(by_seed) / 2
            and row["success_std"] == abs(by_seed[0] - by_seed[1]) / 2
        )
        assert row["generated_tokens"] > 0 or row["algo"] == "sft"  # sft reads oracle episodes
        for seed in (0, 1):
            config = json.loads((out / row["algo"] / f"seed-{seed}" / "config.json").read_text())
            assert Path(config["init"]) == out / "start"  # one starting checkpoint for all
            assert config["seed"] == seed
    table = (out / "comparison.md").read_text()
    assert table.count("\n| ") == 9  # the header and one row per algorithm
    assert all(f"| {algo} | " in table for algo in algos)
    assert (out / "comparison.png").stat().st_size > 10_000
