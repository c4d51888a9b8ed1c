"""Building blocks of files templates: the world a template looks at, facts and calls."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

from toolgym import ToolCall, ToolKind
from toolgym.answers import AnswerText, Claim, Fact, normalize

from ..catalog import TOOLS
from ..contents import WorldParams
from ..state import Workspace
from ..world import make_state, world_params

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

SUCCESS = Claim(claim="success")
"""Forbidden on error tasks (the generator adds it): the failed action must not be claimed."""
NOT_FOUND = Claim(claim="not_found")
"""Forbidden on answerable look-ups: the answer must not give up."""


def text(
    value: str,
    *alternatives: str,
    subject: list[str] | None = None,
    distractors: tuple[str, ...] = (),
) -> Fact:
    """A text fact (whole words, case-insensitive), optionally bound to a subject."""
    others = [a for a in dict.fromkeys(alternatives) if a != value]
    wrong = [d for d in dict.fromkeys(distractors) if d != value and d not in others]
    return Fact(
        value=value, alternatives=others, subject=subject, distractors=wrong if subject else []
    )


def number(value: int | float, subject: list[str] | None = None) -> Fact:
    """A number fact ("12", "12.0", "twelve", hedged and rounded), optionally bound."""
    return Fact(value=value, kind="number", subject=subject)


def path_spellings(path: str, others: Iterable[str]) -> list[str]:
    """``path`` and its shorter tails ('pkg/dates.py', 'dates.py') an answer may name it by.

    A tail is left out when the checker would find it inside another path of ``others`` (the
    world's files and folders): 'dates.py' occurs in 'tests/test_dates.py' ('_' is a word
    boundary), 'README.md' in 'backup/README.md'.
    """
    names = path.split("/")
    tails = ["/".join(names[i:]) for i in range(1, len(names))]
    texts = [AnswerText(o) for o in others if o != path]
    return [path] + [t for t in tails if not any(v.phrases((normalize(t),)) for v in texts)]


def path_fact(path: str, others: Iterable[str]) -> Fact:
    """A path fact: the path, or a tail of it that names no other path of ``others``."""
    return text(*path_spellings(path, others))


OUTSIDE_FACT = text(
    "outside", "absolute", "escape", "escapes", "not allowed", "relative", "not permitted"
)
MISSING_FACT = text(
    "does not exist",
    *MISSING,
    "can't find",
    "cannot find",
    "didn't find",
    "there is no",
    "there's no",
    "missing",
)
EXISTS_FACT = text(
    "already exists",
    "exists already",
    "already a file",
    "already there",
    "there is already",
    "there's already",
)


def call(tool_name: str, **arguments: Any) -> ToolCall:
    """A ToolCall (the tool name is positional so that arguments may be called ``name``)."""
    return ToolCall(name=tool_name, arguments=arguments)


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

    def paths(self) -> list[str]:
        """Every file and folder of the initial workspace."""
        return [*self.state.files, *self.state.dirs]

    def files(self, under: str = "") -> list[str]:
        """Sorted file paths under a folder."""
        return self.state.files_under(under)

    def lines(self, path: str) -> int:
        """Number of lines of a file."""
        return int(self.read("read_file", path=path)["total_lines"])
