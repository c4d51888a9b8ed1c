"""Counters, merging and tables of ``bench/fuzz.py`` (kept as plain JSON-able dicts)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fuzz_cases import Action

import toolgym

PROJECT = str(Path(toolgym.__file__).resolve().parent.parent)
REPR_CHARS = 160
COUNTERS = ("actions", "episodes", "exceptions", "hash_failures", "corruptions")


def short(text: str, limit: int = REPR_CHARS) -> str:
    """ASCII-safe repr of ``text``, cut to ``limit`` characters (the length noted when cut)."""
    shown = ascii(text)
    return shown if len(shown) <= limit else f"{shown[:limit]}...<{len(text)} chars>"


def signature(where: str, exc: BaseException) -> str:
    """Where, the exception type and its innermost frame inside the project (else the last one)."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if f.filename.startswith(PROJECT) and "/.venv/" not in f.filename]
    if not (inside or frames):
        return f"{where}: {type(exc).__name__}"
    frame = (inside or frames)[-1]
    loc = f"{frame.filename.removeprefix(PROJECT + '/')}:{frame.lineno} in {frame.name}"
    return f"{where}: {type(exc).__name__} at {loc}"


@dataclass
class Where:
    """The place of one step: env, format, the reset that started the episode, the turn."""

    env_id: str
    fmt: str
    seed: int
    task_id: str | None
    by_id: bool
    turn: int = 0
    prior: list[Action] = field(default_factory=list)

    def repro(self, action: Action | None) -> str:
        """A one-line repro (earlier steps of the episode are counted, and listed in the JSON)."""
        options = f", options={{'task_id': {self.task_id!r}}}" if self.by_id else ""
        line = f"env = gym.make({self.env_id!r}, format={self.fmt!r}).unwrapped; "
        line += f"env.reset(seed={self.seed}{options})"
        if action is None:
            return line
        earlier = f"; <{self.turn} earlier steps>" if self.turn else ""
        return f"{line}{earlier}; env.step({short(action.text)})"


def empty_report() -> dict[str, Any]:
    """The counters before any step."""
    return {"rows": {}, "kinds": {}, "exceptions": {}, "corruptions": [], "slowest": [],
            "rss_step": None, "traced_step": None, "generator_errors": {}, "workers": [],
            "stopped_early": False}  # fmt: skip


