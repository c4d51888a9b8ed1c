"""Pythonic format: the message is a Python list of calls, ``[search(query='x', k=3), ...]``.

The syntax BFCL asks of its prompting (non-FC) models, and that Llama 3.2 and vLLM's
``pythonic`` tool parser use. Arguments are keyword arguments with literal values: strings,
numbers, ``True``/``False``/``None``, and lists, tuples and dicts (string keys) of those. Nothing
is evaluated: the list is read with :func:`ast.parse` and each value taken from the tree, so a
name, a call or an operator in a value is an error, not code that runs.

A call list starts a line (after an optional ``<think>`` block; the message may be one Markdown
code fence around it) and runs to its closing ``]``; several lists in a message are read in order,
and the text outside them is the reply's content. A line that does not open with ``[`` followed
by a name and ``(`` makes no call (``[]`` and prose mentioning ``[f(x)]`` mid-line are content). Tool and
argument names must be Python identifiers that are not keywords (``math.sqrt`` is fine, a tool
named ``get-weather`` cannot be written in this format).
"""

from __future__ import annotations

import ast
import io
import json
import keyword
import re
import tokenize
from collections.abc import Mapping, Sequence
from typing import Any, cast

from toolgym.formats.base import (
    DEFAULT_PARSE_LIMITS,
    ParsedTurn,
    ParseLimits,
    split_reasoning,
    tools_json_lines,
)
from toolgym.tooling import ToolCall

INSTRUCTIONS = """# Tools

You may call one or more functions to assist with the user query.

The functions, one JSON object each:
{tools}

To call functions, answer with nothing but a Python list of calls with keyword arguments:
[function_name(argument_name=value, ...), other_function(argument_name=value)]
Values are Python literals: 'text', 3, 2.5, True, None, [lists] and {{'key': dicts}}.
Several calls in one message run in order. A message without a call list is your reply to the user."""

# A call list opens with "[" then a (dotted) name then "("; in a message, at the start of a line.
_CALL_LIST_START = re.compile(r"\[\s*[A-Za-z_][\w.]*\s*\(")
_LINE_CALL_LIST = re.compile(r"(?m)^[ \t]*(?=\[\s*[A-Za-z_][\w.]*\s*\()")
_FENCE = re.compile(r"^```[A-Za-z]*\n(.*?)\n?```\s*$", re.DOTALL)


class PythonicFormat:
    """A Python list of keyword-argument calls opens the message; ``<think>`` allowed first."""

    name = "pythonic"

    def render_tools(self, specs: Sequence[Mapping[str, Any]]) -> str:
        """The tools block: instructions and one JSON object per tool."""
        return INSTRUCTIONS.format(tools=tools_json_lines(specs))

    def render_calls(self, calls: Sequence[ToolCall]) -> str:
        """``[name(key=value, ...), ...]`` with each value as a Python literal."""
        return "[" + ", ".join(_render_call(c) for c in calls) + "]"

    def render_malformed(self, name: Any, arguments: str) -> str:
        """An unreadable call as a list item :meth:`parse` reports (a positional argument)."""
        body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
        return f"[unreadable_tool_call({body!r})]"

    def parse(
        self,
        text: str,
        specs: Mapping[str, Mapping[str, Any]],
        limits: ParseLimits = DEFAULT_PARSE_LIMITS,
    ) -> ParsedTurn:
        """Read reasoning, the call lists and the content; never raises (errors are listed)."""
        reasoning, rest, errors = split_reasoning(text)
        fenced = _FENCE.match(rest.strip())
        if fenced and _CALL_LIST_START.match(fenced.group(1).strip()):
            rest = fenced.group(1).strip()
        starts = [m.end() for m in _LINE_CALL_LIST.finditer(rest)]
        if not starts:
            return ParsedTurn(rest.strip(), reasoning, errors=tuple(errors))
        limit = limits.max_calls * limits.max_call_chars
        if len(rest) > limit:
            too_long = f"the message has {len(rest)} characters; at most {limit} are allowed"
            return ParsedTurn("", errors=(too_long,), refused=True)
        calls: list[ToolCall] = []
        content: list[str] = []
        position = 0
        for start in starts:
            if start < position:  # inside the list read before
                continue
            content.append(rest[position:start])
            items, end, problem = _read_list(rest[start:])
            position = start + end
            if problem is not None:
                errors.append(f"call list at character {start}: {problem}")
                continue
            if len(calls) + len(items) > limits.max_calls:
                problem = f"over {limits.max_calls} tool calls in one message"
                return ParsedTurn("", errors=(problem,), refused=True)
            for node in items:
                try:
                    calls.append(_read_call(node, limits))
                except _NotLiteral as exc:
                    errors.append(f"tool call {len(calls) + 1}: {exc}")
        content.append(rest[position:])
        text_outside = "\n".join(part.strip() for part in content if part.strip())
        return ParsedTurn(text_outside, reasoning, tuple(calls), tuple(errors))


