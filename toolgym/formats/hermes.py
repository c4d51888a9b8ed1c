"""Hermes / Qwen format: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from toolgym.formats.base import ParsedTurn, extract_blocks, split_reasoning, tools_json_lines
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

    def parse(self, text: str, specs: Mapping[str, Mapping[str, Any]]) -> ParsedTurn:
        """Parse reasoning, calls and content; each bad block becomes an error, never an exception."""
        reasoning, rest, errors = split_reasoning(text)
        bodies, content, block_errors = extract_blocks(rest, OPEN, CLOSE)
        errors += block_errors
        calls: list[ToolCall] = []
        for i, body in enumerate(bodies):
            call, error = _parse_json_call(body)
            if error:
                errors.append(f"tool call {i + 1}: {error}")
            elif call is not None:
                calls.append(call)
        return ParsedTurn(content.strip(), reasoning, tuple(calls), tuple(errors))


def _parse_json_call(body: str) -> tuple[ToolCall | None, str | None]:
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
    if not isinstance(arguments, dict):
        return None, "'arguments' must be a JSON object"
    return ToolCall(name=name, arguments=arguments), None
