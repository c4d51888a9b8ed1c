"""Hermes / Qwen format: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from toolgym.argument_text import name_problem
from toolgym.formats.base import (
    DEFAULT_PARSE_LIMITS,
    ParsedTurn,
    ParseLimits,
    json_limit_problem,
    malformed_json_block,
    parse_message,
    tools_json_lines,
)
from toolgym.tooling import ToolCall

OPEN, CLOSE = "<tool_call>", "</tool_call>"

INSTRUCTIONS = """# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{tools}
</tools>

For each function call, return a json object with function name and arguments within \
<tool_call></tool_call> XML tags:
<tool_call>
{{"name": <function-name>, "arguments": <args-json-object>}}
</tool_call>
Several calls in one message run in order. A message without a tool call is your reply to the user."""


class HermesFormat:
    """JSON tool calls in ``<tool_call>`` tags; several per message; ``<think>`` allowed first."""

    name = "hermes"

    def render_tools(self, specs: Sequence[Mapping[str, Any]]) -> str:
        """The tools block in the Qwen2.5 / Hermes system-prompt style."""
        return INSTRUCTIONS.format(tools=tools_json_lines(specs))

    def render_calls(self, calls: Sequence[ToolCall]) -> str:
        """One ``<tool_call>`` block per call, newline-separated."""
        return "\n".join(
            f"{OPEN}\n{json.dumps({'name': c.name, 'arguments': c.arguments}, ensure_ascii=False)}"
            f"\n{CLOSE}"
            for c in calls
        )

    def render_malformed(self, name: Any, arguments: str) -> str:
        """A block whose ``arguments`` is a string: :meth:`parse` reports it, never runs it."""
        return malformed_json_block(name, arguments)

    def parse(
        self,
        text: str,
        specs: Mapping[str, Mapping[str, Any]],
        limits: ParseLimits = DEFAULT_PARSE_LIMITS,
    ) -> ParsedTurn:
        """Parse reasoning, calls and content; each bad block becomes an error, never an exception."""
        return parse_message(text, OPEN, CLOSE, _parse_json_call, limits)


def _parse_json_call(body: str, limits: ParseLimits) -> tuple[ToolCall | None, str | None]:
    too_big = json_limit_problem(body, limits)
    if too_big:
        return None, f"JSON {too_big}"
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(data, dict):
        return None, 'expected a JSON object {"name": ..., "arguments": {...}}'
    unknown = set(data) - {"name", "arguments"}
    if unknown:
        return None, f"unexpected keys {sorted(unknown)}; only 'name' and 'arguments' are allowed"
    name, arguments = data.get("name"), data.get("arguments", {})
    if not isinstance(name, str) or not name:
        return None, "'name' must be a non-empty string"
    problem = name_problem(name)
    if problem:
        return None, f"'name' {problem}"
    if not isinstance(arguments, dict):
        return None, "'arguments' must be a JSON object"
    return ToolCall(name=name, arguments=arguments), None
