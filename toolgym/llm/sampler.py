"""``HFPolicy``, the local sampler: batched sampling from a transformers causal LM (ids, log-probs).

All live episodes' prefixes go into one left-padded batch; the prompt is prefilled once (the part
common to every row, the system prompt with the tool schemas, only once for the whole batch) and
tokens are decoded one at a time with a KV cache. Each row stops at a stop token or at its budget. The
reported log-prob of a token is ``log_softmax(logits / temperature)`` in float32 (the distribution
the trainer recomputes), whether or not top-p truncated the sampling distribution.

Across calls the sampler keeps each returned row's key/value cache (:mod:`toolgym.llm.kv_cache`):
a prefix that extends a row of the previous call (an episode's next turn) prefills only its new
tokens. ``SamplingConfig.kv_cache=False`` turns that off.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import DynamicCache

from toolgym.llm.kv_cache import PrefixStore, batch_cache, extract_rows, first_row, supports
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
        kv_cache: Keep each returned row's key/value cache for the next call, so a prefix that
            extends it prefills only the new tokens (exact up to float rounding).
        kv_cache_entries: Cap on the rows kept between calls.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0
    kv_cache: bool = True
    kv_cache_entries: int = 256


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
        cacheable = self.config.kv_cache and supports(DynamicCache(config=model.config))
        self.store = PrefixStore(model, self.config.kv_cache_entries) if cacheable else None
        self.prefill_tokens = 0
        """Tokens run through the model by prefills so far (the cache's saving shows here)."""

    def clear_cache(self) -> None:
        """Forget the kept key/value caches (needed only after editing weights via ``.data``)."""
        if self.store is not None:
            self.store.clear()

    @torch.no_grad()
    def generate(
        self, prefixes: Sequence[Sequence[int]], max_new_tokens: Sequence[int] | int | None = None
    ) -> list[Generation]:
        """Sample one continuation per prefix; row i stops at a stop id or ``max_new_tokens[i]``."""
        budgets = _budgets(len(prefixes), max_new_tokens, self.config.max_new_tokens)
        if self.store is None:
            cache, attention_mask, positions, logits = self._prefill(prefixes)
        else:
            cache, attention_mask, positions, logits = self._prefill_cached(prefixes)
        prefilled = attention_mask.shape[1]
        tokens, logprobs, attention_mask = self._decode(
            cache, attention_mask, positions, logits, budgets
        )
        if self.store is not None:
            self._remember(prefixes, tokens, cache, attention_mask[:, :prefilled])
        return [Generation(tuple(t), tuple(lp)) for t, lp in zip(tokens, logprobs, strict=True)]

    def _decode(
        self,
        cache: Any,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        logits: torch.Tensor,
        budgets: list[int],
    ) -> tuple[list[list[int]], list[list[float]], torch.Tensor]:
        """Sample token by token; returns per-row tokens, log-probs and the final attention mask."""
        tokens: list[list[int]] = [[] for _ in budgets]
        logprobs: list[list[float]] = [[] for _ in budgets]
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
        return tokens, logprobs, attention_mask

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
        self.prefill_tokens += shared + sum(len(p) - shared for p in prefixes)
        cached_mask = torch.ones((len(prefixes), shared), dtype=torch.long, device=self.device)
        return self._extend(cache, cached_mask, [p[shared:] for p in prefixes])

    def _extend(
        self, cache: Any, cached_mask: torch.Tensor, deltas: Sequence[Sequence[int]]
    ) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run each row's ``delta`` after the cached (B, C) part; the last position's logits."""
        input_ids, own_mask = self._left_pad(deltas)
        attention_mask = torch.cat([cached_mask, own_mask], dim=1)
        positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, cached_mask.shape[1] :]
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=positions,
            **cache_kwargs(self.model, cache),
            **last_logits_kwargs(self.model),
        )
        return cache, attention_mask, positions, out.logits[:, -1]

    def _prefill_cached(
        self, prefixes: Sequence[Sequence[int]]
    ) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``_prefill`` that starts each row from the kept cache it extends, if any.

        A row reads ``[pads | cached tokens | pads | new tokens]``; the attention mask hides the
        pads and positions count only real tokens, so every token sits where the uncached path
        puts it. Rows without a kept cache share their common prefix as in ``_prefill``.
        """
        assert self.store is not None
        if any(not p for p in prefixes):
            raise ValueError("cannot generate from an empty prefix")
        rows = self.store.lookup(prefixes)
        if all(row is None for row in rows):
            return self._prefill(prefixes)
        misses = [i for i, row in enumerate(rows) if row is None]
        shared = shared_prefix_length([prefixes[i] for i in misses])
        if shared >= MIN_SHARED_PREFIX:
            head = prefixes[misses[0]][:shared]
            cache = DynamicCache(config=self.model.config)
            decoder = self.model.base_model
            decoder(
                input_ids=torch.tensor([list(head)], device=self.device),
                **cache_kwargs(decoder, cache),
            )
            self.prefill_tokens += shared
            common = first_row(cache, head)
            for i in misses:
                rows[i] = common
        cache, cached_mask = batch_cache(self.model.config, rows, self.device)
        deltas = [
            p[len(row) :] if row is not None else p for p, row in zip(prefixes, rows, strict=True)
        ]
        self.prefill_tokens += sum(map(len, deltas))
        return self._extend(cache, cached_mask, deltas)

    def _remember(
        self,
        prefixes: Sequence[Sequence[int]],
        tokens: list[list[int]],
        cache: Any,
        prefill_mask: torch.Tensor,
    ) -> None:
        """Keep, per row, the cache of ``prefix + tokens[:-1]`` (the last token was never fed)."""
        width = prefill_mask.shape[1]
        sequences, valid = [], []
        for row, (prefix, generated) in enumerate(zip(prefixes, tokens, strict=True)):
            fed = generated[:-1]
            sequences.append((*prefix, *fed))
            valid.append(
                torch.cat(
                    [
                        prefill_mask[row].nonzero().flatten(),
                        torch.arange(width, width + len(fed), device=self.device),
                    ]
                )
            )
        self.store.replace(extract_rows(cache, sequences, valid))  # type: ignore[union-attr]

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
