"""DPO preference pairs from a JSONL file: one chosen and one rejected conversation per line.

::

    {"chosen": {"messages": [...], "tools"?: [...]}, "rejected": {"messages": [...]}}

Each side is a conversation as in SFT data (``conversations.py``) and becomes the same kind of
token stream: trainable exactly on assistant turns, so the DPO log-probs sum assistant tokens only.
Both sides must open with the same prompt (the messages up to the first assistant turn, as tokens):
DPO compares two answers to one prompt. Every line is checked before training.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from toolgym.formats import ToolFormat
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Trajectory
from toolgym.train.conversations import Conversation, conversation_trajectory, read_jsonl

Pair = tuple[Trajectory, Trajectory]


class PreferencePair(BaseModel):
    """One line of a preference file."""

    model_config = ConfigDict(extra="forbid")

    chosen: Conversation
    rejected: Conversation


def preference_dataset(
    path: Path, chat: ChatTokenizer, tool_format: ToolFormat, max_tokens: int
) -> dict[str, Pair]:
    """All pairs of ``path`` as (chosen, rejected) trajectories, keyed ``FILE:LINE``.

    Trajectory rows (a .parquet file, a folder of them, or a JSONL of rows) give each group's
    highest- over lowest-reward row instead (``trajectory_rows.preference_rows``).

    Raises:
        ValueError: ``FILE:LINE: ...`` for a malformed line, a side over ``max_tokens``, or two
            sides that do not share their prompt.
    """
    from toolgym import trajectory_rows

    if trajectory_rows.is_rows_data(path):
        return trajectory_rows.preference_rows(path, chat.tokenizer, max_tokens)
    shape = '{"chosen": {"messages": [...]}, "rejected": {"messages": [...]}}'
    dataset = {}
    for number, pair in read_jsonl(path, PreferencePair, "preference pairs", shape):
        key = f"{path.name}:{number}"
        sides = []
        for side in ("chosen", "rejected"):
            try:
                trajectory = conversation_trajectory(getattr(pair, side), chat, tool_format, key)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {side}: {exc}") from None
            if len(trajectory) > max_tokens:
                raise ValueError(
                    f"{path}:{number}: {side}: {len(trajectory)} tokens, over "
                    f"max_tokens={max_tokens}: raise max_tokens or shorten the conversation"
                )
            sides.append(trajectory)
        chosen, rejected = sides
        if chosen.segments[0].token_ids != rejected.segments[0].token_ids:
            raise ValueError(
                f"{path}:{number}: chosen and rejected open with different prompts (the messages "
                "before the first assistant turn must be the same)"
            )
        dataset[key] = (chosen, rejected)
    return dataset
