"""SFT: cross-entropy on the assistant tokens of oracle trajectories or of a JSONL of conversations.

Without ``sft.data`` each step plays the env's oracle on its tasks (``data.py``); with it, the
tasks are the file's lines (``conversations.py``), all checked before training starts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch, Trajectory, collate
from toolgym.train import distributed
from toolgym.train.algos.base import Algorithm, Needs, Run, micro_batches, optimizer_step, rows
from toolgym.train.conversations import sft_dataset
from toolgym.train.data import oracle_trajectories
from toolgym.train.losses import sft_loss

logger = logging.getLogger(__name__)


class SFT(Algorithm):
    """``sft``: learns from gold labels (oracle demonstrations or ``sft.data``)."""

    dataset: dict[str, Trajectory]
    turn_budget_warned = False
    """Whether demonstrations longer than ``max_new_tokens`` were warned about (once per run)."""

    @property
    def needs(self) -> Needs:
        """No reference; oracle demonstrations, or the JSONL of ``sft.data``."""
        return Needs(data="jsonl" if self.config.sft.data is not None else "oracle")

    def prepare(self, run: Run) -> list[str] | None:
        """The conversations of ``sft.data`` as token streams; their keys are the tasks."""
        self.dataset = {}
        if self.config.sft.data is None:
            return None
        tool_format = run.env("train").unwrapped.tool_format  # type: ignore[attr-defined]
        self.dataset = sft_dataset(
            self.config.sft.data, run.chat, tool_format, self.config.max_tokens,
            self.config.sft.min_reward,  # trajectory rows: keep by reward, not success
        )  # fmt: skip
        self._check_turn_budget(list(self.dataset.values()))
        return list(self.dataset) or None

    @staticmethod
    def learns_from(metrics: dict[str, Any]) -> bool:
        """Gold labels always teach."""
        return True

    def update(self, run: Run, tasks: list[str]) -> dict[str, Any]:
        """``epochs`` cross-entropy steps on the tasks' demonstrations (one batch)."""
        config = self.config
        if self.dataset:
            trajectories = [self.dataset[key] for key in tasks]
        else:
            trajectories = oracle_trajectories(
                lambda: run.env("train"), run.chat, tasks, config.max_tokens
            )
            run.episodes += len(trajectories)
            self._check_turn_budget(trajectories)
        batch = collate(trajectories, run.tokenizer.pad_token_id, run.device)
        part = distributed.share(torch.arange(len(trajectories)), batch.loss_mask)
        mine = rows(batch, part.index) if distributed.active() else batch  # this rank's rows
        stats = {}
        for _ in range(config.epochs):
            stats = sft_step(
                run.model, run.optimizer, mine, config.max_grad_norm, part, config.micro_batch_size
            )
        return stats

    def _check_turn_budget(self, trajectories: Sequence[Trajectory]) -> None:
        """Warn (once) when demonstrated turns are longer than sampling may ever write."""
        if self.turn_budget_warned:
            return
        warning = turn_budget_warning(trajectories, self.config.max_new_tokens)
        if warning is not None:
            logger.warning("SFT: %s", warning)
            self.turn_budget_warned = True


def turn_budget_warning(trajectories: Sequence[Trajectory], max_new_tokens: int) -> str | None:
    """What is wrong when some trainable turns exceed ``max_new_tokens``; None when all fit.

    A sampled turn stops after ``max_new_tokens`` tokens (its end-of-turn token included), so a
    demonstrated turn longer than that is one the policy learns but can never finish: its calls
    are cut mid-JSON and its answers mid-sentence, in evaluation and in RL rollouts alike.
    """
    lengths = [len(s.token_ids) for t in trajectories for s in t.segments if s.trainable]
    over = [n for n in lengths if n > max_new_tokens]
    if not over:
        return None
    return (
        f"{len(over)} of {len(lengths)} demonstrated assistant turns are longer than "
        f"max_new_tokens={max_new_tokens} (the longest is {max(over)} tokens with its "
        "end-of-turn token): sampled turns are cut there, so the policy can never finish them. "
        f"Set max_new_tokens to at least {max(over)}."
    )


def sft_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    max_grad_norm: float = 1.0,
    part: distributed.Share | None = None,
    micro_batch_size: int | None = None,
) -> dict[str, float]:
    """Cross-entropy on the generated (assistant) tokens only; returns loss and grad norm.

    ``part``: under torchrun, this rank's share of the batch (``distributed.share``, token mean).
    ``micro_batch_size``: computed in passes of at most that many rows, gradients accumulated.
    """
    model.train()
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for micro in micro_batches(batch, torch.arange(len(batch.input_ids)), micro_batch_size):
        piece = micro.batch(batch)
        loss = sft_loss(token_logprobs(model, piece), piece.loss_mask) * micro.part.weight
        distributed.scale(loss, part).backward()
        total += loss.item()
    grad_norm = optimizer_step(optimizer, max_grad_norm)
    shown = total if part is None else distributed.reduce_weighted(
        {"loss": total}, [part.weight])["loss"]  # fmt: skip
    return {"loss": shown, "grad_norm": grad_norm}
