"""``ChatEngine``: one local transformers model answering chat-completions requests.

A request is rendered to prompt ids (``toolgym.serve.prompt`` + ``ChatTokenizer``), sampled with
``HFPolicy`` (its ``n`` samples share one batch and one prefill of the prompt) and turned into
choices (``toolgym.serve.reply``). Generation is serialized by a lock: one request at a time, in
arrival order; requests are not micro-batched together. A request with a ``seed`` samples from a
generator seeded with it, so the same request with the same seed gets the same reply. Stop
strings (``stop``) cut the finished text; generation itself ends at the model's end-of-turn token
or at the token budget, and ``usage`` counts every generated token.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

from toolgym.formats import FormatName, get_format
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.serve.prompt import conversation, tool_parameters, visible_tools
from toolgym.serve.protocol import ChatCompletion, ChatCompletionRequest, Usage
from toolgym.serve.reply import build_choice, cut_at_stop
from toolgym.tokens.chat import ChatTokenizer


class PromptTooLong(ValueError):
    """The prompt plus the token budget does not fit the model's context."""


class ChatEngine:
    """Renders, samples and parses for one model; safe to call from several threads."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        tool_format: FormatName = "hermes",
        default_max_tokens: int = 512,
    ) -> None:
        """Wrap a transformers causal LM (eval mode; its device is used) and its tokenizer.

        Args:
            model: A transformers causal LM.
            tokenizer: Its tokenizer, with a chat template.
            tool_format: How tools are shown to the model and its calls read back.
            default_max_tokens: Token budget of a request that sets none.
        """
        self.model = model
        self.chat = ChatTokenizer(tokenizer)
        self.tool_format = get_format(tool_format)
        self.default_max_tokens = default_max_tokens
        pad_id = tokenizer.pad_token_id
        self.pad_id: int = pad_id if pad_id is not None else (tokenizer.eos_token_id or 0)
        self.context: int | None = getattr(model.config, "max_position_embeddings", None)
        self._lock = threading.Lock()
        self._seeds = random.Random()  # seeds of requests that bring none

    @property
    def lock(self) -> threading.Lock:
        """Held while the model generates (token-id batches take it too)."""
        return self._lock

    def render(self, request: ChatCompletionRequest) -> str:
        """The prompt text the model is conditioned on (chat template applied)."""
        return self.chat.render(conversation(request, self.tool_format), add_generation_prompt=True)

    def complete(self, request: ChatCompletionRequest, model_name: str) -> ChatCompletion:
        """Answer one request (blocking; waits for the model if another request holds it).

        Raises:
            PromptTooLong: The prompt and the token budget exceed the model's context.
        """
        prompt_ids = self.chat.encode(self.render(request))
        budget = request.budget(self.default_max_tokens)
        if self.context is not None and len(prompt_ids) + budget > self.context:
            raise PromptTooLong(
                f"the prompt has {len(prompt_ids)} tokens and max_tokens is {budget}: together "
                f"more than the model's context of {self.context} tokens; shorten the messages "
                "or lower max_tokens"
            )
        policy = HFPolicy(self.model, self.chat.stop_ids, self.pad_id, self._sampling(request))
        with self._lock:
            generations = policy.generate([prompt_ids] * request.n)
        parameters = tool_parameters(visible_tools(request))
        choices = []
        for index, generation in enumerate(generations):
            ids = generation.token_ids
            text, at_stop_string = cut_at_stop(self.chat.decode(ids), request.stop_strings())
            stopped = at_stop_string or bool(ids and ids[-1] in self.chat.stop_ids)
            choices.append(
                build_choice(
                    index,
                    text,
                    stopped=stopped,
                    tool_format=self.tool_format,
                    parameters=parameters,
                )
            )
        generated = sum(len(g.token_ids) for g in generations)
        return ChatCompletion(
            id=f"chatcmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=model_name,
            choices=choices,
            usage=Usage(
                prompt_tokens=len(prompt_ids),
                completion_tokens=generated,
                total_tokens=len(prompt_ids) + generated,
            ),
        )

    def _sampling(self, request: ChatCompletionRequest) -> SamplingConfig:
        """OpenAI's defaults (temperature 1, top_p 1) where the request leaves a field unset."""
        return SamplingConfig(
            temperature=1.0 if request.temperature is None else request.temperature,
            top_p=1.0 if request.top_p is None else request.top_p,
            max_new_tokens=request.budget(self.default_max_tokens),
            seed=self._seeds.getrandbits(63) if request.seed is None else request.seed,
        )
