"""The wire side of a chat completion: the parsed ``Completion`` and the response helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from toolgym.llm.errors import MalformedResponse

Message = dict[str, Any]


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


def snippet(data: Any) -> str:
    """At most 300 characters of ``data`` for error messages."""
    text = json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data
    return text if len(text) <= 300 else text[:300] + "..."
