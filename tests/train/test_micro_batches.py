"""Micro-batches (gradient accumulation): passes of at most N rows give the one-pass update.

``micro_batches`` splits a minibatch into passes, longest rows first, each cut to its longest row
and weighted by its share of the loss normaliser. The updates are compared in float64 on rows of
different lengths (so every pass is cut), against ``micro_batch_size=None``, which
``test_grpo.py`` checks against the loss over the whole batch.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolgym.llm import models
from toolgym.tokens.scoring import score
from toolgym.tokens.trajectory import Batch
from toolgym.train import Trainer
from toolgym.train.algos import pg, sft
from toolgym.train.algos.base import micro_batches
from toolgym.train.algos.pg import PolicyLossConfig, policy_step
from toolgym.train.algos.sft import sft_step
from toolgym.train.config import TrainConfig

LENGTHS = [9, 17, 5, 12, 17, 7]  # right-padded to 17


def ragged_batch(lengths: list[int], generated: int = 4, vocab: int = 64) -> Batch:
    """Random token rows of ``lengths``; the last ``generated`` tokens of each are trained."""
    g = torch.Generator().manual_seed(0)
    n, width = torch.tensor(lengths), max(lengths)
    position = torch.arange(width)[None]
    attention = (position < n[:, None]).long()
    loss_mask = ((position >= (n - generated)[:, None]) & attention.bool()).double()
    ids = torch.randint(3, vocab, (len(lengths), width), generator=g) * attention
    turn_ids = torch.where(loss_mask > 0, 0, -1)
    zeros = torch.zeros_like(loss_mask)
    return Batch(ids, attention, loss_mask, zeros, turn_ids, (n - 1)[:, None], zeros[:, :1])


def with_behaviour_logprobs(model, batch: Batch) -> Batch:
    """Old log-probs near the model's own (ratios off 1, some clipped), on trained tokens."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        own = score(model.eval(), batch).logprobs
    noise = 0.3 * torch.randn(own.shape, generator=g, dtype=own.dtype)
    return Batch(**{**batch.__dict__, "old_logprobs": (own + noise) * batch.loss_mask})


@pytest.fixture(scope="module")
def policy():
    return models.tiny_model(seed=5).double()


def gradients_after(step, policy) -> tuple[dict[str, float], list[torch.Tensor]]:
    """``step(model, optimizer)``'s stats and the gradient it left (SGD at lr 0: weights stay)."""
    model = copy.deepcopy(policy)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    stats = step(model, optimizer)
    return stats, [p.grad.clone() for p in model.parameters()]


def assert_same(a, b) -> None:
    (stats_a, grads_a), (stats_b, grads_b) = a, b
    assert stats_a.keys() == stats_b.keys()
    for key in stats_a:
        assert stats_a[key] == pytest.approx(stats_b[key], rel=1e-9, abs=1e-12), key
    assert any(g.abs().sum() > 0 for g in grads_b)
    for ga, gb in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(ga, gb, atol=1e-12, rtol=1e-9)


@pytest.mark.parametrize("aggregation", ["token_mean", "sequence_mean", "constant"])
@pytest.mark.parametrize(
    "terms", [{}, {"beta": 0.1, "entropy_coef": 0.01}], ids=["skip-flat", "kl-entropy"]
)
def test_policy_step_in_micro_batches_is_the_one_pass_update(policy, aggregation, terms):
    batch = with_behaviour_logprobs(policy, ragged_batch(LENGTHS))
    per_row = torch.tensor([0.0, 0.0, 1.5, -0.5, 0.7, -1.0])[:, None]  # rows 0-1: a flat group
    advantages = per_row * batch.loss_mask
    ref = (batch.old_logprobs - 0.05) * batch.loss_mask
    config = PolicyLossConfig(aggregation=aggregation, constant=4.0, **terms)

    def step(size):
        return lambda model, optimizer: policy_step(
            model, optimizer, batch, advantages, config, ref, max_grad_norm=1e9,
            micro_batch_size=size)  # fmt: skip

    whole = gradients_after(step(None), policy)
    assert whole[0]["rows_skipped"] == (0 if terms else 2)
    assert whole[0]["clipfrac"] > 0  # the clip is exercised
    for size in (1, 2, 4):
        assert_same(gradients_after(step(size), policy), whole)


def test_sft_step_in_micro_batches_is_the_one_pass_update(policy):
    batch = ragged_batch(LENGTHS, generated=3)
    whole = gradients_after(lambda m, o: sft_step(m, o, batch, 1e9), policy)
    for size in (1, 3, 5):
        in_passes = gradients_after(
            lambda m, o, n=size: sft_step(m, o, batch, 1e9, None, n), policy
        )
        assert_same(in_passes, whole)


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 30), min_size=1, max_size=12),
    size=st.one_of(st.none(), st.integers(1, 13)),
    aggregation=st.sampled_from(["token_mean", "sequence_mean", "constant"]),
    data=st.data(),
)
def test_passes_partition_the_rows_longest_first_cut_to_their_longest(
    lengths, size, aggregation, data
):
    batch = ragged_batch(lengths, generated=1)
    chosen = data.draw(st.lists(st.sampled_from(range(len(lengths))), min_size=1, unique=True))
    index = torch.tensor(chosen)
    passes = micro_batches(batch, index, size, aggregation)
    rows = [r for m in passes for r in m.part.index.tolist()]
    assert sorted(rows) == sorted(chosen)
    assert all(len(m.part.index) <= (size or len(chosen)) for m in passes)
    assert sum(m.part.weight for m in passes) == pytest.approx(1.0)
    assert sum(m.part.token_weight for m in passes) == pytest.approx(1.0)
    for m in passes:
        assert m.width == max(lengths[r] for r in m.part.index.tolist())
        assert m.batch(batch).input_ids.shape == (len(m.part.index), m.width)
    if size is not None:
        ordered = [lengths[r] for r in rows]
        assert ordered == sorted(ordered, reverse=True)


def test_micro_batch_size_is_refused_where_the_algorithm_does_not_read_it():
    assert TrainConfig(algo="grpo", group_size=2, micro_batch_size=2).micro_batch_size == 2
    with pytest.raises(
        ValueError, match=r"micro_batch_size is read by algo sft, .* \(algo='ppo'\)"
    ):
        TrainConfig(algo="ppo", micro_batch_size=2)


@pytest.mark.parametrize(("algo", "module"), [("sft", sft), ("dagger", sft), ("grpo", pg)])
def test_the_trainer_computes_in_passes_of_micro_batch_size(tmp_path, monkeypatch, algo, module):
    sizes = []
    real = module.micro_batches

    def spy(batch, index, size, *rest):
        sizes.append(size)
        return real(batch, index, size, *rest)

    monkeypatch.setattr(module, "micro_batches", spy)
    config = TrainConfig(env="toolgym/Search-v0", model="tiny", algo=algo, steps=1,
                         tasks_per_step=2, group_size=2 if algo == "grpo" else 1,
                         max_new_tokens=8, eval_tasks=1, micro_batch_size=1,
                         out=tmp_path)  # fmt: skip
    Trainer(config, progress=False).run()
    assert sizes and set(sizes) == {1}
