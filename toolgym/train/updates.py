"""One method per ``--algo``: what a training step does with its tasks.

Every algorithm shares the trainer's core: the same :class:`Collector` rollouts (token streams with
loss masks), the same collation, the same minibatch schedule (``epochs`` x ``minibatches``) and the
one-equation losses of ``losses.py``. They differ only in what they learn from:

- ``sft``: oracle trajectories (or a JSONL of conversations), cross-entropy on assistant tokens.
- ``grpo`` / ``rloo`` / ``reinforce``: clipped policy gradient with sequence-level advantages.
- ``ppo``: clipped policy gradient with GAE over generated tokens and a critic.
- ``rest``: each task's top samples, reward-weighted maximum likelihood (``selection.py``).
- ``online-em``: Robbins-Monro averages of the reward-weighted score (``online_em.py``).
- ``dagger``: the learner's visited states labelled by the env's expert, cloned (``dagger.py``).
- ``dpo``: best-vs-worst pairs of each group (or a file of pairs) against a frozen reference.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch, Trajectory, collate
from toolgym.train.advantages import (
    gae,
    group_advantages,
    reinforce_advantages,
    rloo_advantages,
    token_rewards,
    whiten,
)
from toolgym.train.config import TrainConfig
from toolgym.train.critic import Critic
from toolgym.train.dagger import Aggregate, expert_agreement
from toolgym.train.data import oracle_trajectories
from toolgym.train.losses import sequence_logprobs
from toolgym.train.online_em import OnlineEM
from toolgym.train.preferences import Pair
from toolgym.train.rollouts import Rollout, rollout_metrics, success_rate
from toolgym.train.selection import preference_pairs, rest_selection
from toolgym.train.steps import (
    PolicyLossConfig,
    ValueLossConfig,
    dpo_step,
    online_em_step,
    policy_step,
    ppo_step,
    rest_step,
    sft_step,
)


class Updates:
    """The update of each algorithm, mixed into :class:`Trainer` (which owns this state)."""

    config: TrainConfig
    model: Any
    tokenizer: Any
    chat: ChatTokenizer
    optimizer: torch.optim.Optimizer
    reference: Any
    critic: Critic | None
    sft_data: dict[str, Trajectory]
    preference_data: dict[str, Pair]
    aggregate: Aggregate
    episodes: int
    step: int

    def _rollout(self, tasks: list[str], *, score_reference: bool = True) -> Rollout:
        raise NotImplementedError

    def _env(self, split: str) -> gym.Env:
        raise NotImplementedError

    def _update(self, tasks: list[str]) -> dict[str, Any]:
        """Dispatch to the configured algorithm's update."""
        return {
            "sft": self._sft,
            "grpo": self._policy_gradient,
            "rloo": self._policy_gradient,
            "reinforce": self._policy_gradient,
            "ppo": self._ppo,
            "rest": self._rest,
            "online-em": self._online_em,
            "dagger": self._dagger,
            "dpo": self._dpo,
        }[self.config.algo](tasks)

    def _sft(self, tasks: list[str]) -> dict[str, Any]:
        if self.sft_data:
            trajectories = [self.sft_data[key] for key in tasks]
        else:
            trajectories = oracle_trajectories(
                lambda: self._env("train"), self.chat, tasks, self.config.max_tokens
            )
            self.episodes += len(trajectories)
        batch = collate(trajectories, self.tokenizer.pad_token_id)
        stats = {}
        for _ in range(self.config.epochs):
            stats = sft_step(self.model, self.optimizer, batch, self.config.max_grad_norm)
        return stats

    def _policy_gradient(self, tasks: list[str]) -> dict[str, Any]:
        config = self.config
        rollout = self._rollout(tasks)
        batch, reference = rollout.batch, rollout.reference
        advantages = self._advantages(rollout.rewards)[:, None] * batch.loss_mask  # (B, T)
        stats: dict[str, float] = {}
        for index in self._minibatches(len(rollout.trajectories)):
            ref = reference[index] if reference is not None else None
            stats = policy_step(self.model, self.optimizer, _rows(batch, index), advantages[index],
                                self._loss_config(), ref, config.max_grad_norm)  # fmt: skip
        return self._step_metrics(rollout, stats)

    def _ppo(self, tasks: list[str]) -> dict[str, Any]:
        config, critic = self.config, self.critic
        assert critic is not None
        rollout = self._rollout(tasks)
        batch, reference, mask = rollout.batch, rollout.reference, rollout.batch.loss_mask
        with torch.no_grad():
            old_values = critic(batch) * mask
        rewards = token_rewards(batch.turn_ends, batch.turn_rewards, batch.input_ids.shape[1])
        if reference is not None and config.kl_in_reward:
            rewards = rewards - config.kl_in_reward * (batch.old_logprobs - reference) * mask  # k1
        advantages, returns = gae(rewards, old_values, mask, config.gamma, config.lam)
        if config.whiten_advantages:
            advantages = whiten(advantages, mask)
        value_config = ValueLossConfig(config.vf_coef, config.value_clip)
        stats: dict[str, float] = {}
        for index in self._minibatches(len(rollout.trajectories)):
            ref = reference[index] if reference is not None else None
            stats = ppo_step(self.model, critic, self.optimizer, _rows(batch, index), advantages[index], returns[index],
                             old_values[index], self._loss_config(), value_config, ref, config.max_grad_norm)  # fmt: skip
        return self._step_metrics(rollout, stats)

    def _rest(self, tasks: list[str]) -> dict[str, Any]:
        """Generate K per task -> keep the top m (or the successes) -> reward-weighted ML."""
        rollout = self._rollout(tasks)
        successes = torch.tensor([success_rate([t]) for t in rollout.trajectories])
        kept = rest_selection(
            rollout.rewards, successes, self.config.group_size, self.config.rest_top_m
        )
        stats: dict[str, float] = {}
        if kept:
            batch = collate([rollout.trajectories[i] for i in kept], self.tokenizer.pad_token_id)
            rewards = rollout.rewards[kept]
            for index in self._minibatches(len(kept)):
                stats = rest_step(self.model, self.optimizer, _rows(batch, index), rewards[index],
                                  self.config.max_grad_norm)  # fmt: skip
        return self._step_metrics(rollout, stats) | {"kept": len(kept)}

    def _online_em(self, tasks: list[str]) -> dict[str, Any]:
        """Robbins-Monro updates of G and M, one per minibatch, then the parameter step."""
        config, optimizer = self.config, self.optimizer
        assert isinstance(optimizer, OnlineEM)
        rollout = self._rollout(tasks)
        stats: dict[str, float] = {}
        for index in self._minibatches(len(rollout.trajectories)):
            stats = online_em_step(
                self.model, optimizer, _rows(rollout.batch, index), rollout.rewards[index],
                config.em_off_policy, config.em_clip, config.temperature,
            )  # fmt: skip
        return self._step_metrics(rollout, stats)

    def _dagger(self, tasks: list[str]) -> dict[str, Any]:
        """Roll out the learner, label its states with the expert, clone the whole aggregate."""
        config = self.config
        rollout = self._rollout(tasks)
        added = self.aggregate.add(rollout.trajectories, self.chat, config.max_tokens)
        rng = np.random.default_rng([config.seed, self.step])
        losses, stats = [], {}
        for _ in range(config.epochs):
            for demonstrations in self.aggregate.minibatches(config.dagger_batch, rng):
                batch = collate(demonstrations, self.tokenizer.pad_token_id)
                stats = sft_step(self.model, self.optimizer, batch, config.max_grad_norm)
                losses.append(stats["loss"])
        stats["loss"] = sum(losses) / len(losses) if losses else 0.0
        return self._step_metrics(rollout, stats) | {
            "dataset_size": len(self.aggregate),
            "states_added": added,
            "expert_agreement": expert_agreement(rollout.trajectories, self.tokenizer),
        }

    def _dpo(self, tasks: list[str]) -> dict[str, Any]:
        """Pairs (best vs worst of each group, or from ``dpo_data``) -> the DPO loss."""
        rollout: Rollout | None = None
        if self.preference_data:
            pairs = [self.preference_data[key] for key in tasks]
        else:
            rollout = self._rollout(tasks, score_reference=False)
            chosen_rows = preference_pairs(rollout.rewards, self.config.group_size)
            pairs = [(rollout.trajectories[c], rollout.trajectories[r]) for c, r in chosen_rows]
        stats: dict[str, float] = {}
        if pairs:
            pad = self.tokenizer.pad_token_id
            chosen = collate([c for c, _ in pairs], pad)
            rejected = collate([r for _, r in pairs], pad)
            with torch.no_grad():
                ref_chosen, ref_rejected = (
                    sequence_logprobs(token_logprobs(self.reference, b), b.loss_mask)
                    for b in (chosen, rejected)
                )
            for index in self._minibatches(len(pairs)):
                stats = dpo_step(self.model, self.optimizer, _rows(chosen, index), _rows(rejected, index),
                                 ref_chosen[index], ref_rejected[index], self.config.dpo_beta,
                                 self.config.max_grad_norm)  # fmt: skip
        stats["pairs"] = len(pairs)
        return self._step_metrics(rollout, stats) if rollout is not None else stats

    # ------------------------------------------------------------- shared
    def _minibatches(self, size: int) -> Iterator[torch.Tensor]:
        """Row indices of each update: ``epochs`` passes, each split into ``minibatches``."""
        for _ in range(self.config.epochs):
            for rows in np.array_split(np.arange(size), self.config.minibatches):
                if len(rows):
                    yield torch.as_tensor(rows)

    def _step_metrics(self, rollout: Rollout, stats: dict[str, float]) -> dict[str, Any]:
        metrics = stats | rollout_metrics(
            rollout.trajectories, rollout.rewards, self.config.group_size
        )
        metrics |= {f"time_{k}": v for k, v in rollout.stats.seconds.items()}
        metrics["episodes_dropped"] = rollout.dropped
        metrics |= {f"{reason}_episodes": n for reason, n in (rollout.broken or {}).items()}
        if rollout.stats.user.calls or rollout.stats.user.cache_hits:
            user = rollout.stats.user
            metrics |= {"user_calls": user.calls, "user_cache_hits": user.cache_hits,
                        "user_generated_tokens": user.completion_tokens}  # fmt: skip
        metrics["time_train"] = time.perf_counter() - rollout.finished
        return metrics | {"generated_tokens": rollout.stats.generated_tokens}

    def _loss_config(self) -> PolicyLossConfig:
        c = self.config
        return PolicyLossConfig(
            c.eps_low,
            c.eps_high,
            c.beta,
            c.entropy_coef,
            c.aggregation,
            float(c.max_new_tokens),
            c.temperature,
        )

    def _advantages(self, rewards: torch.Tensor) -> torch.Tensor:
        config = self.config
        if config.algo == "grpo":
            return group_advantages(
                rewards, config.group_size, scale=config.scale_rewards, ddof=config.std_ddof
            )
        if config.algo == "rloo":
            return rloo_advantages(rewards, config.group_size)
        return reinforce_advantages(rewards)


def _rows(batch: Batch, index: torch.Tensor) -> Batch:
    return Batch(*(getattr(batch, f)[index] for f in Batch.__dataclass_fields__))
