"""DAgger (Ross et al., 2011) on token streams: the learner drives, the env's expert labels.

Training rollouts go through :class:`ExpertCollector`, whose envs are wrapped in
:class:`ExpertLabels`: before each learner turn reaches the env, the wrapper asks the env's
:meth:`ToolEnv.expert_message` (the gold next call, a question for a missing fact, or the final
answer) and the collector hands these labels to the episode's ``Trajectory.expert``. Every state
the learner visited (the token stream up to one of its assistant turns) becomes a
:class:`Demonstration`: that state as an untrainable prompt, the expert's message as the trainable
reply. :class:`Aggregate` is the growing dataset D_1 u D_2 u ...; each step fits it by behavioural
cloning (the SFT loss) in minibatches of ``dagger.batch``.

Under torchrun every rank labels the gathered rollout, so every rank holds the same aggregate
and shuffles it alike; each minibatch's demonstrations are shared as SFT's batch is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from toolgym.collector import Collector, RolloutStats, TokenPolicy
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.env import TokenEnv
from toolgym.tokens.trajectory import Segment, Trajectory, collate
from toolgym.train import distributed
from toolgym.train.algos.base import Algorithm, Needs, Run, rows, step_metrics
from toolgym.train.algos.sft import sft_step


class DAgger(Algorithm):
    """``dagger``: learns from expert labels; needs an env with ``expert_message()``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """An empty aggregate."""
        super().__init__(*args, **kwargs)
        self.aggregate = Aggregate()

    @property
    def needs(self) -> Needs:
        """The policy's visited states, labelled by the env's expert."""
        return Needs(data="expert")

    def collector(
        self, make_env: Callable[[], gym.Env], chat: ChatTokenizer, policy: TokenPolicy
    ) -> Collector:
        """A collector whose episodes carry the expert's label at every visited state."""
        return ExpertCollector(
            make_env, chat, policy, max_tokens=self.config.max_tokens, progress=False
        )

    def prepare(self, run: Run) -> list[str] | None:
        """Check that the env has an expert; DAgger plays the env's train tasks."""
        if getattr(run.env("train").unwrapped, "expert_message", None) is None:
            raise ValueError(f"algo=dagger labels states with the env's expert_message(), and "
                             f"{self.config.env} has none (ToolEnv and BFCLEnv do)")  # fmt: skip
        return None

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """Expert labels always teach."""
        return True

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """Roll out the learner, label its states with the expert, clone the whole aggregate."""
        config = self.config
        rollout = run.rollout(tasks)
        added = self.aggregate.add(rollout.trajectories, run.chat, config.max_tokens)
        rng = np.random.default_rng([config.seed, run.step])
        losses, stats = [], {}
        for _ in range(config.epochs):
            for demonstrations in self.aggregate.minibatches(config.dagger.batch, rng):
                batch = collate(demonstrations, run.tokenizer.pad_token_id, run.device)
                part = distributed.share(torch.arange(len(demonstrations)), batch.loss_mask)
                mine = rows(batch, part.index) if distributed.active() else batch
                stats = sft_step(run.model, run.optimizer, mine, config.max_grad_norm, part,
                                 config.micro_batch_size)  # fmt: skip
                losses.append(stats["loss"])
        stats["loss"] = sum(losses) / len(losses) if losses else 0.0
        return step_metrics(rollout, stats, config.group_size) | {
            "dataset_size": len(self.aggregate),
            "states_added": added,
            "expert_agreement": expert_agreement(rollout.trajectories, run.tokenizer),
        }

    def state(self) -> dict[str, Any]:
        """The aggregate, as rows."""
        return {"dagger": [dataclasses.astuple(d) for d in self.aggregate.demonstrations]}

    def restore(self, state: dict[str, Any]) -> None:
        """The aggregate of a checkpoint."""
        self.aggregate = Aggregate([Demonstration(*row) for row in state.get("dagger", [])])


class ExpertLabels(gym.Wrapper):
    """Records the env's expert message at every state, just before the learner's turn is stepped.

    Wrap the text env inside a :class:`TokenEnv` (``TokenEnv(ExpertLabels(env), chat)``); after an
    episode, :func:`labelled` copies ``labels`` onto the token env's trajectory. A turn the env
    never saw (the token budget ran out first) gets no label.
    """

    def __init__(self, env: gym.Env) -> None:
        """Wrap ``env``, whose ``unwrapped`` has ``expert_message()``."""
        super().__init__(env)
        self.labels: list[str] = []

    def reset(self, **kwargs: Any) -> Any:
        """Start a new episode: no labels yet."""
        self.labels = []
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        """Label the state the learner acts in, then step."""
        self.labels.append(self.env.unwrapped.expert_message())  # type: ignore[attr-defined]
        return self.env.step(action)


