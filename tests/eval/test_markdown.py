"""Markdown summary of a run and `toolgym compare` of two runs: exact numbers and differences."""

import json
from pathlib import Path

import pytest

from toolgym.eval.markdown import compare_runs, markdown_summary, task_successes
from toolgym.eval.results import load_run


def row(task_id: str, sample: int, success: bool, failure: str | None = None) -> dict:
    return {
        "task_id": task_id,
        "sample": sample,
        "success": success,
        "reward": float(success),
        "components": {"completion": float(success)},
        "steps": [{"reward": float(success), "components": {"format": 1.0}}],
        "turns": 2,
        "tokens": None,
        "end_reason": "answered",
        "failure": failure if failure else (None if success else "wrong_answer"),
        "seconds": {"agent": 0.5, "tool": 0.01, "user": 0.0},
        "messages": [],
        "mask_view": None,
    }


def episodes(task_id: str, *outcomes: bool) -> list[dict]:
    return [row(task_id, i, ok) for i, ok in enumerate(outcomes)]


SUMMARY_A = {
    "env": "toolgym/Calendar-v0",
    "agent": "oracle",
    "model": None,
    "split": "test",
    "k": 2,
    "tasks": 5,
    "episodes": 9,
    "success_rate": 0.5556,
    "pass_at_k": {"1": 0.5, "2": 0.75},
    "pass_hat_k": {"1": 0.5, "2": 0.25},
    "components": {"completion": 0.5556, "format": 1.0},
    "turns": 2.0,
    "tokens": 150.25,
    "seconds": {"agent": 4.5, "tool": 0.09, "user": 0.0, "total": 4.59},
    "failures": {
        "format": 0,
        "invalid_arguments": 1,
        "limits": 0,
        "user_backend": 0,
        "wrong_answer": 3,
    },
    "user_errors": 0,
    "created": "2026-11-30T13:10:00Z",
    "command": "toolgym eval --env toolgym/Calendar-v0 --k 2",
}
SUMMARY_B = SUMMARY_A | {
    "agent": "hf",
    "model": "smollm2-135m",
    "episodes": 11,
    "success_rate": 0.6,
    "pass_at_k": {"1": 0.6, "2": 0.8, "4": 0.9},  # a k only B has
    "pass_hat_k": {"1": 0.6, "2": 0.4},
    "components": {"completion": 0.6, "toolrl": -0.5},  # format only in A, toolrl only in B
    "turns": 2.5,
    "tokens": None,
    "seconds": {"agent": 130.0, "tool": 0.1, "user": 2.0, "total": 132.1},
    "failures": {
        "format": 2,
        "invalid_arguments": 1,
        "limits": 0,
        "user_backend": 1,
        "wrong_answer": 1,
    },
    "user_errors": 1,
}


def write_run(path: Path, rows: list[dict], summary: dict | None) -> Path:
    path.mkdir(parents=True)
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary))
    return path


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    a = [
        *episodes("t1", True, True),
        *episodes("t2", True, False),
        *episodes("t3", False, False),
        *episodes("t4", True, False),
        *episodes("only-a", True),
    ]
    b = [
        *episodes("t1", True, False),
        row("t1", 2, False, failure="user_backend"),  # left out: t1 stays 1/2
        *episodes("t2", False, True),  # same rate as in A: no difference
        *episodes("t3", True, True),
        *episodes("t4", True, True),
        *episodes("only-b", False, False),
        *episodes("only-b2", True),
    ]
    return write_run(tmp_path / "a", a, SUMMARY_A), write_run(tmp_path / "b", b, SUMMARY_B)


def test_markdown_summary(runs: tuple[Path, Path]) -> None:
    assert markdown_summary(runs[0]) == (
        """\
## toolgym eval: toolgym/Calendar-v0 / oracle / test

5 tasks, k=2, 9 episodes, created 2026-11-30T13:10:00Z

| metric            |  value |
| :---------------- | -----: |
| success rate      |  55.6% |
| pass@1            |  50.0% |
| pass@2            |  75.0% |
| pass^1            |  50.0% |
| pass^2            |  25.0% |
| completion (mean) |  0.556 |
| format (mean)     |  1.000 |
| turns             |   2.00 |
| tokens            |  150.2 |
| time agent        | 4.50 s |
| time tool         | 0.09 s |
| time user         | 0.00 s |
| time total        | 4.59 s |
| user errors       |      0 |

| failure           | episodes | share |
| :---------------- | -------: | ----: |
| format            |        0 |  0.0% |
| invalid_arguments |        1 | 11.1% |
| limits            |        0 |  0.0% |
| user_backend      |        0 |  0.0% |
| wrong_answer      |        3 | 33.3% |
"""
    )


