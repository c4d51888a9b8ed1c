"""Check task files: JSON syntax, the Task schema, and the tasks' meaning against their suite.

A task's suite is looked for first in the content root the task file lies in (``<root>/tasks/...``
next to ``<root>/tools/``), then in every content root (:func:`toolgym.content.content_roots`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from toolgym.content import load_suite
from toolgym.gold import linear_extensions
from toolgym.state_compare import compare_states, record_ids
from toolgym.suite import ToolSuite
from toolgym.tasks import Task, TaskProblem, parse_task_lines
from toolgym.tooling import InvalidArguments
from toolgym.users import ScriptedUser


def task_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``.jsonl`` files named by ``paths`` (folders are searched recursively)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(path.rglob("*.jsonl"))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return files


def own_root(file: Path) -> Path | None:
    """The content root a task file lies in, or None.

    That is the folder above the file's nearest ``tasks/`` ancestor, if it has ``tools/`` too.
    """
    for folder in file.resolve().parents:
        if folder.name == "tasks" and (folder.parent / "tools").is_dir():
            return folder.parent
    return None


def validate_files(paths: Iterable[str | Path]) -> tuple[int, list[TaskProblem]]:
    """Validate every task in ``paths``; returns (task lines checked, every problem found)."""
    checked, problems = 0, []
    first_seen: dict[str, str] = {}  # a suite problem's message -> where it was first reported
    for file in task_files(paths):
        tasks, file_problems = parse_task_lines(file)
        checked += len(tasks) + len({p.line for p in file_problems})
        problems += file_problems
        root = own_root(file)
        for line, task in tasks:
            for field, message in task_meaning_problems(task, root):
                if field == "suite":
                    message = _once(message, f"{file}:{line}", first_seen)
                problems.append(TaskProblem(file, line, field, message))
    return checked, problems


def _once(message: str, where: str, first_seen: dict[str, str]) -> str:
    """A suite problem in full where first reported; after that its first clause and that place.

    A file of tasks whose suite is missing repeats the long list of content roots searched once.
    """
    first = first_seen.setdefault(message, where)
    return message if first == where else f"{message.split(': ')[0]} (in full at {first})"


def task_meaning_problems(task: Task, root: Path | None = None) -> list[tuple[str, str]]:
    """Problems that need the suite: unknown tools, invalid gold arguments, gold calls that fail.

    Args:
        task: The task to check.
        root: The content root to look for the task's suite in first (its file's own root).
    """
    try:
        suite = load_suite(task.suite, prefer=root)
    except (LookupError, TypeError, ValueError) as exc:
        if _mcp_suite(task.suite):  # an MCP server's tools: checked when its env is built
            return _user_problems(task)
        return [("suite", str(exc))]
    problems = _argument_problems(task, suite)
    problems += _user_problems(task)
    problems += _state_problems(task, suite)
    if not problems:
        problems += _replay_problems(task, suite)
    return problems


def _mcp_suite(name: str) -> bool:
    """Whether a registered env spec's ``[mcp]`` table serves the suite ``name``.

    Its tools are the server's, listed only by starting it, so ``validate`` checks such tasks'
    schema and user script; tool names, arguments and state are checked when the env is built.
    """
    from toolgym.registry import registered_specs

    return any(s.mcp.active and s.suite == name for s in registered_specs().values())


def _argument_problems(task: Task, suite: ToolSuite) -> list[tuple[str, str]]:
    problems = []
    for i, step in enumerate(task.step_calls):
        for j, call in enumerate(step):
            where = f"gold_calls[{i}][{j}]"
            if not suite.has_tool(call.name):
                problems.append(
                    (f"{where}.name", f"unknown tool {call.name!r} in suite {suite.name!r}")
                )
                continue
            try:
                suite.tool(call.name).check_arguments(call.arguments)
            except InvalidArguments as exc:
                problems.append((f"{where}.arguments", str(exc)))
    return problems


def _user_problems(task: Task) -> list[tuple[str, str]]:
    """The scripted user must reveal every hidden fact to its question and end after the answer."""
    user, revealed = ScriptedUser(), set[int]()
    user.start(task)
    for i, fact in enumerate(task.user.hidden):
        if i not in revealed:
            revealed.update(user.reply(fact.question).revealed)
        if i not in revealed:
            return [
                (f"user.hidden[{i}].question", "the scripted user does not reveal the fact to it")
            ]
    if not user.reply(task.answer()).stop:
        return [
            (
                "gold_answer",
                "the scripted user would keep talking after it (a question or a "
                "request to confirm); rephrase it as a statement",
            )
        ]
    return []


def _state_problems(task: Task, suite: ToolSuite) -> list[tuple[str, str]]:
    problems = []
    for field in ("initial_state", "expected_state"):
        value = getattr(task, field)
        if value is not None:
            try:
                suite.state_type.model_validate(value)
            except ValidationError as exc:
                problems.append(
                    (field, f"not a valid {suite.state_type.__name__}: {exc.errors()[0]['msg']}")
                )
    return problems


def _replay_problems(task: Task, suite: ToolSuite) -> list[tuple[str, str]]:
    """Gold calls must succeed, except in tasks tagged 'error', where at least one must fail.

    Every order of the steps that their ``after`` links allow (up to 24) must end in the same
    state up to generated ids: steps declared independent must be.
    """
    state, failures = suite.initial_state(task), []
    for i, step in enumerate(task.step_calls):
        for j, call in enumerate(step):
            outcome, state = suite.execute(state, call)
            if not outcome.ok:
                failures.append((f"gold_calls[{i}][{j}]", f"fails when replayed: {outcome.error}"))
    if "error" in task.categories:
        problems = (
            [] if failures else [("categories", "tagged 'error' but every gold call succeeds")]
        )
    else:
        problems = failures
    return problems + _order_problems(task, suite, state)


def _order_problems(task: Task, suite: ToolSuite, written: BaseModel) -> list[tuple[str, str]]:
    initial = suite.initial_state(task)
    initial_ids = record_ids(initial.model_dump(mode="json"), suite.generated_ids)
    steps = task.step_calls
    for order in linear_extensions([tuple(s.after or ()) for s in task.steps])[1:]:
        calls = [call for i in order for call in steps[i]]
        _, final = suite.replay(suite.initial_state(task), calls, writes_only=False)
        comparison = compare_states(
            final.model_dump(mode="json"),
            written.model_dump(mode="json"),
            initial_ids,
            suite.generated_ids,
        )
        if not comparison.same:
            return [
                (
                    "gold_calls",
                    f"the steps in the order {order} (allowed by their 'after' links) end in "
                    f"another state than the written order ({'; '.join(comparison.differences)}); "
                    "add the missing 'after' link",
                )
            ]
    return []
