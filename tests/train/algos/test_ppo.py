"""PPO and GRPO updates on multi-turn token streams (tool calls and tool results in the stream)."""

import functools

import gymnasium as gym
import torch

from toolgym.llm import models
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import collate
from toolgym.train.advantages import gae, group_advantages, token_rewards, whiten
from toolgym.train.algos.pg import PolicyLossConfig, policy_step
from toolgym.train.algos.ppo import PPOTargets, ValueLossConfig, ppo_step
from toolgym.train.config import TrainConfig
from toolgym.train.critic import Critic
from toolgym.train.data import oracle_trajectories
from toolgym.train.loop import Trainer


@functools.cache
def oracle_streams(chat):
    """Two Search oracle episodes: a tool call, its result, then the answer (cached: built once)."""
    tasks = ["search-train-001", "search-train-002"]
    return oracle_trajectories(lambda: gym.make("toolgym/Search-v0"), chat, tasks)


def multi_turn_batch(model, tokenizer, chat):
    """Oracle episodes of tasks with several tool turns; behaviour log-probs = the model's own."""
    trajectories = oracle_streams(chat)
    assert all(len(t.turn_ends) >= 2 for t in trajectories)  # calls, results, then the answer
    batch = collate(trajectories, tokenizer.pad_token_id)
    with torch.no_grad():
        batch.old_logprobs = token_logprobs(model, batch) * batch.loss_mask
    batch.turn_rewards = torch.tensor(
        [
            [0.2, 0.0, 1.0][: batch.turn_rewards.shape[1]],
            [0.0, 0.5, 0.0][: batch.turn_rewards.shape[1]],
        ]
    )
    return batch


def test_ppo_trains_policy_and_critic_on_multi_turn_streams(tiny):
    _, tokenizer, chat = tiny
    model = models.tiny_model(seed=4)
    critic = Critic(model, "shared")
    batch = multi_turn_batch(model, tokenizer, chat)
    mask = batch.loss_mask
    rewards = token_rewards(batch.turn_ends, batch.turn_rewards, batch.input_ids.shape[1])
    assert rewards.sum().item() == batch.turn_rewards.sum().item()
    with torch.no_grad():
        old_values = critic(batch) * mask
    assert old_values.abs().sum() == 0  # zero-initialised head
    advantages, returns = gae(rewards, old_values, mask, 1.0, 0.95)
    advantages = whiten(advantages, mask)
    params = list(model.parameters()) + critic.trainable_parameters()
    start = [p.detach().clone() for p in params]
    optimizer = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0)
    values = ValueLossConfig(
        value_clip=100.0
    )  # the old values are all 0: let the critic move freely
    targets = PPOTargets(batch, advantages, returns, old_values)
    first = ppo_step(model, critic, optimizer, targets, PolicyLossConfig(), values)
    assert abs(first["approx_kl"]) < 1e-5 and first["clipfrac"] == 0.0
    assert all(
        not torch.equal(a, p) for a, p in zip(start, params, strict=True)
    )  # policy and critic moved


def test_ppo_critic_fits_the_returns(tiny):
    """With the policy term off (zero advantages) only the value loss trains: it must fall."""
    _, tokenizer, chat = tiny
    model = models.tiny_model(seed=4)
    critic = Critic(model, "shared")
    batch = multi_turn_batch(model, tokenizer, chat)
    mask = batch.loss_mask
    rewards = token_rewards(batch.turn_ends, batch.turn_rewards, batch.input_ids.shape[1])
    _, returns = gae(rewards, torch.zeros_like(mask), mask, 1.0, 0.95)
    optimizer = torch.optim.AdamW(
        list(model.parameters()) + critic.trainable_parameters(), lr=1e-3, weight_decay=0.0
    )
    values = ValueLossConfig(value_clip=100.0)
    losses = [
        ppo_step(
            model,
            critic,
            optimizer,
            PPOTargets(batch, torch.zeros_like(mask), returns, torch.zeros_like(mask)),
            PolicyLossConfig(),
            values,
        )["value_loss"]
        for _ in range(10)
    ]
    assert losses[-1] < 0.6 * losses[0], losses


def test_grpo_update_on_multi_turn_streams_ignores_observation_tokens(tiny):
    _, tokenizer, chat = tiny
    model = models.tiny_model(seed=5)
    batch = multi_turn_batch(model, tokenizer, chat)
    advantages = group_advantages(torch.tensor([1.0, 0.0]), 2)[:, None] * batch.loss_mask
    garbage = advantages + 1000.0 * (1 - batch.loss_mask)  # values under the mask must not matter
    losses = []
    for adv in (advantages, garbage):
        clone = models.tiny_model(seed=5)
        optimizer = torch.optim.SGD(clone.parameters(), lr=0.0)
        losses.append(policy_step(clone, optimizer, batch, adv, PolicyLossConfig())["loss"])
    assert losses[0] == losses[1]


def test_trainer_runs_ppo_and_checkpoints_the_critic(tmp_path):
    config = TrainConfig(env="toolgym/Search-v0", model="tiny", algo="ppo", steps=2, tasks_per_step=2, group_size=2,
                         max_new_tokens=6, eval_tasks=2, lr=1e-3, beta=0.01, ppo={"kl_in_reward": 0.01}, out=tmp_path / "ppo")  # fmt: skip
    trainer = Trainer(config, progress=False)
    trainer.run()
    resumed = Trainer(config, resume=True, progress=False)
    assert torch.equal(resumed.algorithm.critic.head.weight, trainer.algorithm.critic.head.weight)
    assert resumed.step == 2
