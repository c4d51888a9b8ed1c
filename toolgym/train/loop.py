"""The training loop: rollout -> advantages -> K epochs x minibatches -> AdamW step -> log.

``Trainer(config).run()`` writes a run directory: ``config.json``, ``metrics.jsonl`` (one line per
step, evaluations included), atomic checkpoints, ``learning_curve.png``. Everything random comes
from ``config.seed``; ``Trainer(config, resume=True)`` continues a killed run exactly.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from toolgym import models
from toolgym.policies.hf import HFPolicy, SamplingConfig
from toolgym.rollout import Collector, RolloutStats
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch, Trajectory, collate
from toolgym.train import checkpoint
from toolgym.train.advantages import (
    gae,
    group_advantages,
    reinforce_advantages,
    rloo_advantages,
    token_rewards,
    whiten,
)
from toolgym.train.config import TrainConfig
from toolgym.train.conversations import sft_dataset
from toolgym.train.critic import Critic
from toolgym.train.data import oracle_trajectories
from toolgym.train.plot import plot_learning_curve
from toolgym.train.rollouts import rollout_metrics, success_rate, without_broken_groups
from toolgym.train.steps import (
    PolicyLossConfig,
    ValueLossConfig,
    policy_step,
    ppo_step,
    sft_step,
)
from toolgym.users.backends import LocalBackend


class Trainer:
    """One training run (see the module docstring)."""

    def __init__(self, config: TrainConfig, *, resume: bool = False, progress: bool = True) -> None:
        """Load the model, environments and optimizer; with ``resume`` restore the run's latest checkpoint."""
        self.config, self.progress = config, progress
        torch.manual_seed(config.seed)
        self.model, self.tokenizer = models.load(config.model, seed=config.seed)  # type: ignore[arg-type]
        if config.init is not None:
            self._load_weights(config.init)
        freeze_bottom(self.model, config.freeze_layers)
        if config.gradient_checkpointing:
            enable = getattr(  # the newer transformers name, else the older one
                self.model,
                "activation_checkpointing_enable",
                self.model.gradient_checkpointing_enable,
            )
            enable({"use_reentrant": False})
        self.chat = ChatTokenizer(self.tokenizer)
        self.user_backend = self._policy_as_user() if config.user.model == "policy" else None
        needs_reference = config.algo != "sft" and (config.beta > 0 or config.kl_in_reward > 0)
        self.reference = self._frozen_copy() if needs_reference else None
        self.critic = Critic(self.model, config.critic) if config.algo == "ppo" else None
        parameters = [p for p in self.model.parameters() if p.requires_grad] + (
            self.critic.trainable_parameters() if self.critic else []
        )
        self.optimizer = torch.optim.AdamW(
            parameters, lr=config.lr, weight_decay=config.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        sampling = SamplingConfig(
            config.temperature, config.top_p, config.max_new_tokens, config.seed
        )
        self.policy = HFPolicy(
            self.model, self.chat.stop_ids, self.tokenizer.pad_token_id, sampling
        )
        self.collector, self.eval_collector = self._collector("train"), self._collector("test")
        self.sft_data = self._read_sft_data()
        self.train_tasks = list(self.sft_data) if self.sft_data else self._env_tasks("train")
        self.test_tasks = self._env_tasks("test")[: config.eval_tasks]
        self.order = np.random.default_rng(config.seed).permutation(len(self.train_tasks)).tolist()
        self.step, self.task_position = 0, 0
        self.out = config.out
        self.out.mkdir(parents=True, exist_ok=True)
        if resume:
            self._restore()
        else:
            (self.out / "metrics.jsonl").write_text("")
        (self.out / "config.json").write_text(config.model_dump_json(indent=2))

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        """Train to ``config.steps``, evaluating and checkpointing on the way; returns the final metrics."""
        bar = tqdm(
            range(self.step, self.config.steps),
            desc=f"{self.config.algo}",
            disable=not self.progress,
            initial=self.step,
            total=self.config.steps,
        )
        final: dict[str, Any] | None = None
        for _ in bar:
            metrics = self.train_step()
            final = None
            if self.config.eval_every and self.step % self.config.eval_every == 0:
                final = self.evaluate()
                metrics |= final
            self._log(metrics)
            shown = {k: metrics[k] for k in ("reward_mean", "loss") if k in metrics}
            bar.set_postfix({k.removesuffix("_mean"): f"{v:.3f}" for k, v in shown.items()})
            if self.step % self.config.checkpoint_every == 0 or self.step == self.config.steps:
                self._save()
        final = final or self.evaluate()
        self._log({"step": self.step, "final": True, **final})
        plot_learning_curve(
            self.out / "metrics.jsonl",
            self.out / "learning_curve.png",
            title=f"{self.config.algo} on {self.config.env}",
        )
        return final

    def train_step(self) -> dict[str, Any]:
        """One optimizer step (SFT on oracle turns, or a policy-gradient update on fresh rollouts)."""
        start = time.perf_counter()
        tasks = self._next_tasks()
        if self.config.algo == "sft":
            metrics = self._sft(tasks)
        elif self.config.algo == "ppo":
            metrics = self._ppo(tasks)
        else:
            metrics = self._policy_gradient(tasks)
        self.scheduler.step()
        self.step += 1
        return {
            "step": self.step,
            "lr": self.scheduler.get_last_lr()[0],
            **metrics,
            "seconds": time.perf_counter() - start,
        }

    def evaluate(self) -> dict[str, Any]:
        """Success rate on the first ``eval_tasks`` test tasks (one sample each, at ``eval_temperature``)."""
        self.model.eval()
        state, sampling = self.policy.generator.get_state(), self.policy.config
        self.policy.config = dataclasses.replace(sampling, temperature=self.config.eval_temperature)
        self.policy.generator.manual_seed(self.config.seed + 10_000)
        trajectories, _ = self.eval_collector.collect(
            self.test_tasks, group_size=1, seed=self.config.seed
        )
        self.policy.generator.set_state(state)
        self.policy.config = sampling
        self._save_samples(trajectories)
        user_errors = sum(t.end_reason == "user_error" for t in trajectories)
        return {
            "eval_success": success_rate(trajectories),
            "eval_tasks": len(trajectories) - user_errors,
            "eval_user_errors": user_errors,
        }

    def _save_samples(self, trajectories: list[Trajectory]) -> None:
        """Every evaluation episode, decoded (the text a person reads): ``samples/step-NNNNNN.jsonl``."""
        folder = self.out / "samples"
        folder.mkdir(exist_ok=True)
        lines = []
        for traj in trajectories:
            turns = [
                self.tokenizer.decode(list(s.token_ids))
                for s in traj.segments
                if s.role == "assistant"
            ]
            row = {
                "task_id": traj.task_id,
                "success": success_rate([traj]),
                "reward": traj.total_reward,
                "end_reason": traj.end_reason,
                "assistant_turns": turns,
            }
            lines.append(json.dumps(row, ensure_ascii=False))
        (folder / f"step-{self.step:06d}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )

    # ------------------------------------------------------------- updates
    def _sft(self, tasks: list[str]) -> dict[str, Any]:
        if self.sft_data:
            trajectories = [self.sft_data[key] for key in tasks]
        else:
            trajectories = oracle_trajectories(
                lambda: self._env("train"), self.chat, tasks, self.config.max_tokens
            )
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

    def _rollout(self, tasks: list[str]) -> _Rollout:
        """Sample ``group_size`` episodes per task with the current policy; score the reference."""
        self.model.eval()
        seed = self.config.seed * 1_000_003 + self.step
        collected, stats = self.collector.collect(tasks, self.config.group_size, seed=seed)
        trajectories = without_broken_groups(collected, self.config.group_size)
        if not trajectories:
            raise RuntimeError(
                f"step {self.step + 1}: every episode ended in user_error (the user simulator's "
                "model failed after its retries); check the user endpoint, then --resume"
            )
        batch = collate(trajectories, self.tokenizer.pad_token_id)
        reference = None
        if self.reference is not None:
            with torch.no_grad():
                reference = token_logprobs(self.reference, batch, self.config.temperature)
        rewards = torch.tensor([t.total_reward for t in trajectories])
        dropped = len(collected) - len(trajectories)
        return _Rollout(
            trajectories, stats, batch, rewards, reference, time.perf_counter(), dropped
        )

    def _minibatches(self, size: int) -> Iterator[torch.Tensor]:
        """Row indices of each update: ``epochs`` passes, each split into ``minibatches``."""
        for _ in range(self.config.epochs):
            for rows in np.array_split(np.arange(size), self.config.minibatches):
                yield torch.as_tensor(rows)

    def _step_metrics(self, rollout: _Rollout, stats: dict[str, float]) -> dict[str, Any]:
        metrics = stats | rollout_metrics(
            rollout.trajectories, rollout.rewards, self.config.group_size
        )
        metrics |= {f"time_{k}": v for k, v in rollout.stats.seconds.items()}
        metrics["user_error_episodes_dropped"] = rollout.dropped
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

    # ------------------------------------------------------------- plumbing
    def _policy_as_user(self) -> LocalBackend | None:
        """A frozen copy of the starting policy, to play an llm user (``user.model="policy"``)."""
        user = self.config.user
        if user.kind != "llm" or user.base_url is not None:
            return None
        return LocalBackend(
            self.model, self.tokenizer, name=f"policy:{self.config.init or self.config.model}",
            temperature=user.temperature, max_new_tokens=user.max_tokens, frozen_copy=True,
        )  # fmt: skip

    def _env(self, split: str) -> gym.Env:
        user = self.config.user
        fields: dict[str, Any] = {
            "user": user.build(self.user_backend) if self.user_backend else user
        }
        if self.config.rewards is not None:
            fields["rewards"] = self.config.rewards
        return gym.make(self.config.env, split=split, **fields)

    def _env_tasks(self, split: str) -> list[str]:
        return [t.id for t in self._env(split).unwrapped.tasks]  # type: ignore[attr-defined]

    def _read_sft_data(self) -> dict[str, Trajectory]:
        """The JSONL conversations of ``sft_data`` as token streams, all checked before training."""
        if self.config.sft_data is None:
            return {}
        tool_format = self._env("train").unwrapped.tool_format  # type: ignore[attr-defined]
        return sft_dataset(self.config.sft_data, self.chat, tool_format, self.config.max_tokens)

    def _collector(self, split: str) -> Collector:
        return Collector(
            lambda: self._env(split),
            self.chat,
            self.policy,
            max_tokens=self.config.max_tokens,
            progress=False,
        )

    def _next_tasks(self) -> list[str]:
        tasks = []
        for _ in range(self.config.tasks_per_step):
            tasks.append(self.train_tasks[self.order[self.task_position % len(self.order)]])
            self.task_position += 1
        return tasks

    def _lr_factor(self, step: int) -> float:
        config = self.config
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        if config.schedule == "linear":
            return max(0.0, 1.0 - progress)
        if config.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
        return 1.0

    def _frozen_copy(self) -> Any:
        reference = copy.deepcopy(self.model).eval()
        for parameter in reference.parameters():
            parameter.requires_grad_(False)
        return reference

    def _log(self, metrics: dict[str, Any]) -> None:
        with (self.out / "metrics.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(metrics) + "\n")

    def _save(self) -> None:
        checkpoint.save(
            self.out,
            self.step,
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "sampling_rng": self.policy.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "critic": self._critic_state(),
                "step": self.step,
                "task_position": self.task_position,
            },
        )

    def _restore(self) -> None:
        state = checkpoint.load_latest(self.out)
        if state is None:
            raise FileNotFoundError(f"{self.out} has no checkpoint to resume from")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.policy.generator.set_state(state["sampling_rng"])
        torch.set_rng_state(state["torch_rng"])
        if self.critic is not None and state.get("critic") is not None:
            self.critic.head.load_state_dict(state["critic"]["head"])
            if state["critic"]["body"] is not None:
                self.critic.body.load_state_dict(state["critic"]["body"])
        self.step, self.task_position = state["step"], state["task_position"]
        _truncate_metrics(self.out / "metrics.jsonl", self.step)

    def _critic_state(self) -> dict[str, Any] | None:
        if self.critic is None:
            return None
        body = self.critic.body.state_dict() if self.critic.kind == "separate" else None
        return {"head": self.critic.head.state_dict(), "body": body}

    def _load_weights(self, run_dir: Path) -> None:
        state = checkpoint.load_latest(run_dir)
        if state is None:
            raise FileNotFoundError(
                f"--init {run_dir}: no checkpoint found under {run_dir / 'checkpoints'}"
            )
        self.model.load_state_dict(state["model"])


def freeze_bottom(model: Any, layers: int) -> None:
    """Freeze the input embeddings (a tied output head with them) and the first ``layers`` layers."""
    check_freeze(model, layers)
    if layers == 0:
        return
    for module in [model.get_input_embeddings(), *model.base_model.layers[:layers]]:
        module.requires_grad_(False)


@dataclasses.dataclass
class _Rollout:
    """One step's episodes, collated, with the reference log-probs (when beta or KL-in-reward)."""

    trajectories: list[Trajectory]
    stats: RolloutStats
    batch: Batch
    rewards: torch.Tensor  # (B,) episode rewards
    reference: torch.Tensor | None
    finished: float  # perf_counter() when the rollout (and reference scoring) ended
    dropped: int = 0  # episodes left out: groups with a user_error episode


def check_freeze(model: Any, layers: int) -> None:
    """Raise a clear error when ``freeze_layers`` exceeds the model's decoder layers."""
    count = len(model.base_model.layers)
    if layers > count:
        raise ValueError(f"freeze_layers={layers}, but the model has {count} decoder layers")


def _rows(batch: Batch, index: torch.Tensor) -> Batch:
    return Batch(*(getattr(batch, f)[index] for f in Batch.__dataclass_fields__))


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop log lines written after the checkpoint (the steps that will be redone).

    A line torn by a kill in the middle of a write does not parse and is dropped with them.
    """
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("step", 0) <= step and not row.get("final"):
            kept.append(line)
    staging = path.with_suffix(".jsonl.tmp")
    staging.write_text("".join(line + "\n" for line in kept))
    os.replace(staging, path)  # a kill during the rewrite leaves the old log whole
