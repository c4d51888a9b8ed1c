"""The contract of a tool-call format: render tool schemas into the prompt, parse assistant text."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolgym.argument_text import lone_surrogate_at
from toolgym.tooling import ToolCall

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


@dataclass(frozen=True)
class ParsedTurn:
    """What one assistant message contains.

    Attributes:
        content: The text addressed to the user (calls and reasoning removed, stripped).
        reasoning: The text inside a leading ``<think>...</think>`` block, if any.
        calls: The well-formed tool calls, in order.
        errors: One message per malformed part; empty means the turn is well-formed.
        refused: The message as a whole broke a limit (length, calls per message, invalid
            Unicode): nothing in it was used, and ``errors`` says why.
    """

    content: str
    reasoning: str | None = None
    calls: tuple[ToolCall, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)
    refused: bool = False

    @property
    def well_formed(self) -> bool:
        """True when nothing in the message violated the format."""
        return not self.errors


@dataclass(frozen=True)
class ParseLimits:
    """Caps checked before a call is decoded, so that a hostile message costs little to refuse.

    Attributes:
        max_calls: Tool-call blocks in one message (more: the whole message is refused).
        max_call_chars: Characters of one call block.
        max_json_depth: Nesting of arrays and objects in one call's JSON.
        max_json_keys: Object keys in one call's JSON, all levels together.
    """

    max_calls: int = 64
    max_call_chars: int = 16_384
    max_json_depth: int = 32
    max_json_keys: int = 512


DEFAULT_PARSE_LIMITS = ParseLimits()


class ToolFormat(Protocol):
    """A tool-call syntax: how tools are shown to the model and how its calls are read back."""

    name: str

    def render_tools(self, specs: Sequence[Mapping[str, Any]]) -> str:
        """The system-prompt section that lists the tools and explains how to call them."""
        ...

    def render_calls(self, calls: Sequence[ToolCall]) -> str:
        """The assistant text that makes ``calls`` (used by the oracle and for SFT data)."""
        ...

    def render_malformed(self, name: Any, arguments: str) -> str:
        """Text for a call that arrived unreadable, which :meth:`parse` reports as an error.

        An OpenAI-style native call without a name, or whose ``arguments`` are not a JSON object
        (or that this format cannot write): never read back as a call.
        """
        ...

    def parse(
        self,
        text: str,
        specs: Mapping[str, Mapping[str, Any]],
        limits: ParseLimits = DEFAULT_PARSE_LIMITS,
    ) -> ParsedTurn:
        """Read an assistant message. ``specs`` maps tool name -> its parameters JSON Schema.

        Never raises: malformed parts become entries of ``ParsedTurn.errors``; a message over
        ``limits.max_calls`` is refused whole, a call block over the other limits is an error.
        """
        ...


BodyParser = Callable[[str, ParseLimits], tuple[ToolCall | None, str | None]]
"""Reads one call block's body: (the call, None) or (None, why it is malformed)."""


def parse_message(
    text: str, open_tag: str, close_tag: str, read_body: BodyParser, limits: ParseLimits
) -> ParsedTurn:
    """The shared shape of a tagged format's parse: reasoning, call blocks, the text around them.

    The number of blocks is counted before any is read, and each block's size before it is
    decoded, so the cost of a hostile message is bounded by the limits, not by its size.
    """
    reasoning, rest, errors = split_reasoning(text)
    count = rest.count(open_tag)
    if count > limits.max_calls:
        problem = f"{count} tool calls in one message; at most {limits.max_calls} are allowed"
        return ParsedTurn("", errors=(problem,), refused=True)
    bodies, content, block_errors = extract_blocks(rest, open_tag, close_tag)
    errors += block_errors
    calls: list[ToolCall] = []
    for i, body in enumerate(bodies):
        call: ToolCall | None = None
        error: str | None = f"{len(body)} characters long; at most {limits.max_call_chars} allowed"
        if len(body) <= limits.max_call_chars:
            call, error = read_body(body, limits)
        if error:
            errors.append(f"tool call {i + 1}: {error}")
        elif call is not None:
            calls.append(call)
    return ParsedTurn(content.strip(), reasoning, tuple(calls), tuple(errors))


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_limit_problem(text: str, limits: ParseLimits) -> str | None:
    """Why a JSON text is too deep or has too many keys to decode (None if within the limits).

    Counting brackets and colons is a C-speed pass; only a text that could break a limit is
    scanned (strings blanked out first, so brackets inside them do not count).
    """
    if text.count("[") + text.count("{") <= limits.max_json_depth and (
        text.count(":") <= limits.max_json_keys
    ):
        return None
    bare = _JSON_STRING.sub('""', text)
    if bare.count(":") > limits.max_json_keys:
        return f"more than {limits.max_json_keys} object keys; the limit is {limits.max_json_keys}"
    depth = 0
    for bracket in _BRACKETS.finditer(bare):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limits.max_json_depth:
            return f"nested deeper than {limits.max_json_depth} levels"
    return None


