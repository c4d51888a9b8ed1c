"""Tasks: what the user wants, what they know, and the gold calls that achieve it.

Tasks live in JSONL files (one :class:`Task` per line) under ``tasks/<suite>/{train,test}.jsonl``.
Their JSON Schema, exported from the model, is ``tasks/schema.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from toolgym.answers.model import Fact, Forbidden, RequiredOutput
from toolgym.tooling import ToolCall

Category = Literal["single", "multi", "parallel", "dependent", "clarify", "no_call", "error"]
Split = Literal["train", "test"]
"""A task split: every env has a train and a test list of tasks."""


class HiddenFact(BaseModel):
    """A fact the user reveals only when the agent asks about it."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[str] = Field(
        min_length=1,
        description="Words that, found in the agent's question (case-insensitive), make the "
        "user reveal this fact.",
    )
    question: str = Field(description="A question that asks for the fact (the oracle asks it).")
    answer: str = Field(description="What the user says when asked.")
    before_step: int = Field(
        default=0,
        ge=0,
        description="Index of the gold step that needs this fact (len(gold_calls) = the final "
        "answer needs it): the agent must have it before making that step's calls.",
    )
    must_ask: bool = Field(
        default=True,
        description="Whether the agent must ask for this fact before the step that needs it; "
        "making any call of that step first is a guess (completion 0, reason "
        "'guessed_hidden_fact'). A step that needs two facts for two of its calls should be two "
        "steps.",
    )

    @model_validator(mode="after")
    def _question_mentions_a_keyword(self) -> HiddenFact:
        if not any(k.lower() in self.question.lower() for k in self.keywords):
            raise ValueError(
                f"question {self.question!r} must contain one of the keywords {self.keywords}"
            )
        return self


class UserProfile(BaseModel):
    """Who the simulated user is and what they know."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="The user's name, if it matters.")
    facts: list[str] = Field(
        default_factory=list, description="Facts the user states up front (in the instruction)."
    )
    hidden: list[HiddenFact] = Field(
        default_factory=list, description="Facts the user reveals only when asked."
    )
    confirms: bool = Field(
        default=True, description="Whether the user says yes when asked to confirm an action."
    )
    style: str | None = Field(default=None, description="How the user talks (for LLM users).")


class GoldStep(BaseModel):
    """One gold step: calls made together (parallel) and the steps that must come first."""

    model_config = ConfigDict(extra="forbid")

    calls: list[ToolCall] = Field(min_length=1, description="The step's calls (any order).")
    after: list[int] | None = Field(
        default=None,
        description="Indices of the gold steps that must be complete before this one; [] = "
        "independent. Unset: the previous step (a plain list step means the same).",
    )


class Task(BaseModel):
    """One task of a suite: instruction, user, start state, gold calls and required outputs."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Unique id within its file, e.g. 'calendar-012'.")
    suite: str = Field(min_length=1, description="Name of the tool suite (a folder in tools/).")
    instruction: str = Field(min_length=1, description="The user's first message.")
    context: str | None = Field(
        default=None,
        description="Extra system-prompt context for the agent (today's date, who the user is).",
    )
    user: UserProfile = Field(default_factory=UserProfile, description="The simulated user.")
    world_seed: int = Field(
        default=0, ge=0, description="Seed of the suite's generated world the task starts from."
    )
    initial_state: dict[str, Any] | None = Field(
        default=None, description="Explicit start state; overrides world_seed when present."
    )
    gold_calls: list[list[ToolCall] | GoldStep] = Field(
        default_factory=list,
        description="Gold steps, a partial order: each a list of calls made together (after the "
        "previous step) or a GoldStep naming the steps it comes after. Steps that do not depend "
        "on each other may run in any order.",
    )
    required_outputs: list[RequiredOutput] = Field(
        default_factory=list,
        description="What the final answer must state: a substring (case-insensitive), a list "
        "of alternative substrings, or a Fact (a value of a kind, optionally bound to a subject).",
    )
    forbidden: list[Forbidden] = Field(
        default_factory=list,
        description="What the final answer must not state: whole-word strings, claim families "
        "(success, not_found; negated mentions allowed) or facts.",
    )
    gold_answer: str | None = Field(
        default=None, description="A correct final answer; it must pass the answer checks."
    )
    extra_reads: Literal["free", "wasteful"] = Field(
        default="free",
        description="What a READ call outside the gold earns in the process rewards: 'free' = 0 "
        "(neither paid nor punished), 'wasteful' = scored as a wrong call.",
    )
    expected_state: dict[str, Any] | None = Field(
        default=None,
        description="Expected final state; when absent it is derived by replaying the gold WRITE "
        "calls on the initial state.",
    )
    categories: list[Category] = Field(default_factory=list, description="What the task tests.")

    @model_validator(mode="after")
    def _consistent(self) -> Task:
        if any(isinstance(step, list) and not step for step in self.gold_calls):
            raise ValueError("gold_calls: every step must hold at least one call")
        _check_order(self.steps)
        for fact in self.user.hidden:
            if fact.before_step > len(self.gold_calls):
                raise ValueError(
                    f"user.hidden: before_step {fact.before_step} is past the last gold step "
                    f"({len(self.gold_calls)})"
                )
        if self.gold_answer is not None:
            from toolgym.answers.check import check_answer  # the checker imports this module's kin

            check = check_answer(self.gold_answer, self.required_outputs, self.forbidden)
            if not check.passed:
                raise ValueError(
                    f"gold_answer fails the answer checks: {'; '.join(check.failures)}"
                )
        return self

    @property
    def steps(self) -> list[GoldStep]:
        """The gold steps with every ``after`` filled in (a plain list step: after the previous)."""
        out = []
        for i, step in enumerate(self.gold_calls):
            calls, after = (step, None) if isinstance(step, list) else (step.calls, step.after)
            out.append(GoldStep(calls=calls, after=after if after is not None else _previous(i)))
        return out

    @property
    def step_calls(self) -> list[list[ToolCall]]:
        """The calls of each gold step, in the order written."""
        return [step.calls for step in self.steps]

    @property
    def flat_gold_calls(self) -> list[ToolCall]:
        """All gold calls in the order written, parallel steps flattened."""
        return [call for step in self.step_calls for call in step]

    def answer(self) -> str:
        """The gold answer, or one built from the required outputs."""
        if self.gold_answer is not None:
            return self.gold_answer
        parts = [_first_spelling(r) for r in self.required_outputs]
        return "Done. " + "; ".join(parts) if parts else "Done."