def test_compare_headline_metrics(runs: tuple[Path, Path]) -> None:
    text = compare_runs(*runs)
    lines = text.splitlines()
    assert lines[2].startswith(f"- A: {runs[0]} (toolgym/Calendar-v0 / oracle / test; 5 tasks")
    assert lines[3].startswith(f"- B: {runs[1]} (toolgym/Calendar-v0 / hf / smollm2-135m / test")
    table = text[text.index("| metric") : text.index("\n\n### Per-task")]
    assert table == (
        """\
| metric                     |      A |        B |     B - A |
| :------------------------- | -----: | -------: | --------: |
| success rate               |  55.6% |    60.0% |   +4.4 pp |
| pass@1                     |  50.0% |    60.0% |  +10.0 pp |
| pass@2                     |  75.0% |    80.0% |   +5.0 pp |
| pass@4                     |      - |    90.0% |           |
| pass^1                     |  50.0% |    60.0% |  +10.0 pp |
| pass^2                     |  25.0% |    40.0% |  +15.0 pp |
| completion (mean)          |  0.556 |    0.600 |    +0.044 |
| format (mean)              |  1.000 |        - |           |
| toolrl (mean)              |      - |   -0.500 |           |
| turns                      |   2.00 |     2.50 |     +0.50 |
| tokens                     |  150.2 |        - |           |
| time agent                 | 4.50 s | 130.00 s | +125.50 s |
| time tool                  | 0.09 s |   0.10 s |   +0.01 s |
| time user                  | 0.00 s |   2.00 s |   +2.00 s |
| time total                 | 4.59 s | 132.10 s | +127.51 s |
| failures format            |      0 |        2 |        +2 |
| failures invalid_arguments |      1 |        1 |         0 |
| failures limits            |      0 |        0 |         0 |
| failures user_backend      |      0 |        1 |        +1 |
| failures wrong_answer      |      3 |        1 |        -2 |
| user errors                |      0 |        1 |        +1 |"""
    )


def test_compare_per_task_differences(runs: tuple[Path, Path]) -> None:
    text = compare_runs(*runs)
    tasks = text[text.index("### Per-task differences") :]
    assert tasks == (
        """\
### Per-task differences (3 of 4 shared tasks)

| task | A successes | B successes |     B - A |
| :--- | ----------: | ----------: | --------: |
| t3   |         0/2 |         2/2 | +100.0 pp |
| t1   |         2/2 |         1/2 |  -50.0 pp |
| t4   |         1/2 |         2/2 |  +50.0 pp |

### Only in A (1)

| task   | successes |
| :----- | --------: |
| only-a |       1/1 |

### Only in B (2)

| task    | successes |
| :------ | --------: |
| only-b  |       0/2 |
| only-b2 |       1/1 |
"""
    )


def test_task_successes_leave_out_user_failures(runs: tuple[Path, Path]) -> None:
    counts = task_successes(load_run(runs[1]))
    assert counts["t1"] == (2, 1)
    assert counts["t3"] == (2, 2)


def test_compare_a_run_with_itself(runs: tuple[Path, Path]) -> None:
    text = compare_runs(runs[0], runs[0])
    assert (
        "### Per-task differences (0 of 5 shared tasks)\n\nNo task's success rate differs." in text
    )
    assert "Only in" not in text
    deltas = [line.rsplit("|", 2)[1].strip() for line in text.splitlines()[7:26]]
    assert set(deltas) == {"0.0 pp", "0.000", "0.00", "0.0", "0.00 s", "0"}  # unsigned zeros


def test_missing_summary_and_odd_values(tmp_path: Path) -> None:
    rows = [*episodes("t|1", True, False), {"task_id": "t2"}, {"success": True}]
    path = write_run(tmp_path / "run", rows, None)
    text = markdown_summary(path)
    assert "> summary.json is missing" in text
    assert "| success rate |  50.0% |" in text  # 2 of 4 rows succeeded
    assert "| tokens       |      - |" in text
    assert "| time total   | 1.02 s |" in text
    assert "| wrong_answer      |        1 | 25.0% |" in text
    compare = compare_runs(path, path)
    assert "Per-task differences (0 of 3 shared tasks)" in compare
    odd = write_run(
        tmp_path / "odd", [row("t", 0, True)], {"success_rate": "high", "pass_at_k": []}
    )
    odd_text = markdown_summary(odd)
    assert "| success rate |     - |" in odd_text
    assert "pass@" not in odd_text


def test_compare_needs_run_directories(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="results.jsonl"):
        compare_runs(tmp_path, tmp_path)
