"""An eval run directory as read back: its summary, its episode rows, and the rows by task.

Rows are read defensively (reports must open whatever a run left behind): a line that is not a
JSON object is counted and skipped, and a run without ``summary.json`` (one that died) gets the few
numbers its rows give.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolgym.eval.metrics import FAILURE_KINDS, UNSCORED_FAILURES


@dataclass
class Run:
    """An eval run directory as read: its summary, its episode rows and how many lines were bad."""

    path: Path
    summary: dict[str, Any]
    rows: list[dict[str, Any]]
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


def load_run(run_dir: Path | str) -> Run:
    """Read ``results.jsonl`` and ``summary.json`` of a run directory.

    A missing ``summary.json`` (a run that died) is replaced by the few numbers the rows give;
    lines of ``results.jsonl`` that are not JSON objects are skipped and counted.

    Raises:
        FileNotFoundError: ``run_dir`` has no ``results.jsonl``.
    """
    path = Path(run_dir)
    results = path / "results.jsonl"
    if not results.is_file():
        raise FileNotFoundError(f"{results} not found: not a toolgym eval run directory")
    rows: list[dict[str, Any]] = []
    skipped = 0
    with results.open(encoding="utf-8", errors="replace") as file:
        for line in file:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                skipped += 1
                continue
            if isinstance(row, dict):
                rows.append(row)
            else:
                skipped += 1
    notes: list[str] = []
    summary: dict[str, Any] = {}
    try:
        loaded = json.loads((path / "summary.json").read_text(encoding="utf-8", errors="replace"))
        if isinstance(loaded, dict):
            summary = loaded
        else:
            notes.append("summary.json is not a JSON object; headline numbers come from the rows.")
    except FileNotFoundError:
        notes.append(
            "summary.json is missing (did the run finish?); headline numbers come from the rows."
        )
    except ValueError:
        notes.append("summary.json is not valid JSON; headline numbers come from the rows.")
    if not summary:
        summary = summary_from_rows(rows)
    if skipped:
        notes.append(f"{skipped} line(s) of results.jsonl could not be read and were skipped.")
    return Run(path, summary, rows, skipped, notes)


def summary_from_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The headline numbers that rows alone give (for a run without ``summary.json``)."""
    scored = [r for r in rows if r.get("failure") not in UNSCORED_FAILURES]
    tokens = [t for r in scored if (t := num(r.get("tokens"))) is not None]
    turns = [t for r in scored if (t := num(r.get("turns"))) is not None]
    seconds = {
        part: sum(num(as_mapping(r.get("seconds")).get(part)) or 0.0 for r in rows)
        for part in ("agent", "tool", "user")
    }
    return {
        "tasks": len({str(r.get("task_id")) for r in rows}),
        "episodes": len(rows),
        "success_rate": mean_or_none([float(bool(r.get("success"))) for r in scored]),
        "turns": mean_or_none(turns),
        "tokens": mean_or_none(tokens),
        "seconds": seconds | {"total": sum(seconds.values())},
        "failures": {kind: sum(r.get("failure") == kind for r in rows) for kind in FAILURE_KINDS},
        "user_errors": sum(r.get("failure") == "user_backend" for r in rows),
        "env_errors": sum(r.get("failure") == "env_error" for r in rows),
    }


@dataclass
class TaskStats:
    """One task's episodes in a run."""

    task_id: str
    episodes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (index, row)

    @property
    def samples(self) -> int:
        """Episodes of the task."""
        return len(self.episodes)

    @property
    def successes(self) -> int:
        """Successful episodes."""
        return sum(bool(row.get("success")) for _, row in self.episodes)

    @property
    def mean_reward(self) -> float | None:
        """Mean episode reward (None when no row has a number)."""
        return mean_or_none(
            [r for _, row in self.episodes if (r := num(row.get("reward"))) is not None]
        )

    def counts(self, key: str) -> Counter[str]:
        """How often each value of ``key`` (end_reason, failure) occurs; nulls left out."""
        return Counter(str(row[key]) for _, row in self.episodes if row.get(key) is not None)


def task_stats(rows: Sequence[dict[str, Any]]) -> list[TaskStats]:
    """The rows grouped by task, in order of first appearance (indices are row positions)."""
    tasks: dict[str, TaskStats] = {}
    for index, row in enumerate(rows):
        task_id = str(row.get("task_id", "?"))
        tasks.setdefault(task_id, TaskStats(task_id)).episodes.append((index, row))
    return list(tasks.values())


def num(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools and non-numbers are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (a field of an odd row)."""
    return value if isinstance(value, Mapping) else {}


def mean_or_none(values: Sequence[float]) -> float | None:
    """The mean, or None for no values."""
    return sum(values) / len(values) if values else None