def action_problem(text: str, max_chars: int) -> str | None:
    """Why a whole assistant message is refused before parsing (too long, invalid Unicode)."""
    if len(text) > max_chars:
        return f"the message has {len(text)} characters; at most {max_chars} are allowed"
    at = lone_surrogate_at(text)
    if at is not None:
        return f"the message holds a lone surrogate at character {at}: not valid Unicode"
    return None


def shown_action(text: str, max_chars: int) -> str:
    """A refused message as it is kept in the conversation: cut to ``max_chars``, valid UTF-8."""
    kept = text[:max_chars]
    if len(text) > max_chars:
        kept += f"[... {len(text) - max_chars} more characters refused]"
    return kept.encode("utf-8", "replace").decode("utf-8")


def split_reasoning(text: str) -> tuple[str | None, str, list[str]]:
    """Separate an optional leading ``<think>...</think>`` block from the rest of the message.

    A message that opens with ``</think>`` alone (templates that put ``<think>`` in the prompt) is
    treated the same way. Returns (reasoning, rest, errors).
    """
    stripped = text.lstrip()
    if stripped.startswith(THINK_OPEN):
        end = stripped.find(THINK_CLOSE)
        if end < 0:
            return None, "", ["unclosed <think> block"]
        return stripped[len(THINK_OPEN) : end].strip(), stripped[end + len(THINK_CLOSE) :], []
    end = text.find(THINK_CLOSE)
    if end >= 0 and THINK_OPEN not in text[:end]:
        return text[:end].strip(), text[end + len(THINK_CLOSE) :], []
    return None, text, []


def extract_blocks(text: str, open_tag: str, close_tag: str) -> tuple[list[str], str, list[str]]:
    """Find every ``open_tag ... close_tag`` block in linear time.

    Returns (block bodies, the text outside the blocks, errors for unclosed or stray tags).
    """
    bodies: list[str] = []
    outside: list[str] = []
    errors: list[str] = []
    pos = 0
    while True:
        start = text.find(open_tag, pos)
        if start < 0:
            break
        end = text.find(close_tag, start + len(open_tag))
        if end < 0:  # no closing tag anywhere after this point: stop here (keeps this linear)
            errors.append(f"{open_tag} at character {start} is not closed by {close_tag}")
            break
        nested = text.find(open_tag, start + len(open_tag), end)
        if nested >= 0:
            errors.append(f"{open_tag} at character {start} is not closed by {close_tag}")
            outside.append(text[pos:start])
            pos = nested
            continue
        outside.append(text[pos:start])
        bodies.append(text[start + len(open_tag) : end])
        pos = end + len(close_tag)
    outside.append(text[pos:])
    rest = "".join(outside)
    if close_tag in rest:
        errors.append(f"stray {close_tag} without a matching {open_tag}")
    return bodies, rest, errors


def malformed_json_block(name: Any, arguments: str) -> str:
    """A ``<tool_call>`` block whose ``arguments`` is a JSON string: no tagged format accepts it.

    ``<`` is escaped inside the JSON, so the text can never close the block early.
    """
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return "<tool_call>\n" + body.replace("<", "\\u003c") + "\n</tool_call>"


def tools_json_lines(specs: Sequence[Mapping[str, Any]]) -> str:
    """One compact JSON object per tool, as Qwen and GLM chat templates show them."""
    return "\n".join(json.dumps(spec, ensure_ascii=False) for spec in specs)
