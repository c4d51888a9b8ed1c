"""``OpenAIClient``: an async client of an OpenAI-compatible chat-completions endpoint.

Works with vLLM, SGLang, the llama.cpp server and hosted APIs, over httpx: per-attempt timeouts,
retries with jittered exponential backoff (honouring ``Retry-After``) on 429/5xx and transport
failures, a bound on requests in flight, and running totals in :class:`PolicyStats`. Each event
loop gets its own HTTP client and concurrency bound; ``complete_sync`` and :meth:`run_sync` drive
a private event loop for plain sync code.
"""

from __future__ import annotations

import asyncio
import random
import time
import warnings
import weakref
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import httpx

from toolgym.llm.config import OpenAIConfig
from toolgym.llm.errors import MalformedResponse, OpenAIPolicyError, transport_error
from toolgym.llm.protocol import (
    Completion,
    Message,
    parse_completion,
    response_json,
    retry_after_seconds,
    snippet,
)
from toolgym.llm.request_fields import DROPPABLE, FieldsRejected, endpoint_error

_T = TypeVar("_T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_EXCEPTIONS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    TimeoutError,
)
SYNC_IN_LOOP_HINT = (
    "OpenAIClient.complete_sync() was called inside a running event loop (async code, Jupyter): "
    "use `await client.acomplete(messages)`"
)


@dataclass
class PolicyStats:
    """Running totals over every request of one client, for evaluation reports."""

    requests: int = 0
    """HTTP attempts sent, retries included."""
    completions: int = 0
    """Successful completions."""
    retries: int = 0
    """Attempts repeated after a retryable failure."""
    failures: int = 0
    """Completions that raised an ``OpenAIPolicyError``."""
    length_stops: int = 0
    """Replies cut by ``max_tokens`` (finish_reason "length")."""
    prompt_tokens: int = 0
    """Prompt tokens, as reported by the server."""
    completion_tokens: int = 0
    """Generated tokens, as reported by the server."""
    latency_s: float = 0.0
    """Summed latency of successful completions (retries and waits included)."""

    def as_dict(self) -> dict[str, float]:
        """The totals as a flat dict, plus the mean latency."""
        return {**asdict(self), "mean_latency_s": self.latency_s / max(self.completions, 1)}


@dataclass
class _Session:
    """The HTTP client and concurrency bound of one event loop (neither may cross loops)."""

    client: httpx.AsyncClient
    semaphore: asyncio.Semaphore


