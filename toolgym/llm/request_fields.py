"""Which request fields an OpenAI-compatible server rejected, and what to change in toolgym.

Servers differ in what they accept: ``transformers serve`` answers 422 to any field outside the
OpenAI schema (``top_k`` in ``extra_body``, vLLM's ``return_token_ids``), hosted reasoning models
refuse ``max_tokens`` or a ``temperature`` other than 1, vLLM refuses ``tools`` unless started with
``--enable-auto-tool-choice``. On an HTTP 400 or 422, :func:`rejected_fields` finds the fields
toolgym sent that the server's message names (or OpenAI's ``error.param``), and
:func:`rejection_hint` says, per field, what to change. ``OpenAIClient`` adds that hint to the
error; only ``seed`` is retried without (replies then are not reproducible, and it warns once),
since every other field changes what is measured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx

from toolgym.llm.errors import EndpointError
from toolgym.llm.protocol import error_text

REJECTION_STATUSES = frozenset({400, 422})
"""Statuses whose message may name a field the server does not take."""

NEVER_NAMED = frozenset({"model", "messages"})
"""Fields every request needs: a server that names them is rejecting their value, not the field."""

DROPPABLE = frozenset({"seed"})
"""Fields a request is retried without when they are the only ones rejected."""

FIELD_FIXES: Mapping[str, str] = {
    "seed": "toolgym retries without it (replies are then not reproducible)",
    "temperature": "set OpenAIConfig.temperature=None (or a value the server takes)",
    "top_p": "set OpenAIConfig.top_p=None",
    "max_tokens": "set OpenAIConfig.max_tokens=None and put "
    "{'max_completion_tokens': N} in extra_body",
    "tools": "use tool_mode='text' (tools in the prompt, parsed by toolgym), or start the server "
    "with tool calling on (vLLM: --enable-auto-tool-choice --tool-call-parser NAME)",
    "logprobs": "ServerTokenPolicy needs log-probs: serve with vLLM >= 0.10.2, SGLang or "
    "toolgym serve",
    "return_token_ids": "ServerTokenPolicy needs token ids: serve with vLLM >= 0.10.2, SGLang or "
    "toolgym serve",
    "stop_token_ids": "ServerTokenPolicy needs stop token ids: serve with vLLM, SGLang or "
    "toolgym serve",
    "skip_special_tokens": "ServerTokenPolicy needs it: serve with vLLM, SGLang or toolgym serve",
}
"""Per field: what to change when a server rejects it (others: drop it from ``extra_body``)."""

_ALIASES: Mapping[str, str] = {"tools": r"tools?|tool[ _]choice"}


def rejected_fields(body: Mapping[str, Any] | None, message: str, param: str | None) -> list[str]:
    """The fields of ``body`` that a 400/422 answer names, in the order they were sent.

    Args:
        body: The request body toolgym sent (None for a GET).
        message: The server's error message.
        param: OpenAI's ``error.param``, when the server sent one.

    >>> rejected_fields({"model": "m", "seed": 1, "top_k": 5}, "Unexpected fields: {'top_k'}", None)
    ['top_k']
    >>> rejected_fields({"model": "m", "max_tokens": 9}, "Unsupported parameter", "max_tokens")
    ['max_tokens']
    """
    if not body:
        return []
    named = []
    for field in body:
        if field in NEVER_NAMED:
            continue
        pattern = _ALIASES.get(field, re.escape(field))
        if field == param or re.search(rf"(?<![\w.]){pattern}(?![\w])", message):
            named.append(field)
    return named


def rejection_hint(fields: Iterable[str]) -> str:
    """What to change for each rejected field, as one sentence for an error message.

    >>> rejection_hint(["top_k"])
    "the server does not take: 'top_k' (remove it from OpenAIConfig.extra_body)"
    """
    fixes = [
        f"{f!r} ({FIELD_FIXES.get(f, 'remove it from OpenAIConfig.extra_body')})" for f in fields
    ]
    return "the server does not take: " + "; ".join(fixes) if fixes else ""


def error_param(data: Any) -> str | None:
    """OpenAI's ``error.param`` of an error body, if it has one."""
    error = data.get("error") if isinstance(data, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    return param if isinstance(param, str) and param else None


class FieldsRejected(EndpointError):
    """An HTTP 400/422 whose message names fields toolgym sent; ``fields`` lists them."""

    def __init__(
        self,
        *,
        status_code: int,
        url: str,
        attempts: int,
        server_message: str,
        fields: Sequence[str],
    ) -> None:
        super().__init__(
            status_code=status_code, url=url, attempts=attempts, server_message=server_message
        )
        self.fields = tuple(fields)
        self.args = (f"{self.args[0]} -- {rejection_hint(self.fields)}",)


def endpoint_error(
    response: httpx.Response, url: str, attempts: int, body: Mapping[str, Any] | None
) -> EndpointError:
    """The error for a final HTTP error status: ``FieldsRejected`` when a 400/422 names fields."""
    message = error_text(response)
    fields: list[str] = []
    if response.status_code in REJECTION_STATUSES:
        try:
            param = error_param(response.json())
        except ValueError:
            param = None
        fields = rejected_fields(body, message, param)
    if fields:
        return FieldsRejected(
            status_code=response.status_code,
            url=url,
            attempts=attempts,
            server_message=message,
            fields=fields,
        )
    return EndpointError(
        status_code=response.status_code, url=url, attempts=attempts, server_message=message
    )