def _read_list(text: str) -> tuple[list[ast.expr], int, str | None]:
    """The call nodes of the list ``text`` opens with, where it ends, or why it cannot be read."""
    end, problem = _list_end(text)
    if problem is not None:
        return [], len(text), problem  # unreadable to the end: the rest is not content either
    try:
        tree = ast.parse(text[:end], mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return [], end, f"not valid Python ({type(exc).__name__}: {exc})"
    if not isinstance(tree, ast.List):  # e.g. a comprehension
        return [], end, f"expected a list of calls, got a {type(tree).__name__}"
    return list(tree.elts), end, None


def _render_call(call: ToolCall) -> str:
    for name in (*call.name.split("."), *call.arguments):
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(
                f"{call.name}: {name!r} is not a Python identifier, so the pythonic format "
                "cannot write this call; use format='hermes' or 'glm' for such tools"
            )
    arguments = ", ".join(f"{k}={_literal(v)}" for k, v in call.arguments.items())
    return f"{call.name}({arguments})"


def _literal(value: Any) -> str:
    """A JSON value as Python source (``repr`` of lists and dicts recurses through this)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _list_end(body: str) -> tuple[int, str | None]:
    """Where the opening ``[`` closes (one linear pass of Python's tokenizer), or why not."""
    depth = 0
    offsets = [0]
    for line in io.StringIO(body).readlines():  # the lines the tokenizer numbers
        offsets.append(offsets[-1] + len(line))
    try:
        for token in tokenize.generate_tokens(io.StringIO(body).readline):
            if token.type != tokenize.OP or token.string not in "[](){}":
                continue
            depth += 1 if token.string in "[({" else -1
            if depth == 0:
                row, col = token.end
                return offsets[row - 1] + col, None
    except (tokenize.TokenError, SyntaxError) as exc:
        return 0, f"not valid Python ({exc})"
    return 0, "the opening '[' is never closed"


class _NotLiteral(ValueError):
    """A call or value the format does not accept (the message says which and why)."""


def _read_call(node: ast.expr, limits: ParseLimits) -> ToolCall:
    if not isinstance(node, ast.Call):
        raise _NotLiteral(f"expected name(key=value, ...), got {ast.unparse(node)[:80]!r}")
    name = _dotted_name(node.func)
    if node.args:
        raise _NotLiteral(f"{name}: positional arguments are not allowed; name each (key=value)")
    arguments: dict[str, Any] = {}
    budget = [limits.max_json_keys]
    for argument in node.keywords:
        if argument.arg is None:
            raise _NotLiteral(f"{name}: '**' unpacking is not allowed; name each argument")
        if argument.arg in arguments:
            raise _NotLiteral(f"{name}: argument {argument.arg!r} is given twice")
        try:
            arguments[argument.arg] = _value(argument.value, limits.max_json_depth, budget)
        except _NotLiteral as exc:
            raise _NotLiteral(f"{name}: argument {argument.arg!r}: {exc}") from None
    return ToolCall(name=name, arguments=arguments)


def _dotted_name(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise _NotLiteral(f"the function must be a name, got {ast.unparse(node)[:80]!r}")
    return ".".join([node.id, *reversed(parts)])


def _value(node: ast.expr, depth: int, budget: list[int]) -> Any:
    """A literal's value: JSON types, with tuples as lists; anything else is an error."""
    if depth < 0:
        raise _NotLiteral("a value is nested too deeply")
    if isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, str | int | float)
    ):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        number = cast(int | float, node.operand.value)  # checked just above
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(item, depth - 1, budget) for item in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for key, item in zip(node.keys, node.values, strict=True):
            budget[0] -= 1
            if budget[0] < 0:
                raise _NotLiteral("too many dict keys in one call")
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise _NotLiteral("dict keys must be strings")
            out[key.value] = _value(item, depth - 1, budget)
        return out
    raise _NotLiteral(f"{ast.unparse(node)[:80]!r} is not a literal value")
