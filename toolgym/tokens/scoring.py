"""Teacher-forced scoring of a :class:`Batch`: per-token log-probs, entropies and hidden states.

One forward pass serves SFT, the policy-gradient and PPO steps, the reference model and the
critic. Two exact savings make it cheap for tool-calling batches:

* **Shared prefix.** Every row of a batch from one environment starts with the same system
  prompt (the tool schemas: ~600 of ~900 tokens in a Search episode). That prefix is run once
  and its key/value cache is broadcast to every row; gradients from all rows flow back into the
  one prefix computation, so values and gradients equal the plain forward's.
* **Logits where needed.** The vocabulary projection (a fifth of a 135M model's compute) runs
  only at the positions that predict a trainable token (``loss_mask``), not at every position.
* **Logits a chunk at a time.** Past ``LOGIT_CHUNK`` such positions the (N, V) logits are made
  ``LOGIT_CHUNK`` rows at a time; when training, each chunk is recomputed in the backward pass
  (activation checkpointing of the head) instead of kept, so memory holds one chunk's logits,
  not N x 49,152 floats (3 GB for 16 whole Search episodes). Values and gradients are unchanged.

Under activation (gradient) checkpointing the prefix runs without checkpointing (one row) and
the suffix's checkpointed layers read its keys and values through a cache that is never written,
so the backward replay of a layer sees exactly what its forward saw.

Log-probs and entropies are therefore defined on ``loss_mask`` and are 0 elsewhere.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint
from transformers.cache_utils import DynamicCache, DynamicLayer
from transformers.modeling_layers import GradientCheckpointingLayer

from toolgym.tokens.trajectory import Batch

MIN_SHARED_PREFIX = 16
"""A common prefix shorter than this is not worth a separate forward pass."""

LOGIT_CHUNK = 4096
"""Scored positions whose logits exist at once (above it the head runs chunk by chunk)."""


@dataclass
class Scores:
    """What one forward pass over a batch gives.

    Attributes:
        logprobs: (B, T) log-prob of token t given the tokens before it, under
            ``logits / temperature``; 0 where ``loss_mask`` is 0.
        entropy: (B, T) entropy of the distribution that predicts token t; 0 where ``loss_mask``
            is 0. ``None`` unless asked for.
        hidden: (B, T, H) the decoder's last hidden states (after the final norm). ``None``
            unless asked for.
    """

    logprobs: Tensor
    entropy: Tensor | None = None
    hidden: Tensor | None = None


def shared_prefix_length(rows: Sequence[Sequence[int]], keep: int = 1) -> int:
    """Length of the longest common prefix of ``rows``, leaving at least ``keep`` tokens per row."""
    if len(rows) < 2:
        return 0
    limit = min(len(r) for r in rows) - keep
    first = rows[0]
    length = 0
    while length < limit and all(r[length] == first[length] for r in rows):
        length += 1
    return max(length, 0)


def expand_cache(cache: Any, batch_size: int) -> Any:
    """Broadcast a batch-1 key/value cache to ``batch_size`` rows (views; autograd sums back)."""
    for layer in cache.layers:
        layer.keys = layer.keys.expand(batch_size, *layer.keys.shape[1:])
        layer.values = layer.values.expand(batch_size, *layer.values.shape[1:])
    return cache


class _PrefixLayer(DynamicLayer):
    """A shared prefix's keys and values for one layer, read but never written.

    ``update`` returns the prefix followed by the new tokens' keys and values without storing
    them, so replaying a layer (activation checkpointing's backward) gives the same result.
    """

    def update(
        self, key_states: Tensor, value_states: Tensor, *args: Any, **kwargs: Any
    ) -> tuple[Tensor, Tensor]:
        assert self.keys is not None and self.values is not None, "set by read_only_prefix"
        return (
            torch.cat([self.keys, key_states], dim=-2),
            torch.cat([self.values, value_states], dim=-2),
        )


def cache_kwargs(model: Any, cache: Any, use_cache: bool = True) -> dict[str, Any]:
    """Keyword arguments that pass ``cache`` under the name ``model.forward`` takes.

    That is ``cache``, or the older ``past_key_values``; the cache is filled in place, so callers
    keep their reference.

    A passed cache is read and extended even with ``use_cache=False``, which scoring uses so
    that transformers does not warn that caching is off under activation checkpointing.
    """
    name = "cache" if _takes(model, "cache") else "past_key_values"
    return {name: cache, "use_cache": use_cache}


def last_logits_kwargs(model: Any) -> dict[str, Any]:
    """Keyword arguments that ask a causal LM for the last position's logits only.

    A prefill then skips the vocabulary projection of every other position (``logits_to_keep``;
    empty for models without it).
    """
    return {"logits_to_keep": 1} if _takes(model, "logits_to_keep") else {}


def _takes(model: Any, name: str) -> bool:
    """Whether ``model.forward`` has a parameter called ``name``."""
    return name in _parameters(type(model).forward)


@functools.cache
def _parameters(forward: Callable[..., Any]) -> frozenset[str]:
    return frozenset(inspect.signature(forward).parameters)


def read_only_prefix(cache: Any, batch_size: int) -> Any:
    """``cache`` (batch 1) broadcast to ``batch_size`` rows as read-only :class:`_PrefixLayer` s."""
    for index, layer in enumerate(cache.layers):
        shared = _PrefixLayer()
        shared.lazy_initialization(layer.keys, layer.values)
        shared.keys = layer.keys.expand(batch_size, *layer.keys.shape[1:])
        shared.values = layer.values.expand(batch_size, *layer.values.shape[1:])
        cache.layers[index] = shared
    return cache


def score(
    model: Any,
    batch: Batch,
    temperature: float = 1.0,
    *,
    entropy: bool = False,
    entropy_grad: bool = False,
    hidden: bool = False,
) -> Scores:
    """Score ``batch`` under ``model`` (see the module docstring); differentiable when training.

    The model must be a transformers causal LM whose head is a linear layer over the decoder's
    last hidden state (Llama, Qwen, Mistral, SmolLM, GLM, ...; Gemma-style logit soft-capping is
    applied when the config sets it). The entropy is differentiable only with ``entropy_grad``
    (an entropy bonus); as a diagnostic it keeps no graph, which saves two (N, V) tensors.
    """
    states = last_hidden_states(model, batch)
    rows, cols = batch.loss_mask[:, 1:].nonzero(
        as_tuple=True
    )  # token cols + 1 is predicted at cols
    head = functools.partial(
        _head_scores,
        model,
        temperature=temperature,
        entropy=entropy or entropy_grad,
        entropy_grad=entropy_grad and torch.is_grad_enabled(),
    )
    picked, values = _chunked(head, states[rows, cols], batch.input_ids[rows, cols + 1])
    result = Scores(_scatter(picked, batch, rows, cols + 1))
    if entropy or entropy_grad:
        result.entropy = _scatter(values, batch, rows, cols + 1)
    if hidden:
        result.hidden = states
    return result


def _chunked(
    head: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]], states: Tensor, targets: Tensor
) -> tuple[Tensor, Tensor]:
    """``head`` over (N, H) ``states``, ``LOGIT_CHUNK`` rows at a time past that size.

    When training, a chunk keeps only its inputs and is recomputed in the backward pass.
    """
    if len(states) <= LOGIT_CHUNK:
        return head(states, targets)
    parts = []
    for start in range(0, len(states), LOGIT_CHUNK):
        chunk = states[start : start + LOGIT_CHUNK], targets[start : start + LOGIT_CHUNK]
        if torch.is_grad_enabled():
            parts.append(checkpoint(head, *chunk, use_reentrant=False))
        else:
            parts.append(head(*chunk))
    return torch.cat([p for p, _ in parts]), torch.cat([e for _, e in parts])


def _head_scores(
    model: Any,
    states: Tensor,
    targets: Tensor,
    *,
    temperature: float,
    entropy: bool,
    entropy_grad: bool,
) -> tuple[Tensor, Tensor]:
    """(N,) log-prob of each target under ``logits / temperature``, and (N,) entropies (or empty).

    The entropy is differentiable only with ``entropy_grad``; as a diagnostic it keeps no graph.
    """
    logits = model.get_output_embeddings()(states)  # (N, V)
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = cap * torch.tanh(logits / cap)
    logprobs = torch.log_softmax(logits.float() / temperature, dim=-1)
    picked = logprobs.gather(-1, targets[:, None]).squeeze(-1)
    values = picked.new_zeros(0)
    if entropy:
        with torch.set_grad_enabled(entropy_grad):
            values = -(logprobs.exp() * logprobs).sum(-1)  # (N, V) temporaries: no graph if unused
    return picked, values


def token_logprobs(model: Any, batch: Batch, temperature: float = 1.0) -> Tensor:
    """(B, T) log-prob of each trainable token given the tokens before it (0 off ``loss_mask``).

    Compare with ``batch.old_logprobs`` on ``loss_mask``.
    """
    return score(model, batch, temperature).logprobs


def last_hidden_states(model: Any, batch: Batch) -> Tensor:
    """(B, T, H) last hidden states of a causal LM's decoder, running a shared prefix once."""
    decoder = model.base_model
    has_loss = batch.loss_mask.any(dim=1)
    first_loss = torch.where(
        has_loss, batch.loss_mask.float().argmax(dim=1), batch.attention_mask.sum(dim=1)
    )
    agree = (batch.input_ids == batch.input_ids[:1]).all(dim=0).long().cumprod(dim=0).sum()
    shared = int(torch.minimum(agree, first_loss.min() - 1))  # ends before any trainable token
    if len(batch.input_ids) < 2:
        shared = 0  # nothing to share with
    replay_safe = hasattr(GradientCheckpointingLayer, "_can_checkpoint_with_cache")
    cache = _dynamic_cache(model)
    if (
        shared < MIN_SHARED_PREFIX
        or cache is None
        or (decoder.training and _checkpointing(model) and not replay_safe)  # older transformers
    ):
        return decoder(
            input_ids=batch.input_ids, attention_mask=batch.attention_mask
        ).last_hidden_state
    size = batch.input_ids.shape[0]
    with _layer_flags(decoder, gradient_checkpointing=False):  # one row: its cache is needed
        prefix = decoder(
            input_ids=batch.input_ids[:1, :shared], **cache_kwargs(decoder, cache, use_cache=False)
        )
    with _layer_flags(decoder, _can_checkpoint_with_cache=True):  # read-only: replay-safe
        suffix = decoder(
            input_ids=batch.input_ids[:, shared:],
            attention_mask=batch.attention_mask,  # prefix columns are all 1
            **cache_kwargs(decoder, read_only_prefix(cache, size), use_cache=False),
        )
    head = prefix.last_hidden_state.expand(size, -1, -1)
    return torch.cat([head, suffix.last_hidden_state], dim=1)


def _checkpointing(model: Any) -> bool:
    """Whether activation (gradient) checkpointing is on, under either transformers name."""
    for name in ("is_activation_checkpointing", "is_gradient_checkpointing"):
        if hasattr(type(model), name):
            return bool(getattr(model, name))
    return False


def _dynamic_cache(model: Any) -> DynamicCache | None:
    """An empty cache for ``model`` if all its layers are :class:`DynamicLayer` s, else None.

    Sliding windows and other layer kinds return None: the caller runs the plain forward.
    """
    try:
        cache = DynamicCache(config=model.config)
    except Exception:  # noqa: BLE001 - an unusual config: run the plain forward
        return None
    return cache if all(type(layer) is DynamicLayer for layer in cache.layers) else None


@contextmanager
def _layer_flags(decoder: Any, **flags: bool) -> Iterator[None]:
    """Set attributes on the decoder's checkpointable layers for one call, then restore them."""
    layers = [m for m in decoder.modules() if hasattr(m, "_can_checkpoint_with_cache")]
    saved = [{name: m.__dict__.get(name, _UNSET) for name in flags} for m in layers]
    for module in layers:
        for name, value in flags.items():
            setattr(module, name, value)
    try:
        yield
    finally:
        for module, before in zip(layers, saved, strict=True):
            for name, value in before.items():
                if value is _UNSET:
                    delattr(module, name)
                else:
                    setattr(module, name, value)


_UNSET = object()


def _scatter(values: Tensor, batch: Batch, rows: Tensor, cols: Tensor) -> Tensor:
    out = torch.zeros(batch.input_ids.shape, dtype=values.dtype, device=values.device)
    return out.index_put((rows, cols), values)
