"""A tool suite: a pydantic state model, its tools, and a seeded world to start from."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, SupportsIndex, TypeVar

from pydantic import BaseModel

from toolgym.argument_text import argument_problems, name_problem
from toolgym.canonical import canonical_json
from toolgym.pickling import import_suite_folder
from toolgym.state_compare import GeneratedIds
from toolgym.suite_folders import folder_of_suite
from toolgym.tooling import InvalidArguments, Tool, ToolCall, ToolError, ToolKind

if TYPE_CHECKING:
    from toolgym.tasks import Task

S = TypeVar("S", bound=BaseModel)


def state_hash(state: BaseModel) -> str:
    """SHA-256 of the state's canonical JSON; stable across processes and Python runs.

    Never raises on text: a lone surrogate (which the engine refuses in arguments, but a tool or
    an initial state might still hold) is hashed by its code point (``surrogatepass``).
    """
    text = canonical_json(state.model_dump(mode="json"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


ErrorKind = Literal["unknown_tool", "invalid_arguments", "tool_error", "tool_crash"]
logger = logging.getLogger("toolgym")


def _crash_message(tool: Tool, exc: Exception) -> str:
    return (
        f"internal error in tool {tool.name!r} ({type(exc).__name__}: {exc}); try other arguments"
    )


def _unknown(suite: ToolSuite[Any], call: ToolCall) -> ToolError:
    known = ", ".join(t.name for t in suite.tools)
    problem = name_problem(call.name)
    shown = f"(a name that {problem})" if problem else repr(call.name)
    return ToolError(f"unknown tool {shown}; available tools: {known}")


def _check_strings(tool: Tool, arguments: Any) -> None:
    """Refuse strings no tool should see (:mod:`toolgym.argument_text`), before the schema."""
    if isinstance(arguments, Mapping):
        problems = argument_problems(arguments, tool.parameters)
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise InvalidArguments(f"{tool.name}: " + "; ".join(problems[:3]) + more)


@dataclass(frozen=True)
class CallOutcome:
    """What executing one call produced: a JSON-able ``result`` or an ``error`` message.

    Attributes:
        call: The call as made.
        result: The tool's JSON-able return value (None on error).
        error: The error message shown to the agent, or None.
        error_kind: Why it failed: unknown tool, invalid arguments, a domain ToolError, or a
            crash (any other exception: a bug in the tool, logged and counted).
        kind: READ or WRITE (None for an unknown tool).
        normalized: The call with canonical arguments (defaults filled) once they validated.
        validate_s: Seconds spent checking the arguments.
        execute_s: Seconds spent running the tool (copy of the state included for WRITE tools).
    """

    call: ToolCall
    result: Any = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    kind: ToolKind | None = None
    normalized: ToolCall | None = None
    validate_s: float = 0.0
    execute_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the call ran without a ToolError or invalid arguments."""
        return self.error is None