class OpenAIClient:
    """Chat completions from one endpoint, with retries; ``stats`` accumulates over every request.

    ``close()`` / ``aclose()`` (or ``with`` / ``async with``) release the HTTP clients.
    """

    def __init__(self, config: OpenAIConfig) -> None:
        """Build a client; no connection is opened until the first request."""
        self.config = config
        self.stats = PolicyStats()
        self.url = f"{config.base_url}/chat/completions"
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Session] = (
            weakref.WeakKeyDictionary()
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rng = random.Random()
        self.dropped_fields: set[str] = set()
        """Fields a server rejected that requests are now sent without (only ``seed``)."""

    async def acomplete(
        self,
        messages: Sequence[Message],
        tools: Sequence[Mapping[str, Any]] | None = None,
        *,
        seed: int | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """One chat completion, with retries; raises an ``OpenAIPolicyError`` subclass on failure.

        A 400/422 that names fields of the request raises ``FieldsRejected`` saying what to change,
        except when ``seed`` alone is named: then this and later requests go without it (a
        ``RuntimeWarning`` says so once).

        Args:
            messages: OpenAI chat messages.
            tools: OpenAI tool specs (``{"type": "function", "function": {...}}``), or None.
            seed: Sampling seed of this request (default: ``config.seed``).
            max_tokens: Reply length cap of this request (default: ``config.max_tokens``).
        """
        start = time.perf_counter()
        body = self._body(messages, tools, seed, max_tokens)
        try:
            data, attempts = await self._send_dropping(body)
            completion = parse_completion(data, self.url, attempts, time.perf_counter() - start)
        except OpenAIPolicyError:
            self.stats.failures += 1
            raise
        self._record(completion)
        return completion

    def complete_sync(self, messages: Sequence[Message], *, seed: int | None = None) -> Completion:
        """``acomplete`` from sync code (raises RuntimeError inside a running event loop)."""
        return self.run_sync(self.acomplete(messages, seed=seed))

    async def alist_models(self) -> list[str]:
        """The model ids the server offers (``GET /models``)."""
        url = f"{self.config.base_url}/models"
        data, attempts = await self._send("GET", url, None)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise MalformedResponse(
                f"{url}: no 'data' list in {snippet(data)}", url=url, attempts=attempts
            )
        return [str(m.get("id")) for m in data["data"] if isinstance(m, dict)]

    def run_sync(
        self, coroutine: Coroutine[Any, Any, _T], *, in_loop_hint: str = SYNC_IN_LOOP_HINT
    ) -> _T:
        """Run ``coroutine`` on this client's private event loop, from sync code.

        Args:
            coroutine: Work that uses this client (its HTTP client lives on that loop).
            in_loop_hint: The RuntimeError's message when called inside a running event loop.

        Raises:
            RuntimeError: called inside a running event loop (the coroutine is closed unrun).
        """
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        if in_loop:
            coroutine.close()
            raise RuntimeError(in_loop_hint)
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Close the HTTP client and the private event loop that the sync calls use."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_until_complete(self.aclose())
            self._loop.close()

    def __enter__(self) -> OpenAIClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.client.aclose()

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def apost(self, url: str, body: Message) -> tuple[Any, int]:
        """POST ``body`` to ``url`` with this client's retries and concurrency bound.

        For other JSON routes of the same server (e.g. ``ServerTokenPolicy``'s token-id routes).

        Returns:
            The decoded JSON body and the number of attempts it took.
        """
        return await self._send("POST", url, body)

    # ---------------------------------------------------------------------------- internals
    def _body(
        self,
        messages: Sequence[Message],
        tools: Sequence[Mapping[str, Any]] | None,
        seed: int | None = None,
        max_tokens: int | None = None,
    ) -> Message:
        config = self.config
        body: Message = {"model": config.model, "messages": list(messages)}
        optional = {
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens if max_tokens is None else max_tokens,
            "seed": config.seed if seed is None else seed,
            "tools": tools and list(tools),
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return self._without(body | config.extra_body)

    async def _send_dropping(self, body: Message) -> tuple[Any, int]:
        """POST a chat request; if the server rejects only droppable fields, resend without them."""
        try:
            return await self._send("POST", self.url, body)
        except FieldsRejected as exc:
            if not set(exc.fields) <= DROPPABLE:
                raise
            self.dropped_fields.update(exc.fields)
            warnings.warn(
                f"{self.url} rejected {', '.join(exc.fields)} ({exc.server_message}); toolgym "
                "now sends its requests without it, so replies are not reproducible",
                RuntimeWarning,
                stacklevel=3,
            )
            self.stats.retries += 1
            return await self._send("POST", self.url, self._without(body))

    def _without(self, body: Message) -> Message:
        return {k: v for k, v in body.items() if k not in self.dropped_fields}

    async def _send(self, method: str, url: str, body: Message | None) -> tuple[Any, int]:
        """Send with retries; returns the decoded JSON body and the attempt count."""
        attempts = self.config.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = await self._attempt(method, url, body)
            except RETRY_EXCEPTIONS as exc:
                if attempt == attempts:
                    raise transport_error(exc, url, attempt) from exc
                delay = self._backoff(attempt)
            else:
                if response.is_success:
                    return response_json(response, url, attempt), attempt
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    raise endpoint_error(response, url, attempt, body)
                delay = self._retry_delay(response, attempt)
            self.stats.retries += 1
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _attempt(self, method: str, url: str, body: Message | None) -> httpx.Response:
        session = self._session()
        async with session.semaphore:
            self.stats.requests += 1
            async with asyncio.timeout(self.config.attempt_timeout):
                return await session.client.request(method, url, json=body)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: uniform in [ceiling / 2, ceiling]."""
        ceiling = min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if retry_after is None:
            return self._backoff(attempt)
        return min(retry_after, self.config.backoff_cap)

    def _record(self, completion: Completion) -> None:
        stats = self.stats
        stats.completions += 1
        stats.length_stops += completion.finish_reason == "length"
        stats.prompt_tokens += completion.prompt_tokens
        stats.completion_tokens += completion.completion_tokens
        stats.latency_s += completion.latency_s

    def _session(self) -> _Session:
        loop = asyncio.get_running_loop()
        if loop not in self._sessions:
            config, key = self.config, self.config.resolved_api_key()
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    config.read_timeout, connect=config.connect_timeout, pool=config.connect_timeout
                ),
                limits=httpx.Limits(
                    max_connections=config.max_concurrency,
                    max_keepalive_connections=config.max_concurrency,
                ),
                headers={"Authorization": f"Bearer {key}"} if key else None,
            )
            self._sessions[loop] = _Session(client, asyncio.Semaphore(config.max_concurrency))
        return self._sessions[loop]
