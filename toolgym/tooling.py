"""Typed tools: a Python function over a suite's state becomes a JSON-Schema-described tool.

A tool is a plain function whose first parameter is the suite's state (a pydantic model) and whose
other parameters are the tool's arguments. Their type hints and the Google docstring *are* the
schema the agent sees::

    @tool(kind=ToolKind.WRITE)
    def book_flight(db: TravelDB, flight_id: str, cabin: Literal["economy", "business"]) -> Booking:
        \"\"\"Book one seat on a flight.

Args:
            flight_id: Flight number such as 'UA100'.
            cabin: Cabin class.
        \"\"\"

Arguments are checked with ``jsonschema`` against that schema before the function runs, then
converted to Python values (dates, nested models) by pydantic.
"""

from __future__ import annotations

import copy
import inspect
import pickle
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar, get_type_hints, overload

import docstring_parser
import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import to_jsonable_python

from toolgym.pickling import find_attribute, load_by_reference
from toolgym.suite_folders import folder_of_module


class ToolKind(StrEnum):
    """Whether a tool only reads the state or may change it (WRITE calls define task success)."""

    READ = "read"
    WRITE = "write"


class ToolError(Exception):
    """A domain failure raised by a tool (unknown flight, double booking, ...).

    The environment shows the message to the agent as the tool's result; the state is unchanged.
    """


class InvalidArguments(ToolError):
    """The arguments do not satisfy the tool's JSON Schema; the message names each bad argument."""


class ToolCall(BaseModel):
    """One call of a named tool with JSON arguments, as parsed from the agent or written in a task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Tool name.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="JSON arguments by name.")


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, eq=False)
class Tool:
    """A callable tool with its schema. Build one with the :func:`tool` decorator."""

    name: str
    kind: ToolKind
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]
    parameters: dict[str, Any]
    _validator: jsonschema.protocols.Validator = field(repr=False)

    def spec(self) -> dict[str, Any]:
        """The tool in OpenAI function-calling form: ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
            },
        }

    def check_arguments(self, arguments: Any) -> BaseModel:
        """Validate JSON arguments against the schema and return them as the typed args model.

        Raises:
            InvalidArguments: naming every argument that is missing, unknown or of the wrong type.
        """
        if not isinstance(arguments, Mapping):
            raise InvalidArguments(
                f"{self.name}: arguments must be a JSON object, got {type(arguments).__name__}"
            )
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            raise InvalidArguments(f"{self.name}: " + "; ".join(_describe(e) for e in errors))
        try:
            return self.args_model.model_validate(arguments)
        except ValidationError as exc:
            problems = [
                f"argument '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors()
            ]
            raise InvalidArguments(f"{self.name}: " + "; ".join(problems)) from None

    def normalize(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Canonical JSON form of valid arguments: defaults filled in, dates as ISO strings."""
        return self.args_model.model_validate(arguments).model_dump(mode="json")

    def invoke(self, state: BaseModel, args: BaseModel) -> Any:
        """Call the tool on ``state`` with checked ``args``; returns its JSON-able result."""
        values = {name: getattr(args, name) for name in type(args).model_fields}
        return to_jsonable_python(self.fn(state, **values))

    def run(self, state: BaseModel, arguments: Mapping[str, Any]) -> Any:
        """Validate ``arguments``, call the tool on ``state`` and return its JSON-able result."""
        return self.invoke(state, self.check_arguments(arguments))

    def __call__(self, state: BaseModel, **arguments: Any) -> Any:
        """Call the underlying function directly (no validation), as in plain Python."""
        return self.fn(state, **arguments)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and deep-copy) a decorated tool by reference, any other one by its function.

        ``@tool`` replaces the module's function by this Tool, so ``fn`` cannot be pickled by name
        (pickle finds the Tool there instead). A tool that sits at its function's module path is
        pickled as that path and looked up again on load, importing its suite folder first where
        the loading process has not (:mod:`toolgym.pickling`). Any other tool is rebuilt from
        ``fn``, which then must be picklable itself (a module-level function left in place).
        """
        module, qualname = self.fn.__module__, self.fn.__qualname__
        if find_attribute(sys.modules.get(module), qualname) is self:
            return _tool_by_reference, (module, qualname, self.name, folder_of_module(module))
        return _build_tool, (self.fn, self.kind, self.name)


def _tool_by_reference(module: str, qualname: str, name: str, folder: str | None) -> Tool:
    """The tool ``name`` at ``module.qualname`` (unpickling; see :meth:`Tool.__reduce__`).

    Raises:
        pickle.UnpicklingError: something other than that tool is found there.
    """
    found = load_by_reference(module, qualname, folder)
    if not isinstance(found, Tool) or found.name != name:
        raise pickle.UnpicklingError(
            f"cannot unpickle tool {name!r}: {module}.{qualname} is a {type(found).__name__}"
            + (f" named {found.name!r}" if isinstance(found, Tool) else "")
        )
    return found


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.path)
    if error.validator == "required":
        return f"missing required argument {error.message.split(' is a required')[0]}"
    if error.validator == "additionalProperties" and not where:
        return f"unknown argument: {error.message.replace('Additional properties are not allowed ', '')}"
    return f"argument '{where}': {error.message}" if where else error.message


@overload
def tool(fn: F, /) -> Tool: ...
@overload
def tool(*, kind: ToolKind = ToolKind.READ, name: str | None = None) -> Callable[[F], Tool]: ...
def tool(
    fn: F | None = None, /, *, kind: ToolKind = ToolKind.READ, name: str | None = None
) -> Tool | Callable[[F], Tool]:
    """Turn a typed function over a suite's state into a :class:`Tool`.

    Args:
        fn: The function (when used as bare ``@tool``). Its first parameter receives the state.
        kind: READ (default) or WRITE.
        name: Tool name shown to the agent; defaults to the function name.
    """

    def build(f: F) -> Tool:
        return _build_tool(f, kind, name or f.__name__)

    return build(fn) if fn is not None else build


def _build_tool(fn: Callable[..., Any], kind: ToolKind, name: str) -> Tool:
    doc = docstring_parser.parse(inspect.getdoc(fn) or "")
    if not doc.short_description:
        raise TypeError(f"tool {name!r} needs a docstring: its first line is the tool description")
    arg_docs = {p.arg_name: " ".join((p.description or "").split()) for p in doc.params}
    hints = get_type_hints(fn, include_extras=True)
    params = list(inspect.signature(fn).parameters.values())
    if not params:
        raise TypeError(f"tool {name!r} must take the suite state as its first parameter")
    fields: dict[str, Any] = {}
    for p in params[1:]:
        if p.name not in hints:
            raise TypeError(f"tool {name!r}: parameter {p.name!r} needs a type hint")
        if p.name not in arg_docs:
            raise TypeError(f"tool {name!r}: parameter {p.name!r} is not described under Args:")
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hints[p.name], Field(default, description=arg_docs[p.name]))
    model = create_model(  # type: ignore[call-overload]
        f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
    )
    parameters = _clean_schema(model.model_json_schema())
    validator_cls = jsonschema.validators.validator_for(parameters, jsonschema.Draft202012Validator)
    validator = validator_cls(parameters, format_checker=validator_cls.FORMAT_CHECKER)
    description = doc.short_description
    if doc.long_description:
        description += "\n" + doc.long_description
    return Tool(name, kind, description, fn, model, parameters, validator)


def _clean_schema(schema: Any) -> Any:
    """Drop pydantic's auto-generated ``title`` keys, which only add prompt tokens."""
    if isinstance(schema, dict):
        return {
            k: _clean_schema(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_clean_schema(v) for v in schema]
    return schema
