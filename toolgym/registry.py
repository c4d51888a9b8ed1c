"""Env specs (TOML files in ``envs/``) and their registration as Gymnasium environments.

A spec names the suite, task files, tool format, user, rewards and limits::

    id = "toolgym/Calendar-v0"
    suite = "calendar"                  # folder tools/calendar
    format = "hermes"                   # or "glm"

    [tasks]                             # paths relative to the content root's tasks/
    train = ["calendar/train.jsonl"]
    test = ["calendar/test.jsonl"]

    [rewards]                           # weight 0 (or absent) = logged only
    completion = 1.0

    [limits]
    max_turns = 12

After ``import toolgym`` every spec under the content roots is registered:
``gymnasium.make("toolgym/Calendar-v0", split="test")``; the specs of a root added later are
registered by ``register_envs(root)`` (``--content DIR`` on the command line). Keyword arguments
of ``make`` override spec fields (``format``, ``rewards``, ``limits``, ``halt_on_malformed``,
``generated``, ...). Every field, its type and default: the README's "Env spec reference"
(rendered from these models by :mod:`toolgym.spec_docs`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import gymnasium as gym
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from toolgym.content import add_content_root, content_roots, load_suite
from toolgym.env import DEFAULT_REWARDS, ToolEnv
from toolgym.formats import FormatName
from toolgym.generation import generate_within
from toolgym.limits import Limits
from toolgym.mcp.spec import MCPSpec
from toolgym.suite import ToolSuite
from toolgym.tasks import Category, Split, Task, load_tasks
from toolgym.users.config import UserConfig


class Generated(BaseModel):
    """Procedurally generated tasks added to each split (from the suite's generator)."""

    model_config = ConfigDict(extra="forbid")

    train: int = Field(default=0, ge=0, description="Generated tasks added to the train split.")
    test: int = Field(default=0, ge=0, description="Generated tasks added to the test split.")
    seed: int = Field(default=0, ge=0, description="Generator seed.")
    categories: list[Category] = Field(
        default_factory=list,
        description="Keep only generated tasks whose categories all lie in this list "
        "(['single'] = one-call lookups, an easy curriculum); empty keeps every task.",
    )


class EnvSpec(BaseModel):
    """One environment: which suite, tasks, format, user, rewards and limits."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[\w.-]+/[\w.-]+-v\d+$", description="Gymnasium id 'ns/Name-vN'.")
    suite: str = Field(description="Tool suite folder name under tools/.")
    description: str = Field(default="", description="One line shown by `toolgym list`.")
    tasks: dict[Split, list[str]] = Field(description="Task files per split, relative to tasks/.")
    generated: Generated = Field(
        default_factory=Generated,
        description="Procedurally generated tasks added to each split: a [generated] table.",
    )
    tools: list[str] = Field(
        default_factory=list,
        description="Offer only these tools of the suite (a curriculum's subset: a shorter "
        "prompt, and a call to any other tool is an unknown tool); empty offers them all.",
    )
    instructions: str | None = Field(
        default=None,
        description="System-prompt text replacing the suite's (a subset's own, naming only the "
        "tools it offers); unset keeps the suite's.",
    )
    format: FormatName = Field(
        default="hermes",
        description="How tools are shown and calls written: hermes (JSON in `<tool_call>`), glm "
        "(GLM-4.5's XML) or pythonic (a Python list of calls, `[f(a=1)]`).",
    )
    user: UserConfig = Field(
        default_factory=UserConfig,
        description="User simulator: a [user] table, or just its kind "
        "(user = 'llm' is short for [user] kind = 'llm').",
    )
    rewards: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_REWARDS),
        description="Reward weights by component name: a [rewards] table; every component is "
        "computed and logged, the unnamed ones with weight 0.",
    )
    limits: Limits = Field(
        default_factory=Limits, description="When an episode is cut short: a [limits] table."
    )
    halt_on_malformed: bool = Field(
        default=False,
        description="GLM-4.5 rule: a malformed tool call ends the episode with reward 0.",
    )
    mcp: MCPSpec = Field(
        default_factory=MCPSpec,
        description="An MCP server whose tools are the suite (then `suite` only names the tasks' "
        "suite; no tools/ folder): an [mcp] table with command or url.",
    )
    root: Path | None = Field(default=None, exclude=True, description="Content root (set on load).")

    @field_validator("user", mode="before")
    @classmethod
    def _user_kind(cls, value: Any) -> Any:
        """``user = "llm"`` is short for ``[user] kind = "llm"``."""
        return {"kind": value} if isinstance(value, str) else value


def load_spec(path: str | Path) -> EnvSpec:
    """Read and validate an env spec; errors name the file and the field to fix."""
    path = Path(path).resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    try:
        spec = EnvSpec.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: invalid env spec:\n{problems}") from None
    return spec.model_copy(update={"root": path.parent.parent})


def split_tasks(spec: EnvSpec, split: Split) -> list[Task]:
    """The tasks of one split: the listed files, then any generated tasks."""
    assert spec.root is not None
    tasks = [
        t for name in spec.tasks.get(split, []) for t in load_tasks(spec.root / "tasks" / name)
    ]
    count = getattr(spec.generated, split)
    if count:
        suite = load_suite(spec.suite, prefer=spec.root)
        if suite.generate_tasks is None:
            raise ValueError(f"{spec.id}: suite {spec.suite!r} has no task generator")
        made = spec.generated
        key = (spec.suite, str(spec.root), split, count, made.seed, tuple(sorted(made.categories)))
        if key not in _GENERATED:  # every env of a training run needs the same list: make it once
            _GENERATED[key] = generate_within(
                suite.generate_tasks, spec.suite, split, count, made.seed, made.categories
            )
        tasks += _GENERATED[key]
    return tasks


_GENERATED: dict[tuple[Any, ...], list[Task]] = {}


def make_env(spec: str | Path | EnvSpec, split: Split = "train", **overrides: Any) -> ToolEnv:
    """Build the ToolEnv of a spec (a path or an EnvSpec) for one split, with field overrides."""
    base = spec if isinstance(spec, EnvSpec) else load_spec(spec)
    tasks: list[Task] | None = overrides.pop("tasks", None)
    render_mode = overrides.pop("render_mode", None)
    user = overrides.pop("user", None)
    judge = overrides.pop("judge", None)  # an LLMJudge object, not a spec field
    if user is not None and isinstance(user, str | dict | UserConfig):
        overrides["user"], user = user, None  # a config: validated with the spec below
    # else: a ready UserSimulator object (e.g. an LLMUser), used as given
    if overrides:
        merged = base.model_dump(exclude={"root"}) | overrides
        try:
            base = EnvSpec.model_validate(merged).model_copy(update={"root": base.root})
        except ValidationError as exc:
            raise ValueError(f"{base.id}: invalid override(s): {exc}") from None
    chosen = tasks if tasks is not None else split_tasks(base, split)
    options: dict[str, Any] = {
        "format": base.format,
        "rewards": base.rewards,
        "limits": base.limits,
        "halt_on_malformed": base.halt_on_malformed,
        "render_mode": render_mode,
        "user": user if user is not None else base.user.build(),
        "judge": judge,
    }
    if base.mcp.active:  # the tools are an MCP server's ([mcp] table), not a tools/ folder's
        if base.tools:
            raise ValueError(f"{base.id}: tools: a subset of an [mcp] server's tools is not "
                             "supported; remove the tools list or the [mcp] table")  # fmt: skip
        if base.instructions is not None:
            raise ValueError(f"{base.id}: instructions: an [mcp] env takes its system prompt "
                             "from [mcp] instructions; move the text there")  # fmt: skip
        from toolgym.mcp.env import make_spec_env

        return make_spec_env(base.mcp, base.root, base.suite, chosen, **options)
    suite = load_suite(base.suite, prefer=base.root)
    if base.tools or base.instructions is not None:
        suite = _offered(suite, base, chosen)
    return ToolEnv(suite, chosen, **options)


def _offered(suite: ToolSuite[Any], spec: EnvSpec, tasks: list[Task]) -> ToolSuite[Any]:
    """The spec's subset of the suite's tools, with its instructions.

    Every task's gold calls must use only the offered tools, and a subset that keeps the suite's
    instructions must not be told of a tool it does not offer.
    """
    try:
        offered = suite.only(spec.tools or [t.name for t in suite.tools], spec.instructions)
    except ValueError as exc:
        raise ValueError(f"{spec.id}: tools: {exc}") from None
    if spec.instructions is None:
        named = _unoffered_tools_named(suite.instructions, suite, offered)
        if named:
            raise ValueError(f"{spec.id}: tools: the suite's instructions name tool(s) this env "
                             f"does not offer ({', '.join(named)}); write the env's own "
                             "instructions, or offer them in tools")  # fmt: skip
    offered_names = {t.name for t in offered.tools}
    needs = ((t.id, sorted({c.name for c in t.flat_gold_calls} - offered_names)) for t in tasks)
    missing = {task: names for task, names in needs if names}
    if missing:
        shown = ", ".join(f"{task} calls {names}" for task, names in list(missing.items())[:3])
        raise ValueError(f"{spec.id}: tools: {len(missing)} task(s) need a tool the spec does "
                         f"not offer ({shown}); add it to tools or drop those tasks")  # fmt: skip
    return offered


def _unoffered_tools_named(text: str, suite: ToolSuite[Any], offered: ToolSuite[Any]) -> list[str]:
    """The tools of ``suite`` that ``offered`` leaves out and ``text`` names (as whole words)."""
    left_out = [t.name for t in suite.tools if not offered.has_tool(t.name)]
    return [name for name in left_out if re.search(rf"\b{re.escape(name)}\b", text)]


_registered: dict[str, Path] = {}


def register_envs(root: str | Path | None = None) -> list[str]:
    """Register every ``envs/*.toml`` under ``root`` (or under all content roots) with Gymnasium.

    A user's own content root is added to the search path first, so its suites and tasks
    resolve. Returns the ids registered by this call (none for a root registered before).

    Raises:
        FileNotFoundError, NotADirectoryError, ValueError: ``root`` is no content root (see
            :func:`toolgym.content.check_content_root`).
        ValueError: a spec is invalid, or ``root`` gives an id that another file registered.
    """
    roots = [add_content_root(root)] if root is not None else content_roots()
    ids = []
    for folder in roots:
        for path in sorted((folder / "envs").glob("*.toml")):
            spec = load_spec(path)
            owner = _registered.get(spec.id)
            if owner == path.resolve():
                continue
            if owner is not None:
                if root is None:
                    continue  # an earlier (user) root already provides this id
                raise ValueError(f"{path}: env id {spec.id!r} is already registered by {owner}")
            gym.register(
                id=spec.id, entry_point="toolgym.registry:make_env", kwargs={"spec": str(path)}
            )
            _registered[spec.id] = path.resolve()
            ids.append(spec.id)
    return ids


def registered_specs() -> dict[str, EnvSpec]:
    """The spec of every env registered by toolgym, by id."""
    return {env_id: load_spec(path) for env_id, path in sorted(_registered.items())}
