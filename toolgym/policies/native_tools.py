"""Native tool calling for ``OpenAIPolicy``: the env's text conversation <-> the OpenAI protocol.

``native_messages`` turns the env's text conversation into the OpenAI protocol (assistant
``tool_calls`` with ids ``call_<turn>_<i>``, tool results with their ``tool_call_id``);
``render_native_reply`` turns a reply's ``tool_calls`` back into the env's text format.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from toolgym.formats import ToolFormat
from toolgym.llm.protocol import Completion, Message
from toolgym.tooling import ToolCall


def native_messages(
    messages: Sequence[Mapping[str, str]],
    tool_format: ToolFormat,
    parameters: Mapping[str, Mapping[str, Any]],
    system_prompt: str,
) -> list[Message]:
    """The env's text conversation in the OpenAI native tool-calling protocol.

    Assistant texts are parsed into ``tool_calls`` with ids ``call_<turn>_<i>``; the env's tool
    messages get those ids in order. A tool message without a pending call (the env's report of
    a malformed call) becomes a user message, since the protocol has no place for it.

    Args:
        messages: The env's conversation.
        tool_format: The env's tool-call format (to parse the assistant texts).
        parameters: Tool name -> its parameters JSON Schema.
        system_prompt: The system prompt without the tools block.
    """
    converted: list[Message] = []
    pending: deque[str] = deque()
    turn = 0
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "tool" and pending:
            converted.append(
                {"role": "tool", "tool_call_id": pending.popleft(), "content": content}
            )
            continue
        converted += _unanswered(pending)
        if role == "system":
            converted.append({"role": "system", "content": system_prompt})
        elif role == "assistant":
            assistant = _native_assistant(content, tool_format, parameters, turn)
            pending.extend(call["id"] for call in assistant.get("tool_calls", []))
            converted.append(assistant)
            turn += 1
        else:
            converted.append({"role": "user" if role == "tool" else role, "content": content})
    return converted + _unanswered(pending)


def _native_assistant(
    text: str, tool_format: ToolFormat, parameters: Mapping[str, Mapping[str, Any]], turn: int
) -> Message:
    parsed = tool_format.parse(text, parameters)
    if not parsed.calls:
        return {"role": "assistant", "content": parsed.content if parsed.errors else text}
    calls = [
        {
            "id": f"call_{turn}_{i}",
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
        }
        for i, c in enumerate(parsed.calls)
    ]
    return {"role": "assistant", "content": parsed.content or None, "tool_calls": calls}


def _unanswered(pending: deque[str]) -> list[Message]:
    """Placeholder results for calls the env did not run, so the request stays valid."""
    results = [{"role": "tool", "tool_call_id": i, "content": "Error: not run"} for i in pending]
    pending.clear()
    return results


def render_native_reply(completion: Completion, tool_format: ToolFormat) -> str:
    """The reply's content, then its native tool calls in the env's text format.

    A call whose ``arguments`` are not a JSON object (or that lacks a name) is written with the
    format's ``render_malformed``, which its parser reports, so the env scores it as malformed.
    """
    parts = [completion.text.rstrip()] if completion.text.strip() else []
    for raw in completion.tool_calls:
        call = _tool_call(raw)
        if isinstance(call, ToolCall):
            try:
                parts.append(tool_format.render_calls([call]))
                continue
            except ValueError:  # a name this format cannot write (pythonic: not an identifier)
                call = (call.name, json.dumps(call.arguments, ensure_ascii=False))
        parts.append(tool_format.render_malformed(*call))
    return "\n".join(parts)


def _tool_call(raw: Any) -> ToolCall | tuple[Any, str]:
    """A native tool call as a ToolCall, or as ``(name, raw arguments)`` when it is not valid."""
    function = raw.get("function") if isinstance(raw, dict) else None
    function = function if isinstance(function, dict) else {}
    name, arguments = function.get("name"), function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError):
            pass
    if isinstance(name, str) and name and isinstance(arguments, dict):
        return ToolCall(name=name, arguments=arguments)
    return name, arguments if isinstance(arguments, str) else json.dumps(arguments)