def _previous(index: int) -> list[int]:
    return [index - 1] if index else []


def _first_spelling(item: RequiredOutput) -> str:
    if isinstance(item, Fact):
        return str(item.value) if not item.subjects else f"{item.subjects[0]}: {item.value}"
    return item if isinstance(item, str) else item[0]


def _check_order(steps: list[GoldStep]) -> None:
    """Raise ValueError for an ``after`` index out of range or a cycle among the steps."""
    for i, step in enumerate(steps):
        bad = [j for j in step.after or [] if not 0 <= j < len(steps) or j == i]
        if bad:
            raise ValueError(
                f"gold_calls[{i}].after: {bad} must name other steps (0..{len(steps) - 1})"
            )
    state = dict.fromkeys(range(len(steps)), 0)  # 0 new, 1 on the path, 2 finished

    def visit(i: int, path: list[int]) -> None:
        state[i] = 1
        for j in steps[i].after or []:
            if state[j] == 1:
                cycle = " -> ".join(map(str, [*path[path.index(j) :], j]))
                raise ValueError(f"gold_calls: the 'after' links form a cycle: steps {cycle}")
            if state[j] == 0:
                visit(j, [*path, j])
        state[i] = 2

    for i in range(len(steps)):
        if state[i] == 0:
            visit(i, [i])


def normalize_text(text: str) -> str:
    """Lower-case and collapse whitespace, for lenient containment checks."""
    return " ".join(text.lower().split())


def output_present(required: str | list[str], answer: str) -> bool:
    """Whether ``answer`` contains ``required`` (or any alternative of it), case-insensitively."""
    options = [required] if isinstance(required, str) else required
    text = normalize_text(answer)
    return any(normalize_text(o) in text for o in options)


@dataclass(frozen=True)
class TaskProblem:
    """One problem found in a task file: where it is and what to fix."""

    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class TaskFileError(ValueError):
    """A task file has invalid lines; ``problems`` lists every one of them."""

    def __init__(self, problems: list[TaskProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} invalid task(s):\n{shown}{more}")


def parse_task_lines(path: Path) -> tuple[list[tuple[int, Task]], list[TaskProblem]]:
    """Parse a JSONL file into (line number, Task) pairs and the problems of the bad lines."""
    tasks: list[tuple[int, Task]] = []
    problems: list[TaskProblem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            task = Task.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(TaskProblem(path, number, "(line)", f"not valid JSON: {exc.msg}"))
            continue
        except ValidationError as exc:
            problems.extend(
                TaskProblem(path, number, _loc(e["loc"]) or "(task)", e["msg"])
                for e in exc.errors()
            )
            continue
        if task.id in seen:
            problems.append(
                TaskProblem(
                    path, number, "id", f"duplicate id {task.id!r} (first on line {seen[task.id]})"
                )
            )
            continue
        seen[task.id] = number
        tasks.append((number, task))
    return tasks, problems


def load_tasks(path: str | Path) -> list[Task]:
    """Load a JSONL task file; raises TaskFileError listing every invalid line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"task file {path} does not exist")
    tasks, problems = parse_task_lines(path)
    if problems:
        raise TaskFileError(problems)
    return [task for _, task in tasks]


def write_tasks(path: str | Path, tasks: Iterable[Task]) -> None:
    """Write tasks as JSONL (one compact JSON object per line, unset defaults omitted)."""
    lines = [t.model_dump_json(exclude_defaults=True) for t in tasks]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def task_json_schema() -> dict[str, Any]:
    """The JSON Schema of one task line (written to ``tasks/schema.json``)."""
    schema = Task.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def choose_task(
    options: Mapping[str, Any], tasks_by_id: Mapping[str, Task], rng: np.random.Generator
) -> Task:
    """The task that ``reset``'s ``options["task_id"]`` names, else one drawn with ``rng``.

    Raises:
        ValueError: an option other than ``task_id``. KeyError: no task with that id.
    """
    unknown = set(options) - {"task_id"}
    if unknown:
        raise ValueError(f"unknown reset option(s) {sorted(unknown)}; supported: 'task_id'")
    if "task_id" not in options:
        tasks = list(tasks_by_id.values())
        return tasks[int(rng.integers(len(tasks)))]
    try:
        return tasks_by_id[options["task_id"]]
    except KeyError:
        sample = ", ".join(list(tasks_by_id)[:5])
        raise KeyError(f"no task {options['task_id']!r} in this env (e.g. {sample}, ...)") from None
