"""``OpenAIPolicy``: a text-level policy backed by any OpenAI-compatible chat-completions endpoint.

Works with vLLM, SGLang, the llama.cpp server and hosted APIs, over httpx. Two tool modes:

- ``"text"``: the env's conversation is sent as is (its system prompt lists the tools in the env's
  format); the reply's ``content`` is the action.
- ``"native"``: the tools go in ``tools=``, the system prompt leaves them out, earlier assistant
  texts become ``tool_calls`` (ids ``call_<turn>_<i>``) and tool results get their
  ``tool_call_id``. The reply's ``tool_calls`` are rendered back into the env's text format, so the
  env parses and scores them like any other agent's text (invalid ones stay malformed).

The core is async (:meth:`OpenAIPolicy.acomplete`, :meth:`~OpenAIPolicy.aplay`,
:meth:`~OpenAIPolicy.arun_episodes`); ``act`` is a sync wrapper for plain sync code such as
``toolgym.policies.play``. Inside a running event loop (async code, Jupyter) use the async API.

Example::

    policy = OpenAIPolicy(OpenAIConfig(base_url="http://localhost:8000/v1", model="Qwen/Qwen3-8B"))
    make = functools.partial(gym.make, "toolgym/Calendar-v0", split="test")
    results = asyncio.run(policy.arun_episodes(make, ["calendar-test-001", "calendar-test-002"]))
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeVar, overload

import gymnasium as gym
import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from toolgym.env import ToolEnv
from toolgym.policies.openai_protocol import (
    Completion,
    EndpointError,
    MalformedResponse,
    Message,
    OpenAIPolicyError,
    error_text,
    native_messages,
    parse_completion,
    render_native_reply,
    response_json,
    retry_after_seconds,
    snippet,
    transport_error,
)
from toolgym.policies.reference import EpisodeRecorder, EpisodeResult
from toolgym.tasks import Task

_T = TypeVar("_T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_EXCEPTIONS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    TimeoutError,
)


class OpenAIConfig(BaseModel):
    """Where and how to query an OpenAI-compatible chat-completions endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="API root, e.g. 'http://localhost:8000/v1'.")
    model: str = Field(description="Model name as the server knows it (see GET /v1/models).")
    api_key: str | None = Field(default=None, repr=False, description="Bearer token, if any.")
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Environment variable read when api_key is unset."
    )
    temperature: float | None = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature (None: not sent)."
    )
    top_p: float | None = Field(
        default=1.0, gt=0.0, le=1.0, description="Nucleus sampling mass (None: not sent)."
    )
    max_tokens: int | None = Field(
        default=1024,
        ge=1,
        description="Reply length cap (None: not sent; for APIs that want "
        "max_completion_tokens instead, put it in extra_body).",
    )
    seed: int | None = Field(default=None, description="Sampling seed, sent only when set.")
    tool_mode: Literal["text", "native"] = Field(
        default="text", description="Tools in the prompt text, or the API's native `tools=`."
    )
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to open a connection.")
    read_timeout: float = Field(default=300.0, gt=0, description="Seconds to wait for each read.")
    attempt_timeout: float = Field(
        default=900.0, gt=0, description="Seconds for one whole attempt."
    )
    max_retries: int = Field(default=4, ge=0, description="Retries after the first attempt.")
    backoff_base: float = Field(default=0.5, gt=0, description="First retry wait, in seconds.")
    backoff_cap: float = Field(
        default=30.0, gt=0, description="Longest single wait, Retry-After included, in seconds."
    )
    max_concurrency: int = Field(default=8, ge=1, description="Requests in flight at once.")
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="Merged last into every request body (server extras)."
    )

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url {value!r} must start with http:// or https://")
        value = value.rstrip("/")
        if value.endswith("/chat/completions"):
            raise ValueError(
                f"base_url {value!r} must be the API root: drop '/chat/completions' "
                "(e.g. http://localhost:8000/v1)"
            )
        return value

    def resolved_api_key(self) -> str | None:
        """``api_key``, else the value of the environment variable ``api_key_env``."""
        return self.api_key or (os.environ.get(self.api_key_env) if self.api_key_env else None)


@dataclass
class PolicyStats:
    """Running totals over every request of one policy, for evaluation reports."""

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


