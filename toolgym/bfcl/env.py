"""``BFCLEnv``: one BFCL single-turn entry per episode, one assistant message, scored by BFCL's rules.

``reset`` shows the system prompt (the entry's system message, if any, then its tools rendered by
the tool format) and the user question. ``step(text)`` reads the calls in ``text`` with the tool
format, scores them with :func:`toolgym.bfcl.matcher.match_calls` and ends the episode:

- ``reward`` = ``completion``: 1.0 if the calls match a possible answer (for irrelevance: if no
  call was made), else 0.0.
- ``terminated`` = True, ``truncated`` = False, observation ``[]``.
- ``info``: ``task_id``, ``turn`` (1), ``messages``, ``reward_components`` (``completion``;
  ``format``: 1.0 when the message is well-formed; ``num_calls``), ``end_reason`` ``"answered"``
  and ``toolgym`` (a summary with the matcher's verdict as ``bfcl_reason``).

Malformed call blocks are left out of scoring, as BFCL's handler for Hermes-style models does
(it skips ``<tool_call>`` blocks that are not valid JSON); the ``format`` component shows them.
So a message with only malformed calls counts as "no call" (right for irrelevance, as in BFCL).
A message over ``MAX_ACTION_CHARS`` or not valid Unicode is refused unread, likewise "no call".
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from toolgym.bfcl.data import BFCLEntry, load_category
from toolgym.bfcl.matcher import match_calls
from toolgym.episode import copy_messages
from toolgym.formats import FormatName, get_format
from toolgym.formats.base import ParsedTurn, action_problem, shown_action
from toolgym.spaces import Messages, Text
from toolgym.tasks import Task, choose_task

MAX_ACTION_CHARS = 32_768


class BFCLEnv(gym.Env[list[dict[str, str]], str]):
    """Single-turn BFCL evaluation: one entry per episode, the first assistant message is judged."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        entries: Sequence[BFCLEntry],
        *,
        format: FormatName = "hermes",
        render_mode: str | None = None,
    ) -> None:
        """Build an env over ``entries`` (from :func:`toolgym.bfcl.data.load_category`).

        Args:
            entries: The BFCL entries to draw episodes from.
            format: Tool-call format the agent must use.
            render_mode: ``"ansi"`` to get the conversation as text from ``render()``.
        """
        if not entries:
            raise ValueError("BFCLEnv needs at least one entry")
        self.entries = {e.task.id: e for e in entries}
        if len(self.entries) != len(entries):
            raise ValueError("BFCLEnv: duplicate entry ids")
        self.tasks: list[Task] = [e.task for e in entries]
        self._tasks_by_id = {t.id: t for t in self.tasks}
        self.tool_format = get_format(format)
        self.user = None  # single turn: no simulated user ever replies
        self.render_mode = render_mode
        self.action_space = Text(MAX_ACTION_CHARS)
        self.observation_space = Messages()
        self.timings: defaultdict[str, float] = defaultdict(float)
        self.tool_specs: list[dict[str, Any]] = []
        self._messages: list[dict[str, str]] = []
        self._summary: dict[str, Any] | None = None
        self._done = True

    @property
    def entry(self) -> BFCLEntry:
        """The current episode's BFCL entry."""
        return self.entries[self.task.id]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Start an episode. ``options`` may name ``task_id`` (else an entry is drawn at random)."""
        start = time.perf_counter()
        super().reset(seed=seed)
        self.task = choose_task(options or {}, self._tasks_by_id, self.np_random)
        self.tool_specs = self.entry.specs
        self._messages = [
            {"role": "system", "content": self.system_prompt(self.task)},
            {"role": "user", "content": self.task.instruction},
        ]
        self._summary = None
        self._done = False
        self.timings["reset"] += time.perf_counter() - start
        self.timings["resets"] += 1
        info = {
            "task_id": self.task.id,
            "turn": 0,
            "messages": copy_messages(self._messages),
            "tools": json.loads(json.dumps(self.tool_specs)),
        }
        return copy_messages(self._messages), info

    def system_prompt(self, task: Task, *, with_tools: bool = True) -> str:
        """The entry's system message (if any), then (unless told not to) its tools block.

        Policies that pass tools natively (OpenAI ``tools=``) use ``with_tools=False``.
        """
        parts = [task.context or ""]
        if with_tools:
            parts.append(self.tool_format.render_tools(self.entries[task.id].specs))
        return "\n\n".join(p.strip() for p in parts if p.strip())

    def expert_message(self) -> str:
        """The entry's gold message (DAgger's expert): its first possible answer's calls.

        For irrelevance entries, a reply without a call.
        """
        task = self.task
        return (
            self.tool_format.render_calls(task.step_calls[0]) if task.gold_calls else task.answer()
        )

    def step(self, action: str) -> tuple[list[dict[str, str]], float, bool, bool, dict[str, Any]]:
        """Judge one assistant message and end the episode (see the module docstring)."""
        if self._done:
            raise RuntimeError("the episode is over (or never started): call reset() first")
        if not isinstance(action, str):
            raise TypeError(
                f"action must be the assistant's message as a str, got {type(action).__name__}"
            )
        start = time.perf_counter()
        parameters = {s["function"]["name"]: s["function"]["parameters"] for s in self.tool_specs}
        refusal = action_problem(action, MAX_ACTION_CHARS)
        if refusal is None:
            parsed = self.tool_format.parse(action, parameters)
        else:  # too long or not valid Unicode: no call is read from it (as a decode failure)
            parsed = ParsedTurn("", errors=(refusal,), refused=True)
            action = shown_action(action, MAX_ACTION_CHARS)
        self.timings["parse"] += time.perf_counter() - start
        start = time.perf_counter()
        entry = self.entry
        result = match_calls(parsed.calls, entry.possible, entry.functions)
        self.timings["score"] += time.perf_counter() - start
        self._messages.append({"role": "assistant", "content": action})
        components = {
            "completion": float(result.ok),
            "format": float(parsed.well_formed),
            "num_calls": float(len(parsed.calls)),
        }
        self._summary = {
            "task_id": self.task.id,
            "category": entry.category,
            "end_reason": "answered",
            "final_answer": parsed.content,
            "turns": 1,
            "calls": len(parsed.calls),
            "calls_made": [c.model_dump() for c in parsed.calls],
            "format_errors": list(parsed.errors),
            "bfcl_reason": result.reason,
        }
        self._done = True
        self.timings["steps"] += 1
        info = {
            "task_id": self.task.id,
            "turn": 1,
            "messages": copy_messages(self._messages),
            "reward_components": components,
            "end_reason": "answered",
            "toolgym": self.summary(),
        }
        return [], components["completion"], True, False, info

    def summary(self) -> dict[str, Any]:
        """JSON-able summary of the last finished episode (task, calls, the matcher's reason)."""
        if self._summary is None:
            raise RuntimeError("no finished episode yet: reset() then step()")
        return json.loads(json.dumps(self._summary))

    def render(self) -> str | None:
        """The conversation so far as plain text (``render_mode="ansi"``)."""
        if self.render_mode != "ansi" or not self._messages:
            return None
        return "\n\n".join(f"[{m['role']}] {m['content']}" for m in self._messages)


def make_bfcl_env(
    category: str,
    split: str = "test",
    *,
    format: FormatName = "hermes",
    limit: int | None = None,
    render_mode: str | None = None,
    user: Any = None,
) -> BFCLEnv:
    """The BFCL env of one category (the entry point of the registered ``toolgym/BFCL-*`` ids).

    Args:
        category: ``simple``, ``multiple``, ``parallel``, ``parallel_multiple`` or ``irrelevance``.
        split: ``"test"`` (every entry). BFCL is an evaluation set with no train split, so
            ``"train"`` is an error rather than a silent empty env.
        format: Tool-call format the agent must use.
        limit: Only the first ``limit`` entries.
        render_mode: ``"ansi"`` to get the conversation as text from ``render()``.
        user: Accepted so that generic callers (``toolgym eval``) can pass their user config; a
            single-turn BFCL episode never consults a user, so it is ignored.
    """
    if split != "test":
        raise ValueError(
            f"BFCL has only a test split (got split={split!r}); use gym.make(..., split='test')"
        )
    entries = load_category(category)
    return BFCLEnv(
        entries[:limit] if limit is not None else entries, format=format, render_mode=render_mode
    )
