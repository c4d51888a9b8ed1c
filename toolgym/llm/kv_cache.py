"""Cross-turn key/value caches for :class:`toolgym.llm.sampler.HFPolicy`.

A collector's token streams are append-only: an episode's next prefix is its last prefix, the
tokens just generated and the observation delta. The sampler therefore remembers, per returned
row, the keys and values of ``prefix + generated[:-1]`` (the last generated token was never fed
back), keyed by that token sequence. A later prefix that strictly extends a remembered sequence
reuses its keys and values, and only the remainder is prefilled; cached keys already carry their
rotary positions, so the result is the uncached computation up to float rounding.

Memory is bounded: an entry that a call extends is replaced by the longer row; an entry no call
has extended for ``max_idle_calls`` calls is dropped (a finished episode's rows go soon, while the
requests of one round split over a few calls, as a server's micro-batches are, keep theirs); at
most ``max_entries`` rows are kept (the least recently stored go first); and the store empties
itself when the model's weights change in place (optimizer steps, ``load_state_dict``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer


@dataclass
class RowCache:
    """One row's keys and values.

    Attributes:
        tokens: The token sequence the keys and values are for (positions ``0..len-1``).
        keys: Per layer, (kv_heads, len, head_dim).
        values: Per layer, (kv_heads, len, head_dim).
    """

    tokens: tuple[int, ...]
    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    stored_at: int = 0  # the store's call count when the row was stored

    def __len__(self) -> int:
        return len(self.tokens)


class PrefixStore:
    """The rows remembered from the last call, found again by token-sequence extension."""

    def __init__(self, model: Any, max_entries: int = 256, max_idle_calls: int = 2):
        """Remember at most ``max_entries`` rows of ``model``'s caches.

        Args:
            model: The causal LM whose caches are stored (its weights are watched).
            max_entries: Cap on remembered rows (the least recently stored go first).
            max_idle_calls: A row is dropped once this many later calls stored rows without
                extending it.
        """
        self.model, self.max_entries, self.max_idle_calls = model, max_entries, max_idle_calls
        self.calls = 0
        self.entries: list[RowCache] = []
        self._extended: list[RowCache] = []  # the last lookup's hits, superseded by its rows
        self._weights = self._fingerprint()

    def clear(self) -> None:
        """Forget every entry (call after changing the weights without in-place ops)."""
        self.entries, self._extended = [], []

    def lookup(self, prefixes: Sequence[Sequence[int]]) -> list[RowCache | None]:
        """Per prefix, the remembered row it strictly extends (``None`` if there is none).

        Rows usually come back in the order they were stored, so the scan starts just after the
        previous hit and wraps around.
        """
        if self._fingerprint() != self._weights:
            self.clear()
            self._weights = self._fingerprint()
        found: list[RowCache | None] = []
        start, count = 0, len(self.entries)
        for prefix in prefixes:
            hit = None
            for offset in range(count):
                index = (start + offset) % count
                entry = self.entries[index]
                if len(entry) < len(prefix) and tuple(prefix[: len(entry)]) == entry.tokens:
                    hit, start = entry, index + 1
                    break
            found.append(hit)
        self._extended = [hit for hit in found if hit is not None]
        return found

    def replace(self, rows: Sequence[RowCache]) -> None:
        """Store ``rows``: they supersede the last lookup's hits; the oldest go past the cap."""
        self.calls += 1
        superseded = {id(entry) for entry in self._extended}
        oldest = self.calls - self.max_idle_calls
        kept = [e for e in self.entries if id(e) not in superseded and e.stored_at > oldest]
        fresh = [row for row in rows if len(row) > 0]
        for row in fresh:
            row.stored_at = self.calls
        self.entries = (kept + fresh)[-self.max_entries :] if self.max_entries else []
        self._extended = []

    def _fingerprint(self) -> int:
        """Sum of the parameters' version counters: it moves whenever a weight changes in place."""
        return sum(p._version for p in self.model.parameters())


def supports(cache: Any) -> bool:
    """Whether every layer of ``cache`` is a plain full-attention :class:`DynamicLayer`."""
    return all(type(layer) is DynamicLayer for layer in cache.layers)


def batch_cache(
    config: Any, rows: Sequence[RowCache | None], device: torch.device
) -> tuple[Any, torch.Tensor]:
    """Left-pad the rows' caches into one batch cache; returns it and its (B, C) attention mask.

    Row ``i`` reads ``[pads | its cached tokens]``; a row without a cache is all pads. Callers
    must pass at least one row with a cache.
    """
    width = max(len(row) for row in rows if row is not None)
    mask = torch.zeros((len(rows), width), dtype=torch.long, device=device)
    cache: Any = DynamicCache(config=config)
    for layer_index, layer in enumerate(cache.layers):
        keys, values = (
            _padded([None if r is None else getattr(r, name)[layer_index] for r in rows], width)
            for name in ("keys", "values")
        )
        layer.update(keys, values)
    for row_index, row in enumerate(rows):
        if row is not None:
            mask[row_index, width - len(row) :] = 1
    return cache, mask


def _padded(tensors: Sequence[torch.Tensor | None], width: int) -> torch.Tensor:
    """Stack (H, L_i, D) tensors into (B, H, width, D), each right-aligned, zeros elsewhere."""
    sample = next(t for t in tensors if t is not None)
    heads, _, dim = sample.shape
    out = sample.new_zeros((len(tensors), heads, width, dim))
    for index, tensor in enumerate(tensors):
        if tensor is not None and tensor.shape[1]:
            out[index, :, width - tensor.shape[1] :] = tensor
    return out


def first_row(cache: Any, tokens: Sequence[int]) -> RowCache:
    """Row 0 of a cache that holds exactly ``tokens`` (views, no copy)."""
    return RowCache(
        tuple(tokens),
        [layer.keys[0] for layer in cache.layers],
        [layer.values[0] for layer in cache.layers],
    )


def extract_rows(
    cache: Any, sequences: Sequence[tuple[int, ...]], valid: Sequence[torch.Tensor]
) -> list[RowCache]:
    """Per row, the keys and values at its valid cache positions, compact, keyed by its tokens.

    Args:
        cache: The batch cache after decoding.
        sequences: Per row, the token sequence whose keys and values are wanted.
        valid: Per row, the cache positions (long tensor) holding exactly those tokens, in order.
    """
    rows = []
    for row_index, (tokens, positions) in enumerate(zip(sequences, valid, strict=True)):
        if len(tokens) != len(positions):
            raise AssertionError("cache positions do not match the remembered tokens")
        rows.append(
            RowCache(
                tokens,
                [layer.keys[row_index].index_select(1, positions) for layer in cache.layers],
                [layer.values[row_index].index_select(1, positions) for layer in cache.layers],
            )
        )
    return rows
