"""``stream: true`` replies as server-sent events in OpenAI's ``chat.completion.chunk`` shape.

The stream is buffered: the whole reply is generated first, then sent as a few chunks per choice
(role and content, then the tool calls, then the finish reason), an optional usage chunk, and
``data: [DONE]``. Clients that insist on streaming work; tokens do not arrive one by one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from toolgym.serve.protocol import ChatCompletion, Choice


def sse_events(completion: ChatCompletion, include_usage: bool = False) -> Iterator[str]:
    """The ``data: ...`` events of a completed reply, ending with ``data: [DONE]``.

    Args:
        completion: The finished reply.
        include_usage: Add a last chunk with empty ``choices`` and the ``usage`` (as OpenAI does
            for ``stream_options={"include_usage": true}``).
    """
    head = {
        "id": completion.id,
        "object": "chat.completion.chunk",
        "created": completion.created,
        "model": completion.model,
    }
    for choice in completion.choices:
        for delta, finish_reason in _deltas(choice):
            chunk = {"index": choice.index, "delta": delta, "finish_reason": finish_reason}
            yield _event(head | {"choices": [chunk]})
    if include_usage:
        yield _event(head | {"choices": [], "usage": completion.usage.model_dump()})
    yield "data: [DONE]\n\n"


def _deltas(choice: Choice) -> Iterator[tuple[dict[str, Any], str | None]]:
    message = choice.message
    first: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if message.reasoning_content is not None:
        first["reasoning_content"] = message.reasoning_content
    yield first, None
    if message.tool_calls:
        calls = [
            {"index": i, **call.model_dump(mode="json")}
            for i, call in enumerate(message.tool_calls)
        ]
        yield {"tool_calls": calls}, None
    yield {}, choice.finish_reason


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
