"""The contract of a tool-call format: render tool schemas into the prompt, parse assistant text."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    """

    content: str
    reasoning: str | None = None
    calls: tuple[ToolCall, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def well_formed(self) -> bool:
        """True when nothing in the message violated the format."""
        return not self.errors


class ToolFormat(Protocol):
    """A tool-call syntax: how tools are shown to the model and how its calls are read back."""

    name: str

    def render_tools(self, specs: Sequence[Mapping[str, Any]]) -> str:
        """The system-prompt section that lists the tools and explains how to call them."""
        ...

    def render_calls(self, calls: Sequence[ToolCall]) -> str:
        """The assistant text that makes ``calls`` (used by the oracle and for SFT data)."""
        ...

    def parse(self, text: str, specs: Mapping[str, Mapping[str, Any]]) -> ParsedTurn:
        """Read an assistant message. ``specs`` maps tool name -> its parameters JSON Schema.

        Never raises: malformed parts become entries of ``ParsedTurn.errors``.
        """
        ...


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


def tools_json_lines(specs: Sequence[Mapping[str, Any]]) -> str:
    """One compact JSON object per tool, as Qwen and GLM chat templates show them."""
    return "\n".join(json.dumps(spec, ensure_ascii=False) for spec in specs)
