"""``OpenAIPolicy``: a text-level policy backed by any OpenAI-compatible chat-completions endpoint.

Works with vLLM, SGLang, the llama.cpp server and hosted APIs, through
:class:`~toolgym.llm.client.OpenAIClient` (timeouts, retries, stats). Two tool modes:

- ``"text"``: the env's conversation is sent as is (its system prompt lists the tools in the env's
  format); the reply's ``content`` is the action.
- ``"native"``: the tools go in ``tools=``, the system prompt leaves them out, earlier assistant
  texts become ``tool_calls`` (ids ``call_<turn>_<i>``) and tool results get their
  ``tool_call_id``. The reply's ``tool_calls`` are rendered back into the env's text format, so the
  env parses and scores them like any other agent's text (invalid ones stay malformed); a call the
  server left in ``content`` (no tool parser) is parsed from the text the same way. Native mode
  needs the server's chat template to show the tools to the model: with ``check_tools`` (on in
  ``toolgym eval`` / ``toolgym run``), the first native request is repeated without ``tools``
  (one token, its own client, so ``stats`` stay the episodes'); equal prompt token counts mean
  the server dropped them (``transformers serve`` with a template that ignores ``tools=``, such
  as SmolLM2's), and a ``RuntimeWarning`` says to use ``tool_mode="text"``. The result is in
  :attr:`OpenAIPolicy.tools_in_prompt`.

The core is async (:meth:`OpenAIPolicy.aact`, :meth:`~OpenAIPolicy.aplay`,
:meth:`~OpenAIPolicy.arun_episodes`); ``act`` is a sync wrapper for plain sync code such as
``toolgym.policies.play``. Inside a running event loop (async code, Jupyter) use the async API.

Example::

    policy = OpenAIPolicy(OpenAIConfig(base_url="http://localhost:8000/v1", model="Qwen/Qwen3-8B"))
    make = functools.partial(gym.make, "toolgym/Calendar-v0", split="test")
    results = asyncio.run(policy.arun_episodes(make, ["calendar-test-001", "calendar-test-002"]))
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, overload

import gymnasium as gym

from toolgym.env import ToolEnv
from toolgym.llm.client import OpenAIClient, PolicyStats
from toolgym.llm.config import OpenAIConfig
from toolgym.llm.errors import OpenAIPolicyError
from toolgym.llm.protocol import Completion, Message
from toolgym.policies.native_tools import native_messages, render_native_reply
from toolgym.policies.play import EpisodeRecorder, EpisodeResult
from toolgym.tasks import Task

ACT_IN_LOOP_HINT = (
    "OpenAIPolicy.act() was called inside a running event loop (async code, Jupyter): "
    "use `await policy.aact(messages, env=..., task=...)`, `aplay` or `arun_episodes`"
)


class OpenAIPolicy:
    """Asks an OpenAI-compatible endpoint for each assistant message (a ``TextPolicy``).

    ``reset`` + ``act`` play one episode at a time from sync code (e.g. ``play``); ``aplay`` and
    ``arun_episodes`` play many at once. Requests go through ``client`` (an
    :class:`~toolgym.llm.client.OpenAIClient`): each event loop gets its own HTTP client and its
    own ``max_concurrency`` bound; ``close()`` / ``aclose()`` (or ``with`` / ``async with``)
    release them. ``stats`` accumulates over every request.
    """

    def __init__(self, config: OpenAIConfig, *, check_tools: bool = False) -> None:
        """Build a policy; no connection is opened until the first request.

        Args:
            config: The endpoint, model, sampling and tool mode.
            check_tools: In native mode, check once that the server shows the tools to the model
                (one extra one-token request, on its own client) and warn if it does not.
        """
        self.config = config
        self.client = OpenAIClient(config)
        self.tools_in_prompt: bool | None = None
        """Native mode: whether the server put ``tools`` in the prompt (None: not checked yet,
        not checkable because the server reports no prompt tokens, or the check failed)."""
        self._check_tools = check_tools and config.tool_mode == "native"
        self._env: ToolEnv | None = None
        self._task: Task | None = None

    @property
    def stats(self) -> PolicyStats:
        """The client's running totals over every request."""
        return self.client.stats

    # ---------------------------------------------------------------- TextPolicy protocol (sync)
    def reset(self, env: ToolEnv, task: Task) -> None:
        """Remember the env and task of the episode that ``act`` plays."""
        self._env, self._task = env, task

    def act(self, messages: list[dict[str, str]]) -> str:
        """The next assistant message (sync; raises RuntimeError inside a running event loop)."""
        return self.client.run_sync(self.aact(messages), in_loop_hint=ACT_IN_LOOP_HINT)

    def close(self) -> None:
        """Close the HTTP client and the private event loop that ``act`` uses."""
        self.client.close()

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
            return (await self.client.acomplete([dict(m) for m in messages])).text
        env, task = env or self._env, task or self._task
        if env is None or task is None:
            raise RuntimeError("native tool mode needs the env and task: call reset(env, task)")
        params = {s["function"]["name"]: s["function"]["parameters"] for s in env.tool_specs}
        request = native_messages(
            messages, env.tool_format, params, env.system_prompt(task, with_tools=False)
        )
        completion = await self.client.acomplete(request, tools=env.tool_specs)
        if self._check_tools:
            self._check_tools = False
            await self._check_tools_in_prompt(request, completion)
        return render_native_reply(completion, env.tool_format)

    async def _check_tools_in_prompt(self, request: list[Message], completion: Completion) -> None:
        """Repeat ``request`` without tools: the same prompt token count means they were dropped."""
        if completion.prompt_tokens <= 0:
            return
        probe = OpenAIClient(self.config.model_copy(update={"max_retries": 0}))
        probe.dropped_fields |= self.client.dropped_fields
        try:
            bare = await probe.acomplete(request, max_tokens=1)
        except OpenAIPolicyError:
            return  # no verdict; the episode goes on
        finally:
            await probe.aclose()
        if bare.prompt_tokens <= 0:
            return
        self.tools_in_prompt = bare.prompt_tokens != completion.prompt_tokens
        if not self.tools_in_prompt:
            warnings.warn(
                f"{self.client.url}: the model {self.config.model!r} was not shown the tools: "
                f"the prompt is {completion.prompt_tokens} tokens with and without `tools` (the "
                "server's chat template drops them, e.g. transformers serve with SmolLM2); "
                "use tool_mode='text' (--tool-mode text) so toolgym puts them in the prompt",
                RuntimeWarning,
                stacklevel=2,
            )

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
        await self.client.aclose()

    async def __aenter__(self) -> OpenAIPolicy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
