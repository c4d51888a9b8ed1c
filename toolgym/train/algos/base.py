"""What an algorithm is: what it needs from the trainer, and its ``update(run, tasks) -> metrics``.

The :class:`Trainer` owns the run (model, environments, collectors, optimizer, schedule,
evaluation, checkpoints, logs) and hands itself to the algorithm as a :class:`Run`; the algorithm
owns the step. The helpers below (minibatch rows, the gradient step, the metrics of a rollout
step) are what most updates share.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import gymnasium as gym
import numpy as np
import torch

from toolgym.collector import Collector, TokenPolicy
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Batch
from toolgym.train import distributed
from toolgym.train.config import Aggregation, TrainConfig
from toolgym.train.rollouts import Rollout, rollout_metrics

DataSource = Literal["rollouts", "oracle", "jsonl", "expert"]


@dataclass(frozen=True)
class Needs:
    """What an algorithm asks of the trainer for one config.

    Attributes:
        reference: A frozen copy of the starting policy (KL terms, DPO's reference).
        critic: A value head, which the algorithm builds and trains with the policy.
        optimizer: AdamW, or online EM's own parameter update.
        data: Where its examples come from: rollouts of the policy, oracle demonstrations, a
            JSONL dataset, or the policy's visited states labelled by the env's expert.
    """

    reference: bool = False
    critic: bool = False
    optimizer: Literal["adamw", "online-em"] = "adamw"
    data: DataSource = "rollouts"


class Run(Protocol):
    """The trainer as an algorithm sees it."""

    config: TrainConfig
    model: Any
    tokenizer: Any
    chat: ChatTokenizer
    optimizer: torch.optim.Optimizer
    reference: Any
    device: torch.device  # the model's: every batch is collated onto it
    episodes: int  # env episodes consumed so far; an algorithm that plays episodes adds them
    step: int  # steps completed before this one

    def rollout(self, tasks: list[str], *, score_reference: bool = True) -> Rollout:
        """``group_size`` episodes per task with the current policy (reference log-probs too)."""
        ...

    def env(self, split: str) -> gym.Env:
        """A fresh text-level env of the configured id."""
        ...


class Algorithm:
    """One ``--algo``: subclasses set :meth:`needs` and implement :meth:`update`.

    The defaults: a reference only when ``beta > 0``, AdamW over the trainable parameters, the
    env's train tasks, plain collectors, no state beyond the optimizer's.
    """

    def __init__(self, config: TrainConfig) -> None:
        """Keep the run's config."""
        self.config = config

    @property
    def needs(self) -> Needs:
        """What this algorithm needs under ``self.config``."""
        return Needs(reference=self.config.beta > 0)

    def build(self, model: Any) -> None:
        """Build what the algorithm trains besides the policy (PPO: its critic), before the optimizer."""

    def optimizer(self, model: Any) -> torch.optim.Optimizer:
        """AdamW over the policy's trainable parameters and :meth:`parameters`."""
        trainable = [p for p in model.parameters() if p.requires_grad] + self.parameters()
        return torch.optim.AdamW(
            trainable, lr=self.config.lr, weight_decay=self.config.weight_decay
        )

    def parameters(self) -> list[torch.nn.Parameter]:
        """Trainable parameters besides the policy's (PPO: the critic's)."""
        return []

    def collector(
        self, make_env: Callable[[], gym.Env], chat: ChatTokenizer, policy: TokenPolicy
    ) -> Collector:
        """The collector of training rollouts."""
        return Collector(make_env, chat, policy, max_tokens=self.config.max_tokens, progress=False)

    def prepare(self, run: Run) -> list[str] | None:
        """Read and check the algorithm's own data; its task keys, or None for the env's tasks."""
        return None

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """Whether a rollout step's rewards could move the policy: some episode differs."""
        return bool(metrics["reward_std"] > 0.0)

    @classmethod
    def has_signal(cls, metrics: dict[str, Any]) -> bool:
        """A step without a rollout (no ``reward_std``) always counts; else :meth:`learns_from`."""
        return "reward_std" not in metrics or cls.learns_from(metrics)

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """One step on ``tasks``: the algorithm's examples, then its optimizer steps; metrics."""
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps besides model, optimizer and schedule."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state` of a checkpoint."""


def minibatches(config: TrainConfig, size: int) -> Iterator[torch.Tensor]:
    """Row indices of each update: ``epochs`` passes, each split into ``minibatches``."""
    for _ in range(config.epochs):
        for rows in np.array_split(np.arange(size), config.minibatches):
            if len(rows):
                yield torch.as_tensor(rows)


def rows(batch: Batch, index: torch.Tensor) -> Batch:
    """The rows ``index`` of every tensor of ``batch``."""
    return Batch(*(getattr(batch, f)[index] for f in Batch.__dataclass_fields__))


PER_TOKEN = ("input_ids", "attention_mask", "loss_mask", "old_logprobs", "turn_ids")


@dataclass(frozen=True)
class MicroBatch:
    """One forward/backward pass of a minibatch (:func:`micro_batches`).

    Attributes:
        part: Its rows and their share of the minibatch's loss (``distributed.subset``).
        width: Its longest row: the (B, T) tensors are cut there (they are right-padded).
    """

    part: distributed.Share
    width: int

    def take(self, tensor: torch.Tensor) -> torch.Tensor:
        """The rows of this pass of a (B, T) tensor, cut to :attr:`width`."""
        return tensor[self.part.index, : self.width]

    def batch(self, batch: Batch) -> Batch:
        """The rows of this pass of ``batch``, its token tensors cut to :attr:`width`."""
        picked = rows(batch, self.part.index)
        cut = {f: getattr(picked, f)[:, : self.width] for f in PER_TOKEN}
        return dataclasses.replace(picked, **cut)


def micro_batches(
    batch: Batch, index: torch.Tensor, size: int | None, aggregation: Aggregation = "token_mean"
) -> list[MicroBatch]:
    """Rows ``index`` of ``batch`` in forward/backward passes of at most ``size`` rows.

    ``size`` None is one pass. Otherwise the longest rows go first, so a pass holds rows of
    similar length and little padding. Each pass is weighted by its part of ``aggregation``'s
    normaliser over ``index``, so the passes' weighted losses sum to the loss of ``index``: their
    summed gradients are the minibatch's (gradient accumulation).

    >>> mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0]])
    >>> batch = Batch(mask, mask, mask.float(), mask.float(), mask, mask[:, :1], mask[:, :1])
    >>> [(m.part.index.tolist(), m.width, round(m.part.weight, 3))
    ...  for m in micro_batches(batch, torch.arange(3), 2)]  # token mean: 7 and 2 of 9 tokens
    [([1, 2], 4, 0.778), ([0], 2, 0.222)]
    """
    lengths = batch.attention_mask.sum(dim=1).cpu()
    passes = [index]
    if size is not None:
        longest_first = index[torch.argsort(lengths[index], descending=True, stable=True)]
        passes = list(longest_first.split(size))
    mask = batch.loss_mask.cpu()
    micro = []
    for rows_of_pass in passes:
        width = int(lengths[rows_of_pass].max())
        micro.append(MicroBatch(distributed.subset(rows_of_pass, index, mask, aggregation), width))
    return micro


def apply_gradients(
    optimizer: torch.optim.Optimizer, loss: torch.Tensor, max_grad_norm: float
) -> float:
    """Backward, clip the gradient norm over every optimised parameter, step; returns the norm.

    Under torchrun the ranks' gradients are summed before clipping (``distributed.py``): each
    rank's ``loss`` is its share of the minibatch's, so the step is one process's on the whole.
    """
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    return optimizer_step(optimizer, max_grad_norm)


def optimizer_step(optimizer: torch.optim.Optimizer, max_grad_norm: float) -> float:
    """Step on the gradients accumulated so far: sum them over ranks, clip the norm; the norm."""
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    distributed.all_reduce_gradients(parameters)
    grad_norm = torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    optimizer.step()
    return grad_norm.item()


def step_metrics(rollout: Rollout, stats: dict[str, float], group_size: int) -> dict[str, Any]:
    """A rollout step's metrics: the update's ``stats``, rewards, timings, users, tokens."""
    metrics: dict[str, Any] = stats | rollout_metrics(
        rollout.trajectories, rollout.rewards, group_size
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
