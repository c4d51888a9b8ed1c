"""The wire side of ``OpenAIPolicy``: errors, parsed completions, native tool-call conversion.

``native_messages`` turns the env's text conversation into the OpenAI protocol (assistant
``tool_calls`` with ids ``call_<turn>_<i>``, tool results with their ``tool_call_id``);
``render_native_reply`` turns a reply's ``tool_calls`` back into the env's text format.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from toolgym.formats import ToolFormat
from toolgym.tooling import ToolCall

Message = dict[str, Any]
STATUS_HINTS = {
    401: "set OpenAIConfig.api_key or the environment variable named by api_key_env",
    403: "the API key lacks access to this model",
    404: "check that base_url ends at the API root (e.g. http://host:8000/v1) and the model name",
}


# ---------------------------------------------------------------------------------------- errors
class OpenAIPolicyError(RuntimeError):
    """Base class of every failure to get a completion from the endpoint."""

    def __init__(self, message: str, *, url: str, attempts: int) -> None:
        super().__init__(message)
        self.url, self.attempts = url, attempts


class EndpointError(OpenAIPolicyError):
    """The server answered with an HTTP error status (after the last retry, if retryable)."""

    def __init__(self, *, status_code: int, url: str, attempts: int, server_message: str) -> None:
        hint = f" (hint: {STATUS_HINTS[status_code]})" if status_code in STATUS_HINTS else ""
        super().__init__(
            f"{url} answered HTTP {status_code} after {attempts} attempt(s): "
            f"{server_message}{hint}",
            url=url,
            attempts=attempts,
        )
        self.status_code, self.server_message = status_code, server_message


class EndpointUnavailable(OpenAIPolicyError):
    """No HTTP answer at all after the last retry: connection refused, reset or closed."""


class EndpointTimeout(EndpointUnavailable):
    """The last attempt ran past a timeout (connect, read or the whole attempt)."""


class MalformedResponse(OpenAIPolicyError):
    """A success status, but the body is not JSON or lacks ``choices[0].message``."""


# ------------------------------------------------------------------------------ results, stats
@dataclass(frozen=True)
class Completion:
    """One assistant reply from the endpoint.

    Attributes:
        text: The message content ("" when the server sent none).
        tool_calls: Native tool calls as the server sent them (``arguments`` are JSON strings).
        finish_reason: "stop", "length", "tool_calls", ... or None if the server omitted it.
        prompt_tokens: Prompt tokens the server reported (0 if it did not).
        completion_tokens: Generated tokens the server reported (0 if it did not).
        latency_s: Seconds from the first attempt to the answer, retries and waits included.
        attempts: HTTP attempts it took (1 = no retry).
    """

    text: str
    tool_calls: tuple[dict[str, Any], ...]
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int


# ------------------------------------------------------------------------------ native protocol
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

    A call whose ``arguments`` are not a JSON object (or that lacks a name) is written as a
    ``<tool_call>`` block that no format accepts, so the env scores it as malformed.
    """
    parts = [completion.text.rstrip()] if completion.text.strip() else []
    for raw in completion.tool_calls:
        call = _tool_call(raw)
        parts.append(tool_format.render_calls([call]) if isinstance(call, ToolCall) else call)
    return "\n".join(parts)


def _tool_call(raw: Any) -> ToolCall | str:
    """A native tool call as a ToolCall, or as malformed text when it is not a valid one."""
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
    raw_arguments = arguments if isinstance(arguments, str) else json.dumps(arguments)
    body = json.dumps({"name": name, "arguments": raw_arguments}, ensure_ascii=False)
    return "<tool_call>\n" + body.replace("<", "\\u003c") + "\n</tool_call>"


# ---------------------------------------------------------------------------- response helpers
def parse_completion(data: Any, url: str, attempts: int, latency_s: float) -> Completion:
    """A :class:`Completion` from a response body; MalformedResponse if it lacks a message."""
    try:
        choice = data["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        message = None
    if not isinstance(message, dict):
        raise MalformedResponse(
            f"{url}: no choices[0].message in the response: {snippet(data)}",
            url=url,
            attempts=attempts,
        )
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    content, calls = message.get("content"), message.get("tool_calls")
    if isinstance(content, list):  # content parts
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return Completion(
        text=content if isinstance(content, str) else "",
        tool_calls=tuple(calls) if isinstance(calls, list) else (),
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        latency_s=latency_s,
        attempts=attempts,
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def response_json(response: httpx.Response, url: str, attempts: int) -> Any:
    """The response body as JSON; MalformedResponse if it is not JSON."""
    try:
        return response.json()
    except ValueError:
        raise MalformedResponse(
            f"{url}: HTTP {response.status_code} body is not JSON: {response.text[:300]!r}",
            url=url,
            attempts=attempts,
        ) from None


def error_text(response: httpx.Response) -> str:
    """The error message of an OpenAI-style (or vLLM-style) error body, else the raw text."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(error) if error else response.text[:500]


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def transport_error(exc: BaseException, url: str, attempts: int) -> EndpointUnavailable:
    """The error to raise for a transport failure (EndpointTimeout for timeouts)."""
    timeout = isinstance(exc, httpx.TimeoutException | TimeoutError)
    kind = EndpointTimeout if timeout else EndpointUnavailable
    what = type(exc).__name__ + (f": {exc}" if str(exc) else "")
    return kind(
        f"{url}: no answer after {attempts} attempt(s) ({what})", url=url, attempts=attempts
    )


def snippet(data: Any) -> str:
    """At most 300 characters of ``data`` for error messages."""
    text = json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data
    return text if len(text) <= 300 else text[:300] + "..."