class Recorder:
    """The counters of one worker."""

    def __init__(self, worker: int, top: int) -> None:
        self.worker, self.top, self.index = worker, top, 0
        self.data = empty_report()

    def row(self, table: str, key: str) -> dict[str, Any]:
        """The counters of one ``"env format"`` row (table ``rows``) or action kind (``kinds``)."""
        zero = dict.fromkeys(COUNTERS, 0) | {"timed_steps": 0, "step_s": 0.0}
        return self.data[table].setdefault(key, zero | {"max_step_s": 0.0, "max_at": ""})

    def count(self, where: Where, action: Action | None, name: str) -> None:
        """Add one to counter ``name`` of the step's row and kind."""
        self.row("rows", f"{where.env_id} {where.fmt}")[name] += 1
        if action is not None:
            self.row("kinds", action.kind)[name] += 1

    def exception(self, kind: str, exc: BaseException, where: Where, action: Action | None) -> None:
        """Count an escaping exception; keep the first occurrence of each distinct one."""
        key = signature(kind, exc)
        entry = self.data["exceptions"].setdefault(key, {"count": 0, "first": None})
        entry["count"] += 1
        if entry["first"] is None:
            entry["first"] = self.example(where, action) | {"message": short(str(exc), 300)}
        self.count(where, action, "hash_failures" if kind == "state_hash" else "exceptions")

    def example(self, where: Where, action: Action | None) -> dict[str, Any]:
        """A JSON-able record of one step: where, what, and the episode's earlier actions."""
        return {"env": where.env_id, "format": where.fmt, "task_id": where.task_id,
                "seed": where.seed, "turn": where.turn, "worker": self.worker, "index": self.index,
                "kind": f"{action.kind}/{action.detail}" if action else "reset",
                "repro": where.repro(action),
                "prior": [f"{a.kind}/{a.detail}: {short(a.text, 200)}" for a in where.prior]}  # fmt: skip

    def step(self, where: Where, action: Action, seconds: float | None) -> None:
        """Count one step; ``seconds`` is None for tracemalloc-traced (untimed) steps."""
        self.index += 1
        for table, key in (("rows", f"{where.env_id} {where.fmt}"), ("kinds", action.kind)):
            row = self.row(table, key)
            row["actions"] += 1
            if seconds is not None:
                row["timed_steps"] += 1
                row["step_s"] += seconds
                if seconds > row["max_step_s"]:
                    row["max_step_s"], row["max_at"] = seconds, f"{action.kind}/{action.detail}"
        slow = self.data["slowest"]
        if seconds is not None and (len(slow) < self.top or seconds > slow[-1]["seconds"]):
            slow.append(
                {"seconds": seconds, "chars": len(action.text)} | self.example(where, action)
            )
            slow.sort(key=lambda s: -s["seconds"])
            del slow[self.top :]

    def corruption(self, where: Where, action: Action) -> None:
        """Count a state change on a turn without an accepted call; keep the first few."""
        self.count(where, action, "corruptions")
        if len(self.data["corruptions"]) < self.top:
            self.data["corruptions"].append(self.example(where, action))

    def worst(self, name: str, kib: int, where: Where, action: Action) -> None:
        """Keep the step with the largest ``kib`` for memory measure ``name``."""
        current = self.data[name]
        if kib > 0 and (current is None or kib > current["kib"]):
            self.data[name] = {"kib": kib, "chars": len(action.text)} | self.example(where, action)


def merge(parts: list[dict[str, Any]], top: int) -> dict[str, Any]:
    """The workers' counters added up (first examples, slowest steps and worst memory kept)."""
    out = empty_report()
    for part in parts:
        for table in ("rows", "kinds"):
            for key, row in part[table].items():
                dst = out[table].setdefault(key, {"max_step_s": -1.0, "max_at": ""})
                for name, value in row.items():
                    if not name.startswith("max_"):
                        dst[name] = dst.get(name, 0) + value
                if row["max_step_s"] > dst["max_step_s"]:
                    dst["max_step_s"], dst["max_at"] = row["max_step_s"], row["max_at"]
        for key, entry in part["exceptions"].items():
            dst = out["exceptions"].setdefault(key, {"count": 0, "first": entry["first"]})
            dst["count"] += entry["count"]
        for key, n in part["generator_errors"].items():
            out["generator_errors"][key] = out["generator_errors"].get(key, 0) + n
        out["corruptions"] = (out["corruptions"] + part["corruptions"])[:top]
        out["slowest"] = sorted(out["slowest"] + part["slowest"], key=lambda s: -s["seconds"])[:top]
        for name in ("rss_step", "traced_step"):
            if part[name] and (out[name] is None or part[name]["kib"] > out[name]["kib"]):
                out[name] = part[name]
        out["workers"] += part["workers"]
        out["stopped_early"] |= part["stopped_early"]
    out["exceptions"] = dict(sorted(out["exceptions"].items(), key=lambda kv: -kv[1]["count"]))
    return out


def _rate(row: dict[str, Any]) -> float:
    return row["timed_steps"] / row["step_s"] if row["step_s"] else 0.0


