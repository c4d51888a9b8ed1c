"""GLM-4.5 XML format: ``<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value></tool_call>``.

String arguments are written raw; any other type as JSON. Parsing uses the tool's schema to know
which values are strings, as GLM's own parser does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

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
KEY_OPEN, KEY_CLOSE = "<arg_key>", "</arg_key>"
VALUE_OPEN, VALUE_CLOSE = "<arg_value>", "</arg_value>"

INSTRUCTIONS = """# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{tools}
</tools>

For each function call, output the function name and arguments within the following XML format:
<tool_call>{{function-name}}
<arg_key>{{arg-key-1}}</arg_key>
<arg_value>{{arg-value-1}}</arg_value>
<arg_key>{{arg-key-2}}</arg_key>
<arg_value>{{arg-value-2}}</arg_value>
...
</tool_call>
Several calls in one message run in order. A message without a tool call is your reply to the user."""


class GLMFormat:
    """GLM-4.5's XML tool calls; several per message; ``<think>`` allowed first."""

    name = "glm"

    def render_tools(self, specs: Sequence[Mapping[str, Any]]) -> str:
        """The tools block in GLM-4.5's system-prompt style."""
        return INSTRUCTIONS.format(tools=tools_json_lines(specs))

    def render_calls(self, calls: Sequence[ToolCall]) -> str:
        """One ``<tool_call>`` block per call with one key/value pair per argument."""
        return "\n".join(_render_call(c) for c in calls)

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

        def read(body: str, limits: ParseLimits) -> tuple[ToolCall | None, str | None]:
            return _parse_xml_call(body, specs, limits)

        return parse_message(text, OPEN, CLOSE, read, limits)


def _render_call(call: ToolCall) -> str:
    lines = [f"{OPEN}{call.name}"]
    for key, value in call.arguments.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines += [f"{KEY_OPEN}{key}{KEY_CLOSE}", f"{VALUE_OPEN}{shown}{VALUE_CLOSE}"]
    return "\n".join(lines) + f"\n{CLOSE}"


def _parse_xml_call(
    body: str, specs: Mapping[str, Mapping[str, Any]], limits: ParseLimits
) -> tuple[ToolCall | None, str | None]:
    first = body.find(KEY_OPEN)
    name = (body if first < 0 else body[:first]).strip()
    if not name or any(ch.isspace() for ch in name) or "<" in name:
        return None, f"expected the function name right after {OPEN}, got {name[:40]!r}"
    properties = specs.get(name, {}).get("properties", {})
    arguments: dict[str, Any] = {}
    pos = 0 if first < 0 else first
    while pos < len(body):
        key_start = body.find(KEY_OPEN, pos)
        if key_start < 0:
            if body[pos:].strip() and first >= 0:
                return None, f"unexpected text {body[pos:].strip()[:40]!r} after the arguments"
            break
        if body[pos:key_start].strip():
            return None, f"unexpected text {body[pos:key_start].strip()[:40]!r} between arguments"
        key_end = body.find(KEY_CLOSE, key_start)
        value_start = body.find(VALUE_OPEN, key_end)
        value_end = body.find(VALUE_CLOSE, value_start)
        if min(key_end, value_start, value_end) < 0:
            return None, "each <arg_key>K</arg_key> must be followed by <arg_value>V</arg_value>"
        if body[key_end + len(KEY_CLOSE) : value_start].strip():
            return None, "text between </arg_key> and <arg_value>"
        key = body[key_start + len(KEY_OPEN) : key_end].strip()
        if key in arguments:
            return None, f"argument {key!r} given twice"
        if len(arguments) >= limits.max_json_keys:
            return None, f"more than {limits.max_json_keys} arguments"
        raw = body[value_start + len(VALUE_OPEN) : value_end]
        schema = properties.get(key)
        if not (schema is not None and _expects_string(schema)):
            too_big = json_limit_problem(raw, limits)
            if too_big:
                return None, f"the JSON value of {key!r} has {too_big}"
        arguments[key] = _convert(raw, schema)
        pos = value_end + len(VALUE_CLOSE)
    return ToolCall(name=name, arguments=arguments), None


def _convert(raw: str, schema: Mapping[str, Any] | None) -> Any:
    """Keep the raw text where the schema expects a string; otherwise read it as JSON if it is."""
    if schema is not None and _expects_string(schema):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw


def _expects_string(schema: Mapping[str, Any]) -> bool:
    if schema.get("type") == "string":
        return True
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return bool(options) and all(s.get("type") == "string" for s in options)
