"""Generated text -> an OpenAI choice: stop strings, tool calls, finish reason.

Tool calls are read with the configured format's own parser (the one the env scores with), and
only when the request offered tools. A reply whose calls are all well-formed comes back as
``tool_calls`` (content: the text around them; a leading ``<think>`` block goes to
``reasoning_content``) with finish reason ``"tool_calls"``. A reply with any malformed call comes
back as plain content, exactly as the model wrote it, so the client (and an env that scores it)
sees the mistake.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from toolgym.formats import ToolFormat
from toolgym.serve.protocol import (
    Choice,
    FinishReason,
    FunctionCallOut,
    ReplyMessage,
    ToolCallOut,
)


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the earliest stop string, and whether one was found.

    >>> cut_at_stop("a, b. c.", [".", ","])
    ('a', True)
    >>> cut_at_stop("abc", ["x"])
    ('abc', False)
    """
    found = [i for i in (text.find(s) for s in stop) if i >= 0]
    return (text[: min(found)], True) if found else (text, False)


def build_choice(
    index: int,
    text: str,
    *,
    stopped: bool,
    tool_format: ToolFormat,
    parameters: Mapping[str, Mapping[str, Any]] | None,
) -> Choice:
    """One choice from a sample's decoded text.

    Args:
        index: The choice's index (0 .. n-1).
        text: The generated text, without the stop token (and cut at a stop string).
        stopped: True if the model ended the turn (stop token or stop string); False if the
            token budget cut it (finish reason ``"length"``).
        tool_format: The format whose parser reads the tool calls.
        parameters: Tool name -> parameters JSON Schema of the offered tools; None or empty
            when the request offered none (the text is then never parsed for calls).
    """
    ended: FinishReason = "stop" if stopped else "length"
    if not parameters:
        return Choice(index=index, message=ReplyMessage(content=text), finish_reason=ended)
    parsed = tool_format.parse(text, parameters)
    if parsed.errors or not parsed.calls:
        return Choice(index=index, message=ReplyMessage(content=text), finish_reason=ended)
    calls = [
        ToolCallOut(
            id=f"call_{uuid.uuid4().hex[:24]}",
            function=FunctionCallOut(
                name=call.name, arguments=json.dumps(call.arguments, ensure_ascii=False)
            ),
        )
        for call in parsed.calls
    ]
    message = ReplyMessage(
        content=parsed.content or None, tool_calls=calls, reasoning_content=parsed.reasoning
    )
    return Choice(index=index, message=message, finish_reason="tool_calls" if stopped else "length")
