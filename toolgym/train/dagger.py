"""DAgger (Ross et al., 2011) on token streams: the learner drives, the env's expert labels.

Every state the learner visited (the token stream up to one of its assistant turns) becomes a
:class:`Demonstration`: that state as an untrainable prompt, and the env's expert message there
(``Trajectory.expert``, from :meth:`ToolEnv.expert_message`: the gold next call, a question for
a missing fact, or the final answer) as the trainable reply. :class:`Aggregate` is the growing
dataset D_1 u D_2 u ...; the trainer fits it by behavioural cloning (the SFT loss).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Segment, Trajectory


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
