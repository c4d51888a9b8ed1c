"""``toolgym eval --save-trajectories PATH``: every evaluated episode as a trajectory row.

The agent plays text, so a row's token stream is its chat tokenised as SFT data is
(``conversation_trajectory``): with the hf agent's tokenizer, the tiny tokenizer for the oracle
and random agents, and none for openai agents (toolgym never sees an endpoint's tokens: the
token columns are null). Log-probs are null: a text-level episode has no behaviour log-probs.
See ``toolgym.trajectory_rows.COLUMNS``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from toolgym.episode import TRUNCATING_REASONS
from toolgym.policies.factory import DEFAULT_LOCAL_MODEL, AgentConfig
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Trajectory
from toolgym.trajectory_rows import (
    call_parser,
    chat_messages,
    check_path,
    episode_row,
    write_rows,
)


class EvalRows:
    """Collects one row per evaluated episode; :meth:`write` saves them (Parquet or JSONL)."""

    def __init__(
        self, path: Path, config: AgentConfig, env_id: str, env: Any, tokenizer: Any
    ) -> None:
        """Rows of ``config``'s agent on ``env`` (the unwrapped ToolEnv), to be written to ``path``.

        ``tokenizer`` is the eval's (the hf agent's, else tiny's); an openai agent's rows get no
        token columns, since tiny's ids are not the endpoint's.

        Raises:
            ValueError: ``path`` ends in neither .parquet nor .jsonl.
        """
        self.path, self.config, self.env_id, self.env = check_path(path), config, env_id, env
        self.rows: list[dict[str, Any]] = []
        self.tokenizer_name: str | None = None
        self.tokenizer: Any = None
        if config.agent != "openai":
            self.tokenizer = tokenizer
            self.tokenizer_name = (
                (config.model or DEFAULT_LOCAL_MODEL) if config.agent == "hf" else "tiny"
            )
        self.chat = ChatTokenizer(self.tokenizer) if self.tokenizer is not None else None
        self.parse = call_parser(env)

    def add(self, result: dict[str, Any], task_number: int, seed: int) -> None:
        """Add the episode of one ``results.jsonl`` row (its messages, steps and outcome)."""
        end = result["end_reason"]
        seconds = result["seconds"]
        trajectory = dataclasses.replace(
            self._stream(result["messages"], result["task_id"]),
            turn_rewards=[float(s["reward"]) for s in result["steps"]],
            components=[dict(s["components"]) for s in result["steps"]],
            truncated=end in TRUNCATING_REASONS, terminated=end not in TRUNCATING_REASONS,
            end_reason=end, error=result.get("error"),
            timings={"generate": seconds["agent"], "env": seconds["tool"],
                     "user": seconds["user"], "render": 0.0},
        )  # fmt: skip
        self.rows.append(
            episode_row(
                trajectory,
                source="eval",
                env=self.env_id,
                task_number=task_number,
                sample=result["sample"],
                seed=seed,
                agent=self.config.agent,
                model=self.config.model,
                tokenizer=self.tokenizer,
                tokenizer_name=self.tokenizer_name,
                messages=chat_messages(result["messages"], self.parse),
            )  # fmt: skip
        )

    def write(self) -> Path:
        """Write every row to the path (atomically: a whole file or none)."""
        return write_rows(self.path, self.rows)

    def _stream(self, messages: list[dict[str, Any]], task_id: str) -> Trajectory:
        """The chat as a token stream without log-probs; no segments when it has none."""
        from toolgym.train.conversations import Conversation, conversation_trajectory

        if self.chat is None:
            return Trajectory(task_id)
        try:
            conversation = Conversation.model_validate({"messages": messages})
            stream = conversation_trajectory(conversation, self.chat, self.env.tool_format, task_id)
        except ValueError:  # e.g. an episode with no assistant turn: the row keeps the rest
            return Trajectory(task_id)
        segments = [dataclasses.replace(s, logprobs=None) for s in stream.segments]
        return Trajectory(task_id, segments)