# --------------------------------------------------------------------------------------- policy
class OpenAIPolicy:
    """Asks an OpenAI-compatible endpoint for each assistant message (a ``TextPolicy``).

    ``reset`` + ``act`` play one episode at a time from sync code (e.g. ``play``); ``aplay`` and
    ``arun_episodes`` play many at once. Each event loop gets its own HTTP client and its own
    ``max_concurrency`` bound; ``close()`` / ``aclose()`` (or ``with`` / ``async with``) release
    them. ``stats`` accumulates over every request.
    """

    def __init__(self, config: OpenAIConfig) -> None:
        """Build a policy; no connection is opened until the first request."""
        self.config = config
        self.stats = PolicyStats()
        self.url = f"{config.base_url}/chat/completions"
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Session] = (
            weakref.WeakKeyDictionary()
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rng = random.Random()
        self._env: ToolEnv | None = None
        self._task: Task | None = None

    # ---------------------------------------------------------------- TextPolicy protocol (sync)
    def reset(self, env: ToolEnv, task: Task) -> None:
        """Remember the env and task of the episode that ``act`` plays."""
        self._env, self._task = env, task

    def act(self, messages: list[dict[str, str]]) -> str:
        """The next assistant message (sync; raises RuntimeError inside a running event loop)."""
        return self._run_sync(self.aact(messages))

    def close(self) -> None:
        """Close the HTTP client and the private event loop that ``act`` uses."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_until_complete(self.aclose())
            self._loop.close()

    def __enter__(self) -> OpenAIPolicy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------- async API
    async def aact(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        env: ToolEnv | None = None,
        task: Task | None = None,
    ) -> str:
        """The next assistant message, in the env's text format.

        Args:
            messages: The env's conversation so far (system, user, assistant, tool messages).
            env: The episode's (unwrapped) env; defaults to the one given to ``reset``.
            task: The episode's task; defaults to the one given to ``reset``.
        """
        if self.config.tool_mode == "text":
            return (await self.acomplete([dict(m) for m in messages])).text
        env, task = env or self._env, task or self._task
        if env is None or task is None:
            raise RuntimeError("native tool mode needs the env and task: call reset(env, task)")
        params = {s["function"]["name"]: s["function"]["parameters"] for s in env.tool_specs}
        request = native_messages(
            messages, env.tool_format, params, env.system_prompt(task, with_tools=False)
        )
        completion = await self.acomplete(request, tools=env.tool_specs)
        return render_native_reply(completion, env.tool_format)

    def complete_sync(self, messages: Sequence[Message], *, seed: int | None = None) -> Completion:
        """``acomplete`` from sync code (raises RuntimeError inside a running event loop)."""
        return self._run_sync(self.acomplete(messages, seed=seed))

    async def acomplete(
        self,
        messages: Sequence[Message],
        tools: Sequence[Mapping[str, Any]] | None = None,
        *,
        seed: int | None = None,
    ) -> Completion:
        """One chat completion, with retries; raises an ``OpenAIPolicyError`` subclass on failure.

        Args:
            messages: OpenAI chat messages.
            tools: OpenAI tool specs (``{"type": "function", "function": {...}}``), or None.
            seed: Sampling seed of this request (default: ``config.seed``).
        """
        start = time.perf_counter()
        body = self._body(messages, tools, seed)
        try:
            data, attempts = await self._send("POST", self.url, body)
            completion = parse_completion(data, self.url, attempts, time.perf_counter() - start)
        except OpenAIPolicyError:
            self.stats.failures += 1
            raise
        self._record(completion)
        return completion

    async def alist_models(self) -> list[str]:
        """The model ids the server offers (``GET /models``)."""
        url = f"{self.config.base_url}/models"
        data, attempts = await self._send("GET", url, None)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise MalformedResponse(
                f"{url}: no 'data' list in {snippet(data)}", url=url, attempts=attempts
            )
        return [str(m.get("id")) for m in data["data"] if isinstance(m, dict)]

    async def aplay(
        self, env: gym.Env[Any, Any], *, task_id: str | None = None, seed: int | None = None
    ) -> EpisodeResult:
        """Play one episode in ``env`` (the async twin of ``toolgym.policies.play``)."""
        episode = EpisodeRecorder(env, task_id=task_id, seed=seed)
        while not episode.done:
            base = episode.base
            episode.step(await self.aact(episode.history, env=base, task=base.task))
        return episode.result()

    @overload
    async def arun_episodes(
        self,
        make_env: Callable[[], gym.Env[Any, Any]],
        task_ids: Sequence[str],
        *,
        seed: int | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> list[EpisodeResult]: ...

    @overload
    async def arun_episodes(
        self,
        make_env: Callable[[], gym.Env[Any, Any]],
        task_ids: Sequence[str],
        *,
        seed: int | None = ...,
        return_exceptions: Literal[True],
    ) -> list[EpisodeResult | OpenAIPolicyError]: ...

    async def arun_episodes(
        self,
        make_env: Callable[[], gym.Env[Any, Any]],
        task_ids: Sequence[str],
        *,
        seed: int | None = None,
        return_exceptions: bool = False,
    ) -> list[EpisodeResult] | list[EpisodeResult | OpenAIPolicyError]:
        """Play one episode per task id concurrently, each on its own env from ``make_env``.

        At most ``max_concurrency`` requests are in flight, and at most twice that many envs are
        alive at once. Results come back in the order of ``task_ids``.

        Args:
            make_env: Builds a fresh env, e.g. ``functools.partial(gym.make, "toolgym/Calendar-v0")``.
            task_ids: The tasks to play (repeat an id to play it several times).
            seed: Seed passed to every ``reset``.
            return_exceptions: Return an episode's ``OpenAIPolicyError`` in its place instead of
                raising it (and cancelling the other episodes).
        """
        live = asyncio.Semaphore(2 * self.config.max_concurrency)

        async def episode(task_id: str) -> EpisodeResult | OpenAIPolicyError:
            async with live:
                env = make_env()
                try:
                    return await self.aplay(env, task_id=task_id, seed=seed)
                except OpenAIPolicyError as exc:
                    if return_exceptions:
                        return exc
                    raise
                finally:
                    env.close()

        tasks = [asyncio.create_task(episode(task_id)) for task_id in task_ids]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:  # the first failure: stop the other episodes, then re-raise it
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.client.aclose()

    async def __aenter__(self) -> OpenAIPolicy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ---------------------------------------------------------------------------- internals
    def _body(
        self,
        messages: Sequence[Message],
        tools: Sequence[Mapping[str, Any]] | None,
        seed: int | None = None,
    ) -> Message:
        config = self.config
        body: Message = {"model": config.model, "messages": list(messages)}
        optional = {
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens,
            "seed": config.seed if seed is None else seed,
            "tools": tools and list(tools),
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body | config.extra_body

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
                    raise EndpointError(
                        status_code=response.status_code,
                        url=url,
                        attempts=attempt,
                        server_message=error_text(response),
                    )
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

    def _run_sync(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        if in_loop:
            coroutine.close()
            raise RuntimeError(
                "OpenAIPolicy.act() was called inside a running event loop (async code, Jupyter): "
                "use `await policy.aact(messages, env=..., task=...)`, `aplay` or `arun_episodes`"
            )
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)
