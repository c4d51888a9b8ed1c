"""Building blocks for task templates: the world a template looks at, and the draft it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from toolgym import HiddenFact, ToolCall, ToolKind
from toolgym.tasks import Category

from .catalog import TOOLS
from .state import Workspace
from .templates import WorldParams
from .world import make_state, world_params

_BY_NAME = {t.name: t for t in TOOLS}

CANT = ["can't", "cannot", "can not", "unable", "not able", "don't have"]
MISSING = [
    "doesn't exist",
    "does not exist",
    "no file",
    "not found",
    "couldn't find",
    "could not find",
    "no such",
    "isn't there",
    "is not there",
]
OUTSIDE = ["absolute", "outside", "escape", "not allowed", "relative"]


def call(tool_name: str, **arguments: Any) -> ToolCall:
    """A ToolCall (the tool name is positional so that arguments may be called ``name``)."""
    return ToolCall(name=tool_name, arguments=arguments)


@dataclass
class Draft:
    """What a template produces: everything of a Task but its id and world seed."""

    instruction: str
    gold_calls: list[list[ToolCall]]
    required_outputs: list[str | list[str]]
    gold_answer: str
    categories: list[Category]
    hidden: list[HiddenFact] = field(default_factory=list)


class World:
    """A seeded workspace a template reasons about, with a way to run READ tools on it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.params: WorldParams = world_params(seed)

    @cached_property
    def state(self) -> Workspace:
        """The initial workspace (built on first use: no-call templates never need it)."""
        return make_state(self.seed)

    @property
    def pkg(self) -> str:
        """Package folder, such as 'src/weatherlog'."""
        return self.params.package_dir

    def read(self, tool_name: str, **arguments: Any) -> Any:
        """Result of a READ tool on the initial state (raises ToolError as the tool does)."""
        tool = _BY_NAME[tool_name]
        assert tool.kind is ToolKind.READ, f"{tool_name} is not a READ tool"
        return tool.run(self.state, arguments)

    def files(self, under: str = "") -> list[str]:
        """Sorted file paths under a folder."""
        return self.state.files_under(under)

    def lines(self, path: str) -> int:
        """Number of lines of a file."""
        return int(self.read("read_file", path=path)["total_lines"])
