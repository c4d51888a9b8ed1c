"""Markdown tables of eval runs for terminals: one run's summary, and two runs side by side.

``markdown_summary(run_dir)`` is what ``toolgym eval`` prints at the end; ``compare_runs(a, b)``
is ``toolgym compare RUN_A RUN_B``: the headline metrics of both runs with their deltas (B - A),
then the tasks whose success rate differs, largest difference first, and the tasks only one run
has. The tables are padded so that they read well as plain text, and are plain ASCII but for the
run's own data. Per-task successes leave out the episodes whose simulated user failed, as the
success rate of ``summary.json`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from toolgym.eval.metrics import FAILURE_KINDS
from toolgym.eval.results import Run, load_run, num

MISSING = "-"
_ZERO = re.compile(r"^[+-]0(\.0*)?(\s.*)?$")


def markdown_summary(run_dir: Path | str) -> str:
    """A compact Markdown summary of one run: headline numbers, then failures by kind."""
    run = load_run(run_dir)
    s = run.summary
    lines = [f"## toolgym eval: {_title(run)}", "", _facts_line(run), ""]
    lines.extend(f"> {note}" for note in run.notes)
    if run.notes:
        lines.append("")
    rows = [[name, _format(kind, value)] for name, kind, value in _metrics(s)]
    lines.append(_table(["metric", "value"], rows, "lr"))
    lines.append("")
    failures = _mapping(s.get("failures"))
    episodes = num(s.get("episodes"))
    frows = []
    recorded = [k for k in FAILURE_KINDS if k in failures]  # older runs lack newer kinds
    for kind in [*recorded, *sorted(k for k in failures if k not in FAILURE_KINDS)]:
        count = num(failures.get(kind))
        share = count / episodes if count is not None and episodes else None
        frows.append([kind, _format("count", count), _format("rate", share)])
    lines.append(_table(["failure", "episodes", "share"], frows, "lrr"))
    return "\n".join(lines) + "\n"


def compare_runs(run_a: Path | str, run_b: Path | str) -> str:
    """Two runs side by side: headline metrics with deltas (B - A), then per-task differences.

    Raises:
        FileNotFoundError: A directory has no ``results.jsonl``.
    """
    a, b = load_run(run_a), load_run(run_b)
    lines = [
        "## toolgym compare",
        "",
        f"- A: {a.path} ({_title(a)}; {_facts_line(a)})",
        f"- B: {b.path} ({_title(b)}; {_facts_line(b)})",
        "",
    ]
    for name, run in (("A", a), ("B", b)):
        lines.extend(f"> {name}: {note}" for note in run.notes)
    if a.notes or b.notes:
        lines.append("")
    both = (a.summary, b.summary)
    metrics_a = _metrics(a.summary, failures=True, keys_of=both)
    metrics_b = _metrics(b.summary, failures=True, keys_of=both)
    rows = [
        [name, _format(kind, va), _format(kind, vb), _delta(kind, va, vb)]
        for (name, kind, va), (_, _, vb) in zip(metrics_a, metrics_b, strict=True)
    ]
    lines.append(_table(["metric", "A", "B", "B - A"], rows, "lrrr"))
    lines.append("")
    lines.extend(_task_differences(a, b))
    return "\n".join(lines) + "\n"


def task_successes(run: Run) -> dict[str, tuple[int, int]]:
    """Task id -> (scored samples, successes); episodes whose simulated user failed left out."""
    counts: dict[str, tuple[int, int]] = {}
    for row in run.rows:
        task = str(row.get("task_id", "?"))
        n, c = counts.get(task, (0, 0))
        if row.get("failure") == "user_backend":
            counts[task] = (n, c)
            continue
        counts[task] = (n + 1, c + bool(row.get("success")))
    return counts


def _task_differences(a: Run, b: Run) -> list[str]:
    ca, cb = task_successes(a), task_successes(b)
    both = [t for t in ca if t in cb]
    diffs = []
    for task in both:
        ra, rb = _rate(ca[task]), _rate(cb[task])
        if (ra is None) != (rb is None) or (
            ra is not None and rb is not None and abs(rb - ra) > 1e-12
        ):
            diffs.append((task, ra, rb))
    diffs.sort(key=lambda d: (-abs((d[2] or 0.0) - (d[1] or 0.0)), d[0]))
    lines = [f"### Per-task differences ({len(diffs)} of {len(both)} shared tasks)", ""]
    if diffs:
        rows = [
            [task, _fraction(ca[task]), _fraction(cb[task]), _delta("rate", ra, rb)]
            for task, ra, rb in diffs
        ]
        lines.append(_table(["task", "A successes", "B successes", "B - A"], rows, "lrrr"))
    else:
        lines.append("No task's success rate differs.")
    for name, mine, other in (("A", ca, cb), ("B", cb, ca)):
        only = sorted(t for t in mine if t not in other)
        if only:
            lines.extend(["", f"### Only in {name} ({len(only)})", ""])
            rows = [[task, _fraction(mine[task])] for task in only]
            lines.append(_table(["task", "successes"], rows, "lr"))
    return lines


def _metrics(
    s: Mapping[str, Any], *, failures: bool = False, keys_of: Sequence[Mapping[str, Any]] = ()
) -> list[tuple[str, str, Any]]:
    """(name, kind, value) of a summary's headline numbers; kind picks the formatting.

    ``keys_of``: the summaries whose k values, components and so on to list (default ``s``), so
    that two runs' rows line up, a value that ``s`` lacks being None.
    """
    every = keys_of or [s]

    def keys(field: str, first: Sequence[str] = ()) -> list[str]:
        found = {k for summary in every for k in _mapping(summary.get(field))}
        rest = sorted(found - set(first), key=_k_order)
        return [*first, *rest]

    def value(field: str, key: str) -> Any:
        return _mapping(s.get(field)).get(key)

    out: list[tuple[str, str, Any]] = [("success rate", "rate", s.get("success_rate"))]
    out.extend((f"pass@{k}", "rate", value("pass_at_k", k)) for k in keys("pass_at_k"))
    out.extend((f"pass^{k}", "rate", value("pass_hat_k", k)) for k in keys("pass_hat_k"))
    components = keys("components")
    out.extend((f"{name} (mean)", "value", value("components", name)) for name in components)
    out.append(("turns", "turns", s.get("turns")))
    out.append(("tokens", "tokens", s.get("tokens")))
    parts = keys("seconds", ("agent", "tool", "user", "total"))
    out.extend((f"time {part}", "seconds", value("seconds", part)) for part in parts)
    if failures:
        recorded = {k for summary in every for k in _mapping(summary.get("failures"))}
        kinds = keys("failures", [k for k in FAILURE_KINDS if k in recorded])
        out.extend((f"failures {kind}", "count", value("failures", kind)) for kind in kinds)
    out.append(("user errors", "count", s.get("user_errors")))
    if s.get("env_errors") is not None:  # summaries written before env errors were counted lack it
        out.append(("env errors", "count", s.get("env_errors")))
    return out


_FORMATS: dict[str, tuple[Callable[[float], str], Callable[[float], str]]] = {
    # kind: (value, delta)
    "rate": (lambda x: f"{100 * x:.1f}%", lambda d: f"{100 * d:+.1f} pp"),
    "value": (lambda x: f"{x:.3f}", lambda d: f"{d:+.3f}"),
    "turns": (lambda x: f"{x:.2f}", lambda d: f"{d:+.2f}"),
    "tokens": (lambda x: f"{x:.1f}", lambda d: f"{d:+.1f}"),
    "seconds": (lambda x: f"{x:.2f} s", lambda d: f"{d:+.2f} s"),
    "count": (lambda x: f"{x:.0f}" if x == int(x) else f"{x:.2f}", lambda d: f"{d:+g}"),
}


def _format(kind: str, value: Any) -> str:
    x = num(value)
    return MISSING if x is None else _FORMATS[kind][0](x)


def _delta(kind: str, a: Any, b: Any) -> str:
    xa, xb = num(a), num(b)
    if xa is None or xb is None:
        return ""
    text = _FORMATS[kind][1](xb - xa)
    return text[1:] if _ZERO.match(text) else text  # no sign on a difference that shows as 0


def _rate(counts: tuple[int, int]) -> float | None:
    n, c = counts
    return c / n if n else None


def _fraction(counts: tuple[int, int]) -> str:
    n, c = counts
    return f"{c}/{n}"


def _title(run: Run) -> str:
    s = run.summary
    parts = [s.get("env"), s.get("agent"), s.get("model"), s.get("split")]
    return " / ".join(str(p) for p in parts if p) or run.path.name


def _facts_line(run: Run) -> str:
    s = run.summary
    facts = [f"{_format('count', s.get('tasks'))} tasks", f"k={s.get('k', MISSING)}"]
    facts.append(f"{_format('count', s.get('episodes'))} episodes")
    if s.get("created"):
        facts.append(f"created {s['created']}")
    return ", ".join(facts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A Markdown table padded to aligned columns; ``align`` has an ``l`` or ``r`` per column."""
    cells = [[_cell(h) for h in headers], *([_cell(c) for c in row] for row in rows)]
    widths = [max(3, *(len(r[i]) for r in cells)) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if a == "r" else c.ljust(w)
            for c, w, a in zip(row, widths, align, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "| "
        + " | ".join(
            "-" * (w - 1) + ":" if a == "r" else ":" + "-" * (w - 1)
            for w, a in zip(widths, align, strict=True)
        )
        + " |"
    )
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _cell(value: str) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _k_order(k: str) -> tuple[int, str]:
    return (int(k), "") if k.isdigit() else (1 << 30, k)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