@dataclass(frozen=True)
class ToolSuite(Generic[S]):
    """State model + tools + seed data: everything an environment needs to simulate a service.

    Attributes:
        name: Suite name, e.g. ``"calendar"``; tasks refer to it.
        state_type: The pydantic model holding the mutable world.
        tools: The suite's tools.
        make_state: ``seed -> state``: the seeded world a task starts from (seed 0 is the default).
        instructions: System-prompt text telling the agent what it is and how to behave.
        generate_tasks: Optional procedural generator ``(split, n, seed) -> Iterable[Task]``;
            train and test outputs must be disjoint for every seed. The bundled suites pass a
            :class:`~toolgym.generation.LazyGenerator` naming their ``generate`` package, which
            is imported only when generated tasks are asked for.
        generated_ids: The ids the tools generate (event ids, booking ids), so that completion
            compares states up to them (:mod:`toolgym.state_compare`). Default: none.
        full: The suite this one offers a subset of (:meth:`only`), or None.
    """

    name: str
    state_type: type[S]
    tools: tuple[Tool, ...]
    make_state: Callable[[int], S]
    instructions: str = ""
    generate_tasks: Callable[[str, int, int], Iterable[Task]] | None = None
    generated_ids: GeneratedIds = field(default_factory=GeneratedIds)
    full: ToolSuite[S] | None = field(default=None, repr=False, compare=False)
    _by_name: dict[str, Tool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {t.name: t for t in self.tools}
        if len(by_name) != len(self.tools):
            raise ValueError(f"suite {self.name!r}: two tools share a name")
        object.__setattr__(self, "_by_name", by_name)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """Pickle a suite loaded from a folder as that folder, any other one field by field.

        Unpickling imports the folder where the process has not (:mod:`toolgym.pickling`). A
        subset of a folder's suite (:meth:`only`) pickles as that folder, its tool names and its
        own instructions, if any.
        """
        folder = folder_of_suite(self.full or self)
        if folder is not None and self.full is not None:
            names = tuple(t.name for t in self.tools)
            own = None if self.instructions == self.full.instructions else self.instructions
            return _folder_suite_only, (folder, names, own)
        if folder is not None:
            return import_suite_folder, (folder,)
        return super().__reduce_ex__(protocol)

    def only(self, names: Sequence[str], instructions: str | None = None) -> ToolSuite[S]:
        """This suite offering only the tools ``names`` (kept in declaration order).

        A curriculum's subset: the prompt shows only these tools, and a call to any other is an
        unknown tool. State, world and generator stay the suite's own; ``instructions`` replaces
        the suite's system-prompt text (for one that names only the offered tools).

        Raises:
            ValueError: a name is not one of the suite's tools (the message lists them).
        """
        unknown = [name for name in names if name not in self._by_name]
        if unknown:
            known = ", ".join(t.name for t in self.tools)
            raise ValueError(
                f"suite {self.name!r} has no tool(s) {unknown}; available tools: {known}"
            )
        if not names:
            raise ValueError(f"suite {self.name!r}: name at least one tool to offer")
        wanted = set(names)
        kept = tuple(t for t in self.tools if t.name in wanted)
        text = self.instructions if instructions is None else instructions
        return replace(self, tools=kept, instructions=text, full=self.full or self)

    def tool(self, name: str) -> Tool:
        """The tool called ``name``; raises ToolError listing the available tools if unknown."""
        if name not in self._by_name:
            raise _unknown(self, ToolCall(name=name))
        return self._by_name[name]

    def has_tool(self, name: str) -> bool:
        """Whether the suite has a tool called ``name``."""
        return name in self._by_name

    def specs(self) -> list[dict[str, Any]]:
        """All tools in OpenAI function-calling form, in declaration order."""
        return [t.spec() for t in self.tools]

    def initial_state(self, task: Task) -> S:
        """A fresh state for ``task``: its inline ``initial_state`` or the world of its seed."""
        if task.initial_state is not None:
            return self.state_type.model_validate(task.initial_state)
        return self.make_state(task.world_seed)

    def execute(self, state: S, call: ToolCall) -> tuple[CallOutcome, S]:
        """Run one call transactionally: returns the outcome and the state after it.

        READ tools run on ``state`` itself. WRITE tools run on a deep copy that replaces the state
        only on success, so a failed or invalid call never leaves a half-applied change. Suites with
        a large state can make that copy cheap by defining ``__deepcopy__`` on the state model
        (see ``tools/calendar/state.py``). Any exception other than ToolError is caught as a
        ``tool_crash`` outcome (logged): untrusted model output never crashes an episode. Strings
        in the arguments are checked first (:mod:`toolgym.argument_text`: valid Unicode, no
        control characters, a length cap), so no tool ever stores what cannot be hashed or shown.
        """
        if not self.has_tool(call.name):
            return CallOutcome(
                call, error=str(_unknown(self, call)), error_kind="unknown_tool"
            ), state
        tool = self._by_name[call.name]
        start = time.perf_counter()
        try:
            _check_strings(tool, call.arguments)
            args = tool.check_arguments(call.arguments)
        except Exception as exc:  # InvalidArguments, or a custom validator raising something else
            message = str(exc) if isinstance(exc, InvalidArguments) else _crash_message(tool, exc)
            failed = CallOutcome(
                call, error=message, error_kind="invalid_arguments", kind=tool.kind
            )
            return replace(failed, validate_s=time.perf_counter() - start), state
        checked = time.perf_counter()
        outcome, after = self._invoke(tool, state, call, args)
        timing = {"validate_s": checked - start, "execute_s": time.perf_counter() - checked}
        normalized = ToolCall(name=call.name, arguments=args.model_dump(mode="json"))
        return replace(outcome, normalized=normalized, **timing), after  # type: ignore[arg-type]

    def _invoke(
        self, tool: Tool, state: S, call: ToolCall, args: BaseModel
    ) -> tuple[CallOutcome, S]:
        target = state.model_copy(deep=True) if tool.kind is ToolKind.WRITE else state
        try:
            result = tool.invoke(target, args)
        except ToolError as exc:
            return CallOutcome(call, error=str(exc), error_kind="tool_error", kind=tool.kind), state
        except Exception as exc:  # a bug in the tool
            logger.warning("tool %r crashed on %s", tool.name, call.arguments, exc_info=True)
            crash = CallOutcome(
                call, error=_crash_message(tool, exc), error_kind="tool_crash", kind=tool.kind
            )
            return crash, state
        return CallOutcome(call, result=result, kind=tool.kind), target

    def replay(
        self, state: S, calls: Iterable[ToolCall], *, writes_only: bool
    ) -> tuple[list[CallOutcome], S]:
        """Execute ``calls`` in order (only the WRITE ones if ``writes_only``).

        Returns every outcome and the final state.
        """
        outcomes = []
        for call in calls:
            if (
                writes_only
                and self.has_tool(call.name)
                and self.tool(call.name).kind is not ToolKind.WRITE
            ):
                continue
            outcome, state = self.execute(state, call)
            outcomes.append(outcome)
        return outcomes, state

    def normalize_call(self, call: ToolCall) -> ToolCall:
        """The call with canonical arguments (defaults filled), or unchanged if it is invalid."""
        if not self.has_tool(call.name):
            return call
        try:
            return ToolCall(
                name=call.name, arguments=self.tool(call.name).normalize(call.arguments)
            )
        except (InvalidArguments, ValueError):
            return call


def _folder_suite_only(
    folder: str, names: tuple[str, ...], instructions: str | None = None
) -> ToolSuite[Any]:
    """Unpickle a subset of a folder's suite: the folder's suite, then :meth:`ToolSuite.only`."""
    suite: ToolSuite[Any] = import_suite_folder(folder)
    return suite.only(names, instructions)


def arguments_key(call: ToolCall) -> str:
    """Hashable canonical form of a call (name + canonical JSON arguments)."""
    return call.name + canonical_json(call.arguments)


def same_calls(predicted: Sequence[ToolCall], gold: Sequence[ToolCall]) -> bool:
    """Exact match of two turns' calls: names and canonical arguments, compared as multisets."""
    return Counter(map(arguments_key, predicted)) == Counter(map(arguments_key, gold))
