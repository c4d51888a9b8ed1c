"""Run the reward audit over envs and summarise false-positive / false-negative rates.

For each task every applicable variant (:mod:`toolgym.audit.variants`) is played through
``env.step`` with the scripted user. Completion, ``state_match`` and ``outputs`` are read from the
last step; ``step_match`` and ``toolrl`` are summed over the episode's turns. Rates:

- false negative: a correct trajectory (clean or not) that a component does not pay in full;
- false positive: a wrong-state trajectory that completion or state_match pays, a wrong-answer
  trajectory that completion or outputs pays;
- pairs: over every (clean correct, wrong) pair of one task, the share in which the correct one
  scores strictly higher on a process reward.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

import gymnasium as gym

from toolgym.audit.kit import AuditKit
from toolgym.audit.play import NotApplicable, play_script
from toolgym.audit.variants import Builder, Expect, Pools
from toolgym.content import load_suite_part
from toolgym.env import ToolEnv
from toolgym.registry import registered_specs, split_tasks

PROCESS = ("step_match", "toolrl")


@dataclass(frozen=True)
class Outcome:
    """One played variant."""

    env_id: str
    task_id: str
    variant: str
    expect: Expect
    completion: float
    state_match: float
    outputs: float
    process: dict[str, float]
    reasons: tuple[str, ...] = ()


@dataclass
class Rates:
    """Counts behind one rate: how many trajectories were checked, how many it got wrong."""

    checked: int = 0
    wrong: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, failed: bool, example: str) -> None:
        """Count one trajectory; keep up to five examples of failures."""
        self.checked += 1
        if failed:
            self.wrong += 1
            if len(self.examples) < 5:
                self.examples.append(example)

    @property
    def rate(self) -> float:
        """The share checked that it got wrong (0.0 when nothing was checked)."""
        return self.wrong / self.checked if self.checked else 0.0


def kit_of(suite_name: str) -> AuditKit:
    """The suite's audit kit (``tools/<suite>/audit.py``: ``kit``), or an empty one."""
    module = load_suite_part(suite_name, "audit")
    return cast(AuditKit, getattr(module, "kit", AuditKit())) if module else AuditKit()


def audit_env(env_id: str, *, max_tasks: int | None = None, seed: int = 0) -> list[Outcome]:
    """Play every variant of (up to ``max_tasks`` per split of) the env's tasks."""
    spec = registered_specs()[env_id]
    tasks = split_tasks(spec, "train") + split_tasks(spec, "test")
    base = cast(ToolEnv, gym.make(env_id, split="train").unwrapped)
    env = ToolEnv(base.suite, tasks, format=spec.format, limits=base.limits)
    pools, kit = Pools.of(env.suite, tasks), kit_of(env.suite.name)
    chosen = _choose(tasks, max_tasks, seed)
    outcomes = []
    for task in chosen:
        builder = Builder(
            task, env.gold_plan(task), env.suite, pools, kit, random.Random(f"{seed}:{task.id}")
        )
        for variant in builder.all():
            try:
                play = play_script(env, task.id, variant.moves)
            except NotApplicable:
                continue
            c = play.components
            outcomes.append(
                Outcome(
                    env_id,
                    task.id,
                    variant.name,
                    variant.expect,
                    c["completion"],
                    c["state_match"],
                    c["outputs"],
                    {name: sum(s[name] for s in play.step_components) for name in PROCESS},
                    tuple((play.summary.get("completion") or {}).get("reasons", ())),
                )
            )
    return outcomes


def _choose(tasks: Sequence, max_tasks: int | None, seed: int) -> list:
    if max_tasks is None or len(tasks) <= max_tasks:
        return list(tasks)
    return random.Random(seed).sample(list(tasks), max_tasks)


@dataclass
class Summary:
    """Rates per env and component."""

    rates: dict[str, dict[str, Rates]]
    variants: dict[str, int]

    def passes(self) -> dict[str, bool]:
        """The issue's targets, each checked over all envs together."""
        total = {name: Rates() for name in next(iter(self.rates.values()), {})}
        for per_env in self.rates.values():
            for name, r in per_env.items():
                total[name].checked += r.checked
                total[name].wrong += r.wrong
        return {
            "completion FP on wrong states == 0": total["completion FP (wrong state)"].wrong == 0,
            "completion FP on wrong answers <= 1%": total["completion FP (wrong answer)"].rate
            <= 0.01,
            "completion FN on correct <= 1%": total["completion FN (correct)"].rate <= 0.01,
            "step_match correct > wrong >= 95%": total["step_match pairs lost"].rate <= 0.05,
            "toolrl correct > wrong >= 95%": total["toolrl pairs lost"].rate <= 0.05,
        }


def summarize(outcomes: Iterable[Outcome]) -> Summary:
    """Rates per env (see the module docstring)."""
    by_env: dict[str, list[Outcome]] = defaultdict(list)
    variants: dict[str, int] = defaultdict(int)
    for o in outcomes:
        by_env[o.env_id].append(o)
        variants[o.expect] += 1
    rates = {env_id: _rates(items) for env_id, items in sorted(by_env.items())}
    return Summary(rates, dict(variants))


def _rates(items: list[Outcome]) -> dict[str, Rates]:
    r = {
        name: Rates()
        for name in (
            "completion FN (correct)",
            "state_match FN (correct)",
            "outputs FN (correct)",
            "completion FP (wrong state)",
            "state_match FP (wrong state)",
            "completion FP (wrong answer)",
            "outputs FP (wrong answer)",
            "step_match pairs lost",
            "toolrl pairs lost",
        )
    }
    for o in items:
        label = f"{o.task_id}/{o.variant}"
        if o.expect in ("correct", "correct_unclean"):
            r["completion FN (correct)"].add(o.completion < 1.0, f"{label} {list(o.reasons)}")
            r["state_match FN (correct)"].add(o.state_match < 1.0, label)
            r["outputs FN (correct)"].add(o.outputs < 1.0, label)
        elif o.expect == "wrong_state":
            r["completion FP (wrong state)"].add(o.completion == 1.0, label)
            r["state_match FP (wrong state)"].add(o.state_match == 1.0, label)
        elif o.expect == "wrong_answer":
            r["completion FP (wrong answer)"].add(o.completion == 1.0, label)
            if o.variant != "guessed":
                r["outputs FP (wrong answer)"].add(o.outputs == 1.0, label)
    by_task: dict[str, list[Outcome]] = defaultdict(list)
    for o in items:
        by_task[o.task_id].append(o)
    for task_items in by_task.values():
        right = [o for o in task_items if o.expect == "correct"]
        wrong = [o for o in task_items if o.expect.startswith("wrong")]
        for c in right:
            for w in wrong:
                for name in PROCESS:
                    lost = not c.process[name] > w.process[name]
                    r[f"{name} pairs lost"].add(
                        lost,
                        f"{c.task_id}: {c.variant} {c.process[name]:g} vs {w.variant} {w.process[name]:g}",
                    )
    return r


def format_summary(summary: Summary) -> str:
    """A plain-text table: one row per env and rate, then the targets."""
    lines = [f"{'env':<22} {'rate':<30} {'wrong':>6} {'of':>6} {'share':>7}"]
    for env_id, per_env in summary.rates.items():
        for name, r in per_env.items():
            lines.append(f"{env_id:<22} {name:<30} {r.wrong:>6} {r.checked:>6} {r.rate:>7.1%}")
    lines.append("")
    lines.append(
        "variants played: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.variants.items()))
    )
    for target, ok in summary.passes().items():
        lines.append(f"{'PASS' if ok else 'FAIL'}  {target}")
    return "\n".join(lines)
