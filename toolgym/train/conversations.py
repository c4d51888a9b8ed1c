"""SFT data from a JSONL file of conversations: token streams with loss on assistant turns only.

Each line is one conversation in the OpenAI chat shape::

    {"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."},
                  {"role": "assistant", "content": "...", "tool_calls": [...]},
                  {"role": "tool", "name": "search", "content": "..."}, ...],
     "tools": [{"type": "function", "function": {...}}]}

Messages are rendered exactly as ``toolgym serve`` renders a request (``render_messages``): the
tools block ends the system prompt, assistant ``tool_calls`` are written in the env's tool format,
and tool results are ``tool`` messages. An assistant ``content`` that already holds the calls (the
text a toolgym env saw) is kept verbatim. The stream is then built like a rollout's: the prompt up
to the first assistant turn, each assistant turn's ids followed by the end-of-turn token
(trainable), and the template's observation delta between turns (not trainable). So a conversation
trains the same tokens the policy would have generated, with the same ``loss_mask`` as RL.

Every line is read and tokenised before training starts; a bad line stops the run with an error
that names the file, the line and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from toolgym.formats import ToolFormat
from toolgym.serve.prompt import render_messages
from toolgym.serve.protocol import AssistantMessage, Message, ToolSpec
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Segment, Trajectory

M = TypeVar("M", bound=BaseModel)


class Conversation(BaseModel):
    """One line of an SFT file: the messages (at least one assistant turn) and the tools offered."""

    model_config = ConfigDict(extra="forbid")

    messages: list[Message] = Field(min_length=2)
    tools: list[ToolSpec] | None = None

    @model_validator(mode="after")
    def _trainable(self) -> Conversation:
        if isinstance(self.messages[0], AssistantMessage):
            raise ValueError("messages: the first message must be system or user, not assistant")
        if not any(isinstance(m, AssistantMessage) for m in self.messages):
            raise ValueError("messages: no assistant message, so nothing to train on")
        for index, message in enumerate(self.messages):
            if isinstance(message, AssistantMessage) and not (
                message.content or message.tool_calls
            ):
                raise ValueError(
                    f"messages.{index}: an assistant message with no content or tool_calls"
                )
        return self


def read_conversations(path: Path) -> list[tuple[int, Conversation]]:
    """Every conversation of a JSONL file with its line number (blank lines are skipped).

    Raises:
        ValueError: ``FILE:LINE: FIELD: problem`` for the first line that is not a conversation.
    """
    return read_jsonl(path, Conversation, "conversations", '{"messages": [...]}')


def read_jsonl(path: Path, model: type[M], what: str, shape: str) -> list[tuple[int, M]]:
    """Every line of a JSONL file validated as ``model``, with its line number.

    Raises:
        ValueError: ``FILE:LINE: FIELD: problem`` for the first bad line; ``what`` and ``shape``
            name the data and one line's shape in the other errors.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the file: {exc}") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, model.model_validate(json.loads(line))))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}:{number}: not JSON ({exc.msg} at column {exc.colno})"
            ) from None
        except ValidationError as exc:
            raise ValueError(f"{path}:{number}: {_problems(exc)}") from None
    if not rows:
        raise ValueError(f"{path}: no {what} (one JSON object per line: {shape})")
    return rows


def conversation_trajectory(
    conversation: Conversation, chat: ChatTokenizer, tool_format: ToolFormat, task_id: str
) -> Trajectory:
    """The conversation as a token stream: trainable exactly on assistant turns (+ end of turn)."""
    end = chat.end_of_turn_id
    if end is None:
        raise ValueError("the chat template has no end-of-turn token to close assistant turns with")
    messages = render_messages(conversation.messages, conversation.tools or [], tool_format)
    first = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
    segments = [Segment("prompt", tuple(chat.prompt_ids(messages[:first])), False)]
    turns, index = 0, first
    while index < len(messages):
        ids = (*chat.encode(messages[index]["content"]), end)
        segments.append(Segment("assistant", ids, True, (0.0,) * len(ids)))
        turns += 1
        following = index + 1
        while following < len(messages) and messages[following]["role"] != "assistant":
            following += 1
        if following == len(messages):  # what follows the last assistant turn trains nothing
            break
        observation = chat.observation_ids(messages[index + 1 : following], stop_id=end)
        segments.append(Segment("observation", tuple(observation), False))
        index = following
    return Trajectory(
        task_id, segments, turn_rewards=[0.0] * turns, terminated=True, end_reason="data"
    )


def sft_dataset(
    path: Path,
    chat: ChatTokenizer,
    tool_format: ToolFormat,
    max_tokens: int,
    min_reward: float | None = None,
) -> dict[str, Trajectory]:
    """All conversations of ``path`` as trajectories, keyed ``FILE:LINE``.

    Trajectory rows (``toolgym.trajectory_rows``: a .parquet file, a folder of them, or a JSONL
    of rows) train on their own token ids: the successful rows, or with ``min_reward`` those
    whose reward is at least it (``sft_rows``).

    Raises:
        ValueError: a line is malformed, or longer than ``max_tokens`` once tokenised.
    """
    from toolgym import trajectory_rows

    if trajectory_rows.is_rows_data(path):
        return trajectory_rows.sft_rows(path, chat.tokenizer, max_tokens, min_reward)
    dataset = {}
    for number, conversation in read_conversations(path):
        key = f"{path.name}:{number}"
        try:
            trajectory = conversation_trajectory(conversation, chat, tool_format, key)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        if len(trajectory) > max_tokens:
            raise ValueError(
                f"{path}:{number}: {len(trajectory)} tokens, over max_tokens={max_tokens}: "
                "raise max_tokens or shorten the conversation"
            )
        dataset[key] = trajectory
    return dataset


def _problems(exc: ValidationError, shown: int = 3) -> str:
    """The first few validation errors as ``field.path: problem``, joined by ``; ``."""
    lines = []
    for error in exc.errors()[:shown]:
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    more = len(exc.errors()) - shown
    return "; ".join(lines) + (f" (and {more} more)" if more > 0 else "")