def format_report(report: dict[str, Any]) -> str:
    """The report as readable tables: per (env, format), per kind, then the findings."""
    rows = report["rows"]
    total: dict[str, Any] = {c: sum(r[c] for r in rows.values()) for c in (*COUNTERS, "timed_steps", "step_s")}  # fmt: skip
    slowest = max(rows.values(), key=lambda r: r["max_step_s"], default={"max_step_s": 0.0, "max_at": ""})  # fmt: skip
    total |= {"max_step_s": slowest["max_step_s"], "max_at": slowest["max_at"]}
    lines = [f"{'env':<34}{'format':<8}{'actions':>9}{'episodes':>9}{'exceptions':>11}{'hash_fail':>10}"
             f"{'corrupt':>8}{'steps/s':>9}{'max_step_s':>11}  slowest kind"]  # fmt: skip
    for key, row in [*sorted(rows.items()), ("TOTAL all", total)]:
        env_id, fmt = key.rsplit(" ", 1)
        lines.append(f"{env_id:<34}{fmt:<8}{row['actions']:>9}{row['episodes']:>9}{row['exceptions']:>11}"
                     f"{row['hash_failures']:>10}{row['corruptions']:>8}{_rate(row):>9.0f}"
                     f"{row['max_step_s']:>11.3f}  {row['max_at']}")  # fmt: skip
    lines += ["", f"{'kind':<16}{'actions':>9}{'exceptions':>11}{'hash_fail':>10}{'corrupt':>8}"
              f"{'mean_ms':>9}{'max_s':>9}  slowest variant"]  # fmt: skip
    for kind, row in sorted(report["kinds"].items()):
        mean = row["step_s"] / row["timed_steps"] * 1e3 if row["timed_steps"] else 0.0
        lines.append(f"{kind:<16}{row['actions']:>9}{row['exceptions']:>11}{row['hash_failures']:>10}"
                     f"{row['corruptions']:>8}{mean:>9.2f}{row['max_step_s']:>9.3f}  {row['max_at']}")  # fmt: skip
    lines += ["", f"escaping exceptions: {report['exceptions_total']} ({len(report['exceptions'])} distinct)"]  # fmt: skip
    for key, entry in report["exceptions"].items():
        first = entry["first"]
        lines += [f"  [{entry['count']}x] {key}", f"      {first['message'][:240]}",
                  f"      first: {first['kind']}, turn {first['turn']}: {first['repro']}"]  # fmt: skip
    lines += ["", f"corruptions: {report['corruptions_total']}"]
    lines += [f"  {c['kind']}, turn {c['turn']}: {c['repro']}" for c in report["corruptions"]]
    lines += ["", "slowest steps (env.step only):"]
    lines += [f"  {s['seconds']:8.3f} s  {s['env']} {s['format']} {s['kind']} ({s['chars']} chars)"
              for s in report["slowest"]]  # fmt: skip
    lines.append("")
    for w in report["workers"]:
        lines.append(f"worker {w['worker']}: {w['actions']} actions in {w['wall_s']:.1f} s, "
                     f"peak RSS {w['peak_rss_mib']:.0f} MiB (ru_maxrss)")  # fmt: skip
    for name, what in (("rss_step", "largest rise of peak RSS (ru_maxrss) during one step"),
                       ("traced_step", "largest tracemalloc peak of one sampled step")):  # fmt: skip
        if report[name]:
            m = report[name]
            lines.append(f"{what}: {m['kib'] / 1024:.1f} MiB at {m['env']} {m['format']} {m['kind']} ({m['chars']} chars)")  # fmt: skip
    for key, n in report["generator_errors"].items():
        lines.append(f"bench generator error (a bench bug, not an env failure) [{n}x]: {key}")
    if report["worker_crash"]:
        lines.append(f"WORKER CRASH: {report['worker_crash']}")
    early = " (stopped early by --max-seconds)" if report["stopped_early"] else ""
    lines.append(f"{report['actions']} actions in {report['wall_s']:.1f} s: {report['actions_per_s']:.0f} "
                 f"actions/s overall, {report['steps_per_s_in_step']:.0f} steps/s inside env.step{early}")  # fmt: skip
    return "\n".join(lines)
