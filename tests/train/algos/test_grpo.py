"""GRPO updates on token streams: every parameter moves; a trivially learnable env gets learned."""

import copy

import gymnasium as gym
import pytest
import torch
from pydantic import BaseModel

from toolgym import Task, ToolEnv, ToolSuite
from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.scoring import score, token_logprobs
from toolgym.tokens.trajectory import collate
from toolgym.train.advantages import group_advantages
from toolgym.train.algos.base import apply_gradients
from toolgym.train.algos.pg import PolicyLossConfig, policy_loss, policy_step, rows_with_gradient


class Nothing(BaseModel):
    pass


def toy_env() -> gym.Env:
    """One question, no tools; the answer must contain the letter 's'.

    The random tiny model starts near 50% (0.49 over the first five steps at seed 3, measured when
    the bundled tasks, on which the tiny tokenizer is trained, were last changed; 'e' started at
    0.74, too close to 1 to show a rise of 0.3).
    """
    suite = ToolSuite("toy", Nothing, (), lambda seed: Nothing(), instructions="Answer briefly.")
    task = Task(id="toy-1", suite="toy", instruction="Say something.", required_outputs=["s"])
    return ToolEnv(suite, [task], rewards={"completion": 1.0})


def rollout(model, tokenizer, chat, group_size, seed):
    policy = HFPolicy(
        model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(max_new_tokens=4, seed=seed)
    )
    trajectories, _ = Collector(toy_env, chat, policy, progress=False).collect(
        ["toy-1"], group_size, seed=seed
    )
    batch = collate(trajectories, tokenizer.pad_token_id)
    rewards = torch.tensor([t.total_reward for t in trajectories])
    return batch, rewards


def token_advantages(rewards, batch, group_size):
    return group_advantages(rewards, group_size)[:, None] * batch.loss_mask


def test_three_grpo_steps_change_every_parameter(tiny):
    _, tokenizer, chat = tiny
    model, reference = (
        models.tiny_model(seed=2),
        models.tiny_model(seed=2),
    )  # frozen copy for the KL
    start = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1e-2, weight_decay=0.0
    )  # only gradients move weights
    kls = []
    for step in range(3):
        model.eval()
        batch, _ = rollout(model, tokenizer, chat, 8, seed=step)
        with torch.no_grad():
            ref_logprobs = token_logprobs(reference, batch)
        fixed = torch.tensor([1.0, 0.0] * 4)  # guaranteed signal regardless of what was sampled
        config = PolicyLossConfig(beta=0.04)
        stats = policy_step(
            model, optimizer, batch, token_advantages(fixed, batch, 8), config, ref_logprobs
        )
        assert stats["clipfrac"] == 0.0 and abs(stats["approx_kl"]) < 1e-5  # fresh rollout: ratio 1
        kls.append(stats["kl"])
    assert kls[0] < 1e-6 < kls[2]  # identical to the reference at first, then drifting away
    unchanged = [name for name, p in model.named_parameters() if torch.equal(start[name], p)]
    assert unchanged == []


def test_grpo_learns_a_trivially_learnable_env(tiny):
    _, tokenizer, chat = tiny
    torch.manual_seed(0)
    model = models.tiny_model(seed=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-2, weight_decay=0.0)
    curve = []
    for step in range(30):
        model.eval()
        batch, rewards = rollout(model, tokenizer, chat, 16, seed=step)
        curve.append(float(rewards.mean()))
        policy_step(
            model, optimizer, batch, token_advantages(rewards, batch, 16), PolicyLossConfig()
        )
    first, last = sum(curve[:5]) / 5, sum(curve[-5:]) / 5
    assert last > first + 0.3, curve


def full_batch_step(model, optimizer, batch, advantages, config):
    """The update computed on every row, zero-advantage rows included (what policy_step skips)."""
    model.train()
    scores = score(model, batch, config.temperature, entropy=True)
    loss, _ = policy_loss(scores.logprobs, scores.entropy, batch, advantages, config, None)
    apply_gradients(optimizer, loss, max_grad_norm=1e9)


@pytest.mark.parametrize("aggregation", ["token_mean", "sequence_mean", "constant"])
def test_skipping_zero_advantage_rows_leaves_the_update_unchanged(tiny, aggregation):
    _, tokenizer, chat = tiny
    policy = models.tiny_model(seed=4)
    batch, _ = rollout(policy, tokenizer, chat, 6, seed=0)
    # two groups of three: the first flat (no signal), the second with signal
    rewards = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 0.25])
    advantages = group_advantages(rewards, 3)[:, None] * batch.loss_mask
    assert advantages[:3].abs().sum() == 0 and advantages[3:].abs().sum(dim=1).gt(0).all()
    config = PolicyLossConfig(aggregation=aggregation, constant=4.0)
    # float64 and plain SGD (lr 1): the parameter change is minus the gradient, scale included
    moved = []
    for skip in (True, False):
        model = copy.deepcopy(policy).double()
        start = [p.detach().clone() for p in model.parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        if skip:
            stats = policy_step(model, optimizer, batch, advantages, config, max_grad_norm=1e9)
            assert stats["rows_skipped"] == 3
        else:
            full_batch_step(model, optimizer, batch, advantages, config)
        moved.append([p.detach() - s for p, s in zip(model.parameters(), start, strict=True)])
    assert any(d.abs().sum() > 0 for d in moved[1])
    for skipped, full in zip(*moved, strict=True):
        torch.testing.assert_close(skipped, full, atol=1e-12, rtol=1e-9)


def test_a_batch_without_signal_still_steps_the_optimizer_as_the_full_batch_would(tiny):
    _, tokenizer, chat = tiny
    policy = models.tiny_model(seed=4)
    batch, _ = rollout(policy, tokenizer, chat, 4, seed=1)
    signal = torch.tensor([1.0, 0.0, 0.0, 1.0])[:, None] * batch.loss_mask
    flat = torch.zeros_like(batch.loss_mask)
    config = PolicyLossConfig()
    models_after = []
    for skip in (True, False):
        model = copy.deepcopy(policy).double()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)  # momentum: a zero step moves
        policy_step(model, optimizer, batch, signal, config, max_grad_norm=1e9)
        if skip:
            assert policy_step(model, optimizer, batch, flat, config)["rows_skipped"] == 3
        else:
            full_batch_step(model, optimizer, batch, flat, config)
        models_after.append(list(model.parameters()))
    for skipped, full in zip(*models_after, strict=True):
        torch.testing.assert_close(skipped, full, atol=1e-12, rtol=1e-9)


@pytest.mark.parametrize("terms", [{"beta": 0.1}, {"entropy_coef": 0.01}])
def test_with_a_kl_or_entropy_term_every_row_is_computed(terms):
    mask = torch.ones(3, 4)
    advantages = torch.tensor([[0.0], [1.0], [0.0]]) * mask
    kept = rows_with_gradient(advantages, mask, PolicyLossConfig(**terms))
    assert kept.index.tolist() == [0, 1, 2] and kept.weight == 1.0
    assert rows_with_gradient(advantages, mask, PolicyLossConfig()).index.tolist() == [1]
