"""``HFPolicy``, the local sampler: batched sampling from a transformers causal LM (ids, log-probs).

All live episodes' prefixes go into one left-padded batch; the prompt is prefilled once (the part
common to every row, the system prompt with the tool schemas, only once for the whole batch) and
tokens are decoded one at a time with a KV cache. Each row stops at a stop token or at its budget. The
reported log-prob of a token is ``log_softmax(logits / temperature)`` in float32 (the distribution
the trainer recomputes), whether or not top-p truncated the sampling distribution.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import DynamicCache

from toolgym.tokens.env import Generation
from toolgym.tokens.scoring import (
    MIN_SHARED_PREFIX,
    cache_kwargs,
    expand_cache,
    last_logits_kwargs,
    shared_prefix_length,
)


@dataclass
class SamplingConfig:
    """How to sample.

    Attributes:
        temperature: Softmax temperature; 0 means greedy.
        top_p: Nucleus sampling mass (1.0 = off).
        max_new_tokens: Budget per turn.
        seed: Seed of the sampling generator.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0


class HFPolicy:
    """A local transformers model that generates token ids for many episodes at once."""

    def __init__(
        self,
        model: Any,
        stop_ids: Collection[int],
        pad_id: int,
        config: SamplingConfig | None = None,
    ):
        """Wrap ``model`` (eval mode; its device is used).

        Args:
            model: A transformers causal LM.
            stop_ids: Token ids that end a turn (``ChatTokenizer.stop_ids``).
            pad_id: Id used for left padding (masked out).
            config: Sampling settings.
        """
        self.model, self.pad_id = model, pad_id
        self.config = config or SamplingConfig()
        self.device = next(model.parameters()).device
        self.stop_ids = torch.tensor(sorted(stop_ids), device=self.device)
        self.generator = torch.Generator(device=self.device).manual_seed(self.config.seed)

    @torch.no_grad()
    def generate(
        self, prefixes: Sequence[Sequence[int]], max_new_tokens: Sequence[int] | int | None = None
    ) -> list[Generation]:
        """Sample one continuation per prefix; row i stops at a stop id or ``max_new_tokens[i]``."""
        budgets = _budgets(len(prefixes), max_new_tokens, self.config.max_new_tokens)
        cache, attention_mask, positions, logits = self._prefill(prefixes)
        tokens: list[list[int]] = [[] for _ in prefixes]
        logprobs: list[list[float]] = [[] for _ in prefixes]
        live = torch.tensor([b > 0 for b in budgets], device=self.device)
        next_position = positions[:, -1:] + 1
        for step in range(max(budgets, default=0)):
            chosen, chosen_logprob = self._sample(logits)
            for row in live.nonzero().flatten().tolist():
                tokens[row].append(int(chosen[row]))
                logprobs[row].append(float(chosen_logprob[row]))
            live &= ~torch.isin(chosen, self.stop_ids)
            live &= torch.tensor([step + 1 < b for b in budgets], device=self.device)
            if not live.any():
                break
            attention_mask = torch.cat(
                [attention_mask, torch.ones_like(attention_mask[:, :1])], dim=1
            )
            out = self.model(
                input_ids=chosen[:, None],
                attention_mask=attention_mask,
                position_ids=next_position,
                **cache_kwargs(self.model, cache),  # filled in place
            )
            logits, next_position = out.logits[:, -1], next_position + 1
        return [Generation(tuple(t), tuple(lp)) for t, lp in zip(tokens, logprobs, strict=True)]

    def _prefill(
        self, prefixes: Sequence[Sequence[int]]
    ) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run the prompts; returns (cache, attention mask, position ids, last logits).

        The prefix common to every row (the system prompt with the tool schemas) is run once and
        its cache broadcast; each row's remainder is left-padded after it, so a row reads
        ``[shared | pads | own tokens]`` and positions skip the pads.
        """
        if any(not p for p in prefixes):
            raise ValueError("cannot generate from an empty prefix")
        shared = shared_prefix_length(prefixes)
        cache = DynamicCache(config=self.model.config)
        if shared >= MIN_SHARED_PREFIX:
            head = torch.tensor([list(prefixes[0][:shared])], device=self.device)
            decoder = self.model.base_model  # only the cache is needed: no logits
            decoder(input_ids=head, **cache_kwargs(decoder, cache))
            expand_cache(cache, len(prefixes))
        else:
            shared = 0
        input_ids, own_mask = self._left_pad([p[shared:] for p in prefixes])
        attention_mask = torch.cat([own_mask.new_ones(len(prefixes), shared), own_mask], dim=1)
        positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, shared:]
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=positions,
            **cache_kwargs(self.model, cache),
            **last_logits_kwargs(self.model),
        )
        return cache, attention_mask, positions, out.logits[:, -1]

    def _left_pad(self, prefixes: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(p) for p in prefixes)
        input_ids = torch.full((len(prefixes), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prefixes), width), dtype=torch.long)
        for row, prefix in enumerate(prefixes):
            input_ids[row, width - len(prefix) :] = torch.tensor(list(prefix))
            attention_mask[row, width - len(prefix) :] = 1
        return input_ids.to(self.device), attention_mask.to(self.device)

    def _sample(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, V) logits -> sampled ids (B,) and their log-probs (B,) under logits / temperature."""
        temperature = self.config.temperature
        logprobs = torch.log_softmax(logits.float() / (temperature or 1.0), dim=-1)
        if temperature == 0:
            chosen = logprobs.argmax(dim=-1)
        else:
            probs = _top_p(logprobs.exp(), self.config.top_p)
            chosen = torch.multinomial(probs, 1, generator=self.generator).squeeze(-1)
        return chosen, logprobs.gather(-1, chosen[:, None]).squeeze(-1)


def _top_p(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Zero out the tail beyond cumulative mass ``top_p`` (the top token always stays)."""
    if top_p >= 1.0:
        return probs
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    outside = sorted_probs.cumsum(dim=-1) - sorted_probs > top_p
    sorted_probs = sorted_probs.masked_fill(outside, 0.0)
    return torch.zeros_like(probs).scatter(-1, order, sorted_probs)


def _budgets(count: int, given: Sequence[int] | int | None, default: int) -> list[int]:
    if given is None:
        return [default] * count
    if isinstance(given, int):
        return [min(given, default)] * count
    if len(given) != count:
        raise ValueError(f"{len(given)} budgets for {count} prefixes")
    return [min(int(b), default) for b in given]
