"""Token-level trajectories and their collation into training tensors.

A trajectory is an ordered list of segments. Prompt and observation segments are not trainable;
assistant segments hold the policy's generated ids verbatim with their behaviour log-probs.
``collate`` right-pads a batch into tensors a trainer consumes directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["prompt", "assistant", "observation"]


@dataclass(frozen=True)
class Segment:
    """A run of tokens with one role; ``logprobs`` only for generated (trainable) tokens."""

    role: Role
    token_ids: tuple[int, ...]
    trainable: bool
    logprobs: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.logprobs is not None and len(self.logprobs) != len(self.token_ids):
            raise ValueError(f"{len(self.logprobs)} logprobs for {len(self.token_ids)} tokens")


@dataclass
class Trajectory:
    """One episode as tokens, with per-turn rewards and where they land.

    Attributes:
        task_id: The task.
        segments: Prompt, then alternating assistant / observation segments.
        turn_rewards: The env's reward after each assistant turn (the last includes the episode's
            terminal components).
        components: Reward components of each turn (the env's ``info["reward_components"]``).
        terminated: The conversation ended naturally. truncated: a limit cut it.
        end_reason: Why it ended (``answered``, ``max_turns``, ``max_tokens``, ...).
        timings: Seconds spent in generate / env (parse, validate, execute) / user (the
            simulated user's model) / render (tokenise).
        expert: The env's expert message (its gold next step) at the state each assistant turn
            was taken in, one per turn the env saw (DAgger's labels, filled by its ``ExpertLabels``
            wrapper in ``train/algos/dagger.py``); empty otherwise.
        error: The traceback of an exception that escaped the env (``end_reason="env_error"``).
        policy_version: Updates behind the weights that sampled it (a trainer sets it; 0 else).
        messages: The text env's conversation as of the last step (``TokenEnv`` keeps it; the
            tokens are the training data, this is for reading and for trajectory rows). Not
            compared: two trajectories are equal when their tokens, rewards and ending are.
    """

    task_id: str
    segments: list[Segment] = field(default_factory=list)
    turn_rewards: list[float] = field(default_factory=list)
    components: list[dict[str, float]] = field(default_factory=list)
    terminated: bool = False
    truncated: bool = False
    end_reason: str | None = None
    timings: dict[str, float] = field(
        default_factory=lambda: {"generate": 0.0, "env": 0.0, "user": 0.0, "render": 0.0}
    )
    expert: list[str] = field(default_factory=list)
    error: str | None = None
    policy_version: int = 0
    messages: list[dict[str, Any]] | None = field(default=None, compare=False, repr=False)

    @property
    def token_ids(self) -> list[int]:
        """The whole stream."""
        return [t for s in self.segments for t in s.token_ids]

    @property
    def loss_mask(self) -> list[int]:
        """1 exactly on generated tokens."""
        return [int(s.trainable) for s in self.segments for _ in s.token_ids]

    @property
    def logprobs(self) -> list[float]:
        """Behaviour log-prob of each token (0.0 where not generated)."""
        return [lp for s in self.segments for lp in (s.logprobs or (0.0,) * len(s.token_ids))]

    @property
    def turn_ends(self) -> list[int]:
        """Position of each assistant turn's last token (where its reward lands)."""
        ends, position = [], 0
        for s in self.segments:
            position += len(s.token_ids)
            if s.role == "assistant" and s.token_ids:
                ends.append(position - 1)
        return ends

    @property
    def total_reward(self) -> float:
        """Sum of the per-turn rewards."""
        return sum(self.turn_rewards)

    def __len__(self) -> int:
        return sum(len(s.token_ids) for s in self.segments)


@dataclass
class Batch:
    """Right-padded tensors of B trajectories, T = longest stream.

    Attributes:
        input_ids: (B, T) token ids, padded with ``pad_id``.
        attention_mask: (B, T) 1 on real tokens.
        loss_mask: (B, T) 1 exactly on generated tokens.
        old_logprobs: (B, T) behaviour log-prob of token t given tokens < t (0 elsewhere).
        turn_ids: (B, T) index of the assistant turn a generated token belongs to, -1 elsewhere.
        turn_ends: (B, K) position of each turn's last token, -1 padded (K = most turns).
        turn_rewards: (B, K) per-turn rewards, 0 padded.
    """

    input_ids: Any
    attention_mask: Any
    loss_mask: Any
    old_logprobs: Any
    turn_ids: Any
    turn_ends: Any
    turn_rewards: Any

    def to(self, device: Any) -> Batch:
        """The same batch with every tensor on ``device`` (a ``torch.device`` or its name)."""
        return Batch(*(getattr(self, f).to(device) for f in Batch.__dataclass_fields__))


def collate(trajectories: Sequence[Trajectory], pad_id: int, device: Any = None) -> Batch:
    """Stack trajectories into a right-padded :class:`Batch` of torch tensors.

    The tensors are built on the CPU and moved to ``device`` when one is given (the learner's).
    """
    import torch

    if not trajectories:
        raise ValueError("collate needs at least one trajectory")
    width = max(len(t) for t in trajectories)
    turns = max(1, max(len(t.turn_ends) for t in trajectories))
    batch = len(trajectories)
    input_ids = torch.full((batch, width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((batch, width), dtype=torch.long)
    loss_mask = torch.zeros((batch, width), dtype=torch.float32)
    old_logprobs = torch.zeros((batch, width), dtype=torch.float32)
    turn_ids = torch.full((batch, width), -1, dtype=torch.long)
    turn_ends = torch.full((batch, turns), -1, dtype=torch.long)
    turn_rewards = torch.zeros((batch, turns), dtype=torch.float32)
    for row, traj in enumerate(trajectories):
        n = len(traj)
        input_ids[row, :n] = torch.tensor(traj.token_ids)
        attention_mask[row, :n] = 1
        loss_mask[row, :n] = torch.tensor(traj.loss_mask, dtype=torch.float32)
        old_logprobs[row, :n] = torch.tensor(traj.logprobs)
        turn_ids[row, :n] = torch.tensor(_turn_index(traj))
        ends = traj.turn_ends
        turn_ends[row, : len(ends)] = torch.tensor(ends, dtype=torch.long)
        turn_rewards[row, : len(traj.turn_rewards)] = torch.tensor(traj.turn_rewards)
    stacked = Batch(
        input_ids, attention_mask, loss_mask, old_logprobs, turn_ids, turn_ends, turn_rewards
    )
    return stacked if device is None else stacked.to(device)


def _turn_index(traj: Trajectory) -> list[int]:
    out, turn = [], -1
    for s in traj.segments:
        if s.role == "assistant":
            turn += 1
        out += [turn if s.trainable else -1] * len(s.token_ids)
    return out
