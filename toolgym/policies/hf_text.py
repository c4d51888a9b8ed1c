"""``HFTextPolicy``: a local transformers model as a text-level policy, for evaluation."""

from __future__ import annotations

from typing import Any

from toolgym.llm.sampler import HFPolicy, SamplingConfig


class HFTextPolicy:
    """A local model as a text-level policy (the ``TextPolicy`` protocol), for evaluation.

    Each turn renders the whole conversation through the chat template and samples one reply;
    for training, use :class:`HFPolicy` through the token-level Collector instead.
    """

    def __init__(self, model: Any, tokenizer: Any, config: SamplingConfig | None = None) -> None:
        """Wrap a transformers model and its tokenizer (which must have a chat template)."""
        from toolgym.tokens.chat import ChatTokenizer

        self.chat = ChatTokenizer(tokenizer)
        self.policy = HFPolicy(model, self.chat.stop_ids, tokenizer.pad_token_id, config)

    def reset(self, env: Any, task: Any) -> None:
        """Nothing to prepare: the conversation carries everything."""

    def act(self, messages: list[dict[str, str]]) -> str:
        """Sample the next assistant message."""
        (generation,) = self.policy.generate([self.chat.prompt_ids(messages)])
        return self.chat.decode(generation.token_ids)
