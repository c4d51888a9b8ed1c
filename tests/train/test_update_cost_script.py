"""bench/update_cost.py runs end to end (tiny model) and every setting finds the same gradient."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_update_cost_benchmark_times_every_setting_and_they_agree():
    command = [sys.executable, str(ROOT / "bench" / "update_cost.py"), "--model", "tiny",
               "--env", "toolgym/SearchLookup-v0", "--groups", "2", "--group-size", "2",
               "--micro-batch-sizes", "1", "3"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| ")]
    settings = [r[0].removeprefix("| ") for r in rows if r[0][2].isdigit()]
    assert settings == ["0/2", "1/2", "2/2", "1", "3", "1", "3"], result.stdout  # GRPO, then SFT
    assert all(r[-1] == "True |" for r in rows if r[0][2].isdigit()), result.stdout