def labelled(env: TokenEnv) -> Trajectory:
    """``env``'s trajectory with the labels of the :class:`ExpertLabels` it wraps."""
    assert env.trajectory is not None and isinstance(env.env, ExpertLabels)
    env.trajectory.expert = list(env.env.labels)
    return env.trajectory


class ExpertCollector(Collector):
    """A :class:`Collector` whose trajectories carry the expert's labels (``Trajectory.expert``)."""

    def __init__(self, make_env: Callable[[], gym.Env], *args: Any, **kwargs: Any) -> None:
        """As :class:`Collector`, every env wrapped in :class:`ExpertLabels`."""
        super().__init__(lambda: ExpertLabels(make_env()), *args, **kwargs)

    def collect(
        self, task_ids: Sequence[str], group_size: int = 1, seed: int = 0
    ) -> tuple[list[Trajectory], RolloutStats]:
        """As :meth:`Collector.collect`, then each trajectory gets its env's labels."""
        trajectories, stats = super().collect(task_ids, group_size, seed)
        envs = self._pool[: len(trajectories)]  # collect plays the first envs of the pool, in order
        return [labelled(env) for env in envs], stats


@dataclass(frozen=True)
class Demonstration:
    """One labelled state: the stream the learner saw, and the expert's reply token ids."""

    task_id: str
    state: tuple[int, ...]
    action: tuple[int, ...]

    def trajectory(self) -> Trajectory:
        """As a token stream whose only trainable tokens are the expert's reply."""
        action = Segment("assistant", self.action, True, (0.0,) * len(self.action))
        return Trajectory(self.task_id, [Segment("prompt", self.state, False), action])


def label_states(
    trajectory: Trajectory, chat: ChatTokenizer, max_tokens: int = 8192
) -> list[Demonstration]:
    """The learner's visited states in ``trajectory``, each labelled with the expert's message.

    States whose labelled stream would exceed ``max_tokens`` are left out.
    """
    if chat.end_of_turn_id is None:
        raise ValueError("the chat template has no end-of-turn token to close expert turns with")
    demonstrations: list[Demonstration] = []
    state: list[int] = []
    labels = iter(trajectory.expert)
    for segment in trajectory.segments:
        if segment.role == "assistant":
            label = next(labels, None)
            if label is None:  # a turn the env never saw (the token budget ran out first)
                break
            action = (*chat.encode(label), chat.end_of_turn_id)
            if len(state) + len(action) <= max_tokens:
                demonstrations.append(Demonstration(trajectory.task_id, tuple(state), action))
        state += segment.token_ids
    return demonstrations


class Aggregate:
    """DAgger's dataset: every iteration's demonstrations, kept in the order they were added."""

    def __init__(self, demonstrations: Sequence[Demonstration] = ()) -> None:
        """Start from ``demonstrations`` (e.g. restored from a checkpoint)."""
        self.demonstrations = list(demonstrations)

    def add(
        self, trajectories: Sequence[Trajectory], chat: ChatTokenizer, max_tokens: int = 8192
    ) -> int:
        """Label every state of ``trajectories`` and keep them; returns how many were added."""
        new = [d for t in trajectories for d in label_states(t, chat, max_tokens)]
        self.demonstrations += new
        return len(new)

    def minibatches(self, size: int, rng: np.random.Generator) -> Iterator[list[Trajectory]]:
        """One pass over the whole aggregate in shuffled minibatches of at most ``size``."""
        order = rng.permutation(len(self.demonstrations))
        for start in range(0, len(order), size):
            yield [self.demonstrations[i].trajectory() for i in order[start : start + size]]

    def __len__(self) -> int:
        return len(self.demonstrations)


def expert_agreement(trajectories: Sequence[Trajectory], tokenizer: Any) -> float:
    """Share of the learner's turns whose text equals the expert's label at that state."""
    same = total = 0
    for trajectory in trajectories:
        turns = [s for s in trajectory.segments if s.role == "assistant"]
        for segment, label in zip(turns, trajectory.expert, strict=False):
            text = tokenizer.decode(list(segment.token_ids), skip_special_tokens=True)
            same += text.strip() == label.strip()
            total += 1
    return same / total if total else 0.0
