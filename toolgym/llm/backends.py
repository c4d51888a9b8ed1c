"""Chat backends for model-driven users (and judges): a local transformers model or an endpoint.

A backend turns OpenAI-style messages into one reply, seeded per call, and reports what it cost.
Both kinds fail the same way, with :class:`BackendError` after their own retries, so a caller
handles one exception type.

- :class:`LocalBackend`: a transformers causal LM in this process (SmolLM2, a frozen copy of the
  policy, any model with a chat template). Replies are sampled with a generator seeded per call,
  so the same prompt and seed give the same reply.
- :class:`EndpointBackend`: any OpenAI-compatible chat-completions endpoint (``toolgym serve``,
  vLLM, a hosted API) over httpx, with the timeouts, retries and backoff of ``OpenAIClient``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from toolgym.llm.config import OpenAIConfig


@dataclass(frozen=True)
class BackendReply:
    """One reply and its cost.

    Attributes:
        text: The reply text.
        prompt_tokens: Prompt tokens (as counted by the model or reported by the server).
        completion_tokens: Generated tokens.
        seconds: Wall time of the call, retries included.
        finish_reason: ``stop`` or ``length`` (cut by the token budget), when known.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str | None = None


class BackendError(RuntimeError):
    """The backend gave no usable reply (after its retries): unreachable, 5xx, timeout, bad JSON."""


class ChatBackend(Protocol):
    """Anything that answers a chat: the model side of ``LLMUser`` and ``LLMJudge``."""

    @property
    def fingerprint(self) -> str:
        """Names the model and its sampling settings (part of record/replay cache keys)."""
        ...

    def complete(self, messages: list[dict[str, str]], seed: int) -> BackendReply:
        """One reply to ``messages``, sampled with ``seed``.

        Raises:
            BackendError: no usable reply.
        """
        ...


class LocalBackend:
    """A local transformers model with a chat template."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "local",
        temperature: float = 0.7,
        top_p: float = 1.0,
        max_new_tokens: int = 96,
        frozen_copy: bool = False,
    ) -> None:
        """Wrap ``model``.

        Args:
            model: A transformers causal LM.
            tokenizer: Its tokenizer (with a chat template).
            name: Model name, used in cache keys (e.g. ``smollm2-135m``).
            temperature: Sampling temperature (0 = greedy).
            top_p: Nucleus sampling mass.
            max_new_tokens: Longest reply, in tokens.
            frozen_copy: Use a frozen copy of the weights (pass the policy being trained and set
                this, so the user does not change as the policy learns).
        """
        from toolgym.llm.sampler import HFPolicy, SamplingConfig
        from toolgym.tokens.chat import ChatTokenizer

        if frozen_copy:
            model = copy.deepcopy(model).eval().requires_grad_(False)
        self.name, self.chat = name, ChatTokenizer(tokenizer)
        sampling = SamplingConfig(temperature, top_p, max_new_tokens)
        self.policy = HFPolicy(model, self.chat.stop_ids, tokenizer.pad_token_id, sampling)

    def __deepcopy__(self, memo: dict[int, Any]) -> LocalBackend:
        """This very backend: a copied env or user shares the model (replies are seeded per call)."""
        return self

    @property
    def fingerprint(self) -> str:
        """Model name and sampling settings."""
        c = self.policy.config
        return f"local:{self.name}:t={c.temperature}:p={c.top_p}:n={c.max_new_tokens}"

    def complete(self, messages: list[dict[str, str]], seed: int) -> BackendReply:
        """Sample one reply with a generator seeded by ``seed``."""
        start = time.perf_counter()
        try:
            prompt = self.chat.prompt_ids(messages)
            self.policy.generator.manual_seed(seed)
            (generation,) = self.policy.generate([prompt])
        except (RuntimeError, ValueError) as exc:  # e.g. a template error, out of memory
            raise BackendError(f"local model {self.name!r} failed: {exc}") from exc
        ids = generation.token_ids
        stopped = bool(ids) and ids[-1] in self.chat.stop_ids
        return BackendReply(
            text=self.chat.decode(ids).strip(),
            prompt_tokens=len(prompt),
            completion_tokens=len(ids),
            seconds=time.perf_counter() - start,
            finish_reason="stop" if stopped else "length",
        )


class EndpointBackend:
    """An OpenAI-compatible endpoint, through an ``OpenAIClient`` (timeouts, retries)."""

    def __init__(self, config: OpenAIConfig) -> None:
        """Talk to ``config.base_url`` as ``config.model``; sampling settings come from ``config``."""
        from toolgym.llm.client import OpenAIClient

        self.config = config
        self.client = OpenAIClient(config)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the config: the loading process opens its own connections."""
        return EndpointBackend, (self.config,)

    def __deepcopy__(self, memo: dict[int, Any]) -> EndpointBackend:
        """This very backend: a copied env or user shares its connections (replies are seeded)."""
        return self

    @property
    def fingerprint(self) -> str:
        """Endpoint model and sampling settings (the URL is left out: a moved server still hits)."""
        c = self.config
        return f"endpoint:{c.model}:t={c.temperature}:p={c.top_p}:n={c.max_tokens}"

    def complete(self, messages: list[dict[str, str]], seed: int) -> BackendReply:
        """One completion with ``seed`` (servers that ignore seeds may still vary)."""
        from toolgym.llm.errors import OpenAIPolicyError

        try:
            completion = self.client.complete_sync(messages, seed=seed)
        except OpenAIPolicyError as exc:
            raise BackendError(str(exc)) from exc
        return BackendReply(
            text=completion.text.strip(),
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            seconds=completion.latency_s,
            finish_reason=completion.finish_reason,
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
