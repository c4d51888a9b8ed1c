"""An OpenAI request as the text conversation a toolgym env would have shown the model.

The server renders exactly what ``ToolEnv`` renders, with the same code: the tool format's
``render_tools`` block ends the system prompt (joined as ``ToolEnv.system_prompt`` joins it),
earlier tool calls are written back with the format's ``render_calls``, and tool results are
``tool`` messages carrying the tool's name. The chat template then renders that conversation
(``ChatTokenizer``). So a model trained in toolgym sees the same prompt through the server, whether
the client sends the tools natively (``tools=``) or already inside the system prompt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolgym.formats import ToolFormat
from toolgym.serve.protocol import (
    AssistantMessage,
    ChatCompletionRequest,
    Message,
    SystemMessage,
    ToolMessage,
    ToolSpec,
    content_text,
)
from toolgym.tooling import ToolCall


def visible_tools(request: ChatCompletionRequest) -> list[ToolSpec]:
    """The tools the model is shown and whose calls are parsed (none under ``tool_choice='none'``)."""
    return [] if request.tool_choice == "none" else list(request.tools or [])


def tool_parameters(tools: Sequence[ToolSpec]) -> dict[str, Mapping[str, Any]]:
    """Tool name -> parameters JSON Schema, as ``ToolFormat.parse`` wants it."""
    return {spec.function.name: spec.function.parameters for spec in tools}


def conversation(request: ChatCompletionRequest, tool_format: ToolFormat) -> list[dict[str, str]]:
    """The request's messages as role/content dicts for the chat template.

    Args:
        request: A validated chat-completions request.
        tool_format: The format that renders the tools and earlier calls.
    """
    return render_messages(request.messages, visible_tools(request), tool_format)


def render_messages(
    messages: Sequence[Message], tools: Sequence[ToolSpec], tool_format: ToolFormat
) -> list[dict[str, str]]:
    """OpenAI messages (and the tools offered) as the role/content dicts a toolgym env shows.

    Also reads SFT conversations (``toolgym.train.conversations``), so a JSONL of chats trains on
    exactly the text the env and the server render.
    """
    block = tool_format.render_tools([spec.raw for spec in tools]) if tools else ""
    names_by_id: dict[str, str] = {}
    rendered: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, AssistantMessage):
            names_by_id |= {c.id: c.function.name for c in message.tool_calls or [] if c.id}
            rendered.append({"role": "assistant", "content": assistant_text(message, tool_format)})
        elif isinstance(message, ToolMessage):
            rendered.append(tool_result(message, names_by_id))
        elif isinstance(message, SystemMessage):
            rendered.append({"role": "system", "content": content_text(message.content)})
        else:
            rendered.append({"role": message.role, "content": content_text(message.content)})
    return with_tools_block(rendered, block)


def with_tools_block(messages: list[dict[str, str]], block: str) -> list[dict[str, str]]:
    """Append the tools block to the leading system message (or add one), as ToolEnv does."""
    if not block:
        return messages
    if messages and messages[0]["role"] == "system":
        parts = (messages[0]["content"], block)
        system = {"role": "system", "content": "\n\n".join(p.strip() for p in parts if p.strip())}
        return [system, *messages[1:]]
    return [{"role": "system", "content": block}, *messages]


def assistant_text(message: AssistantMessage, tool_format: ToolFormat) -> str:
    """An earlier assistant turn as the model would have written it: its text, then its calls."""
    text = content_text(message.content)
    calls = [
        ToolCall(name=c.function.name, arguments=c.function.decoded_arguments())
        for c in message.tool_calls or []
    ]
    if not calls:
        return text
    parts = [text.rstrip()] if text.strip() else []
    return "\n".join([*parts, tool_format.render_calls(calls)])


def tool_result(message: ToolMessage, names_by_id: Mapping[str, str]) -> dict[str, str]:
    """A tool message with the tool's name (given, or found from its ``tool_call_id``)."""
    result = {"role": "tool", "content": content_text(message.content)}
    name = message.name or names_by_id.get(message.tool_call_id or "")
    return result | ({"name": name} if name else {})
