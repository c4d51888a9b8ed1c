"""bench/flat_groups.py runs end to end (tiny model) and finds the same gradient both ways."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_flat_groups_benchmark_times_both_updates_and_they_agree():
    command = [sys.executable, str(ROOT / "bench" / "flat_groups.py"), "--model", "tiny",
               "--env", "toolgym/SearchLookup-v0", "--groups", "2", "--group-size", "2"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    table = [
        line for line in result.stdout.splitlines() if line.startswith("| ") and "/2 |" in line
    ]
    assert [line.split(" | ")[0] for line in table] == ["| 0/2", "| 1/2", "| 2/2"]
    assert all(line.endswith("| True |") for line in table), result.stdout
