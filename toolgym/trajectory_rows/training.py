"""Rows for training: a trainer step's rollouts out, SFT examples and DPO pairs back in.

SFT and DPO use a row's ``token_ids`` and ``loss_mask`` as they are (never re-tokenised), so the
run's tokenizer must be the one the ids are in: a row whose ``tokenizer_hash`` differs, or whose
ids fall outside the vocabulary, stops the run with an error naming the file and row. Rows
without token ids (openai agents' episodes) and rows that ended in ``user_error`` or
``env_error`` are left out (the former with a warning).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from toolgym.episode import UNSCORED_REASONS
from toolgym.tokens.trajectory import Trajectory
from toolgym.tooling import ToolCall
from toolgym.trajectory_rows.columns import (
    RowError,
    chat_messages,
    episode_row,
    row_trajectory,
    tokenizer_hash,
)
from toolgym.trajectory_rows.files import read_rows, step_path, write_rows

Pair = tuple[Trajectory, Trajectory]
logger = logging.getLogger("toolgym")


def save_rollouts(
    folder: Path,
    step: int,
    trajectories: Sequence[Trajectory],
    *,
    env: str,
    algo: str,
    model: str,
    tokenizer: Any,
    group_size: int,
    seed: int,
    parse: Callable[[str], list[ToolCall]] | None = None,
) -> Path:
    """Write one trainer step's episodes (grouped task by task) as ``folder/step-NNNNNN.parquet``.

    Episode ``i`` is sample ``i % group_size`` of group ``i // group_size``, reset with seed
    ``seed + i // group_size`` (as the collector resets them). Its ``messages`` are the
    trajectory's conversation, assistant ``tool_calls`` read by ``parse`` (:func:`call_parser`).
    """
    fingerprint = tokenizer_hash(tokenizer)
    rows = []
    for index, trajectory in enumerate(trajectories):
        group, sample = divmod(index, group_size)
        row = episode_row(
            trajectory, source="train", env=env, task_number=group, sample=sample,
            seed=seed + group, step=step, agent=algo, model=model, tokenizer=tokenizer,
            tokenizer_name=model, policy_version=trajectory.policy_version,
            messages=None if trajectory.messages is None
            else chat_messages(trajectory.messages, parse),
        )  # fmt: skip
        row["tokenizer_hash"] = fingerprint if row["token_ids"] is not None else None
        rows.append(row)
    return write_rows(step_path(folder, step), rows)


def _checked(place: str, row: dict[str, Any], tokenizer: Any, fingerprint: str,
             max_tokens: int) -> Trajectory:  # fmt: skip
    """The row's trajectory, refused unless the run's tokenizer can train on it."""
    try:
        trajectory = row_trajectory(row)
    except RowError as exc:
        raise ValueError(f"{place}: {exc}") from None
    if row.get("tokenizer_hash") not in (None, fingerprint):
        raise ValueError(
            f"{place}: its token ids are in the tokenizer of {row.get('tokenizer')!r}, not this "
            "run's model's: train with --set model="
            + str(row.get("tokenizer"))
            + " or save the trajectories with this run's model"
        )
    vocab = len(tokenizer)
    top = max(trajectory.token_ids, default=0)
    if top >= vocab or min(trajectory.token_ids, default=0) < 0:
        raise ValueError(
            f"{place}: token id {top} is outside this run's vocabulary of {vocab}: the rows "
            "were tokenised for another model; train with that model"
        )
    if len(trajectory) > max_tokens:
        raise ValueError(
            f"{place}: {len(trajectory)} tokens, over max_tokens={max_tokens}: raise max_tokens"
        )
    return trajectory


def _usable(rows: list[tuple[str, dict[str, Any]]], path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Rows that can train: not ``user_error``/``env_error``, with token ids (others are logged)."""
    scored = [(p, r) for p, r in rows if r.get("end_reason") not in UNSCORED_REASONS]
    usable = [(p, r) for p, r in scored if r.get("token_ids") is not None]
    if len(usable) < len(scored):
        logger.warning(
            "%s: left out %d row(s) without token_ids (an openai agent's episodes, or chats "
            "that do not tokenise, e.g. an empty assistant turn)",
            path,
            len(scored) - len(usable),
        )
    return usable


def _nothing(path: Path, rows: list[tuple[str, dict[str, Any]]], rule: str) -> ValueError:
    """The error of data without one trainable row (or pair), saying what each row lacked."""
    tokens = sum(r.get("token_ids") is not None for _, r in rows)
    return ValueError(
        f"{path}: {rule} (of its {len(rows)} rows, {tokens} have token_ids; rows without them "
        "come from openai agents, whose tokens toolgym never sees: save trajectories of an hf, "
        "oracle or random agent, or of a training run)"
    )


def sft_rows(
    path: Path, tokenizer: Any, max_tokens: int, min_reward: float | None = None
) -> dict[str, Trajectory]:
    """The rows of ``path`` worth imitating, keyed by their place ``FILE:N``.

    Kept: rows with ``success`` true, or, with ``min_reward``, rows whose reward is at least it;
    never rows that ended in ``user_error`` or ``env_error``.

    Raises:
        ValueError: ``FILE:N: ...`` for a row the run cannot train on; no row kept.
    """
    fingerprint = tokenizer_hash(tokenizer)
    kept = {}
    rows = read_rows(path)
    for place, row in _usable(rows, path):
        good = row.get("success") is True if min_reward is None else (
            isinstance(row.get("reward"), int | float) and row["reward"] >= min_reward)  # fmt: skip
        if good:
            kept[place] = _checked(place, row, tokenizer, fingerprint, max_tokens)
    if not kept:
        rule = "success == true" if min_reward is None else f"reward >= {min_reward}"
        raise _nothing(path, rows, f"no row with {rule} to imitate (sft.min_reward=R keeps "
                                   "rows by reward)")  # fmt: skip
    return kept


def preference_rows(path: Path, tokenizer: Any, max_tokens: int) -> dict[str, Pair]:
    """DPO pairs from rows: in each group, the highest-reward row over the lowest-reward row.

    A group is the rows of one ``source``, ``step``, ``task_id`` and ``group`` whose prompts
    (the first segment's tokens) are equal, so both sides answer the same prompt. A group whose
    rewards are all equal gives no pair; on ties the earlier row wins. Keys are
    ``FILE:N>FILE:M`` (chosen > rejected).

    Raises:
        ValueError: ``FILE:N: ...`` for a row the run cannot train on; no group gives a pair.
    """
    fingerprint = tokenizer_hash(tokenizer)
    groups: dict[tuple[Any, ...], list[tuple[str, float, Trajectory]]] = {}
    rows = read_rows(path)
    for place, row in _usable(rows, path):
        trajectory = _checked(place, row, tokenizer, fingerprint, max_tokens)
        if not isinstance(row.get("reward"), int | float):
            raise ValueError(f"{place}: reward must be a number, not {row.get('reward')!r}")
        key = (row.get("source"), row.get("step"), row["task_id"], row.get("group"),
               trajectory.segments[0].token_ids)  # fmt: skip
        groups.setdefault(key, []).append((place, float(row["reward"]), trajectory))
    pairs = {}
    for members in groups.values():
        best = max(members, key=lambda m: m[1])  # max/min keep the first of equals
        worst = min(members, key=lambda m: m[1])
        if best[1] > worst[1]:
            pairs[f"{best[0]}>{worst[0]}"] = (best[2], worst[2])
    if not pairs:
        raise _nothing(path, rows, "no pair: every group's rewards are equal (DPO needs rows "
                       "of one task and group with different rewards)")  # fmt: skip
    return pairs
