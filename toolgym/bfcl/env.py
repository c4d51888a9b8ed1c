"""``BFCLEnv``: one BFCL single-turn entry per episode, one assistant message, scored by BFCL's rules.

``reset`` shows the system prompt (the entry's system message, if any, then its tools rendered by
the tool format) and the user question. ``step(text)`` reads the calls in ``text`` the way BFCL's
``handler`` family does (:mod:`toolgym.bfcl.decode`; ``"hermes"``: BFCL's Hermes-style FC
handler, for ``format="hermes"``; ``"prompting"``: BFCL's decoder of prompting models'
``[func(param=value)]`` lists, for ``format="pythonic"``), scores them with :func:`toolgym.bfcl.matcher.match_calls` and ends the episode:

- ``reward`` = ``completion``: 1.0 if the calls match a possible answer (for irrelevance: if no
  call was made), else 0.0.
- ``terminated`` = True, ``truncated`` = False, observation ``[]``.
- ``info``: ``task_id``, ``turn`` (1), ``messages``, ``reward_components`` (``completion``;
  ``format``: 1.0 when the message is well-formed; ``num_calls``), ``end_reason`` ``"answered"``
  and ``toolgym`` (a summary with the matcher's verdict as ``bfcl_reason``).

BFCL's reading decides the score. Hermes: a block that is not JSON is skipped, a block of other JSON
(``[1, 2]``) or without ``"name"``/``"arguments"`` fails the whole message (0, or "no call" on
irrelevance, which then passes), extra keys are ignored, and a block needs the newlines inside its
tags; the ``format`` component is 1.0 only when BFCL read every ``<tool_call>`` tag cleanly.
Prompting: the whole message must decode as a Python list of calls (positional arguments are
dropped, a bare name is read as its string, ...; :mod:`toolgym.bfcl.decode_prompting`), else it
fails to decode; ``format`` is 0.0 only for a message that opens like a call and fails.
``handler="toolgym"`` scores with the tool format's own parser instead (the only choice for
``glm``; such a score is not a BFCL number). A message over
``MAX_ACTION_CHARS`` or not valid Unicode is refused unread and counts as a decode failure.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal

import gymnasium as gym

from toolgym.bfcl.data import BFCLEntry, load_category
from toolgym.bfcl.decode import HANDLERS, BFCLHandler, decode_message
from toolgym.bfcl.decode_prompting import jsonable
from toolgym.bfcl.matcher import MatchResult, match_calls
from toolgym.episode import copy_messages
from toolgym.formats import FormatName, get_format
from toolgym.formats.base import ParsedTurn, action_problem, shown_action
from toolgym.spaces import Messages, Text
from toolgym.tasks import Task, choose_task

MAX_ACTION_CHARS = 32_768

#: How an env reads the message: a BFCL handler family, or ``"toolgym"`` (the format's parser).
HandlerName = BFCLHandler | Literal["toolgym"]


#: The tool format whose syntax each BFCL handler family reads.
HANDLER_FORMATS: dict[str, str] = {"hermes": "hermes", "prompting": "pythonic"}


def default_handler(format: FormatName) -> HandlerName:
    """The handler family an env uses when none is named: BFCL's own for its format, if any."""
    for handler, handler_format in HANDLER_FORMATS.items():
        if format == handler_format:
            return handler  # type: ignore[return-value]
    return "toolgym"


class BFCLEnv(gym.Env[list[dict[str, str]], str]):
    """Single-turn BFCL evaluation: one entry per episode, the first assistant message is judged."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        entries: Sequence[BFCLEntry],
        *,
        format: FormatName = "hermes",
        handler: HandlerName | None = None,
        render_mode: str | None = None,
    ) -> None:
        """Build an env over ``entries`` (from :func:`toolgym.bfcl.data.load_category`).

        Args:
            entries: The BFCL entries to draw episodes from.
            format: Tool-call format the agent must use.
            handler: BFCL handler family whose decoder reads the message (``"hermes"``,
                ``"prompting"``), or ``"toolgym"`` for the format's own parser; default:
                :func:`default_handler`.
            render_mode: ``"ansi"`` to get the conversation as text from ``render()``.
        """
        if not entries:
            raise ValueError("BFCLEnv needs at least one entry")
        handler = default_handler(format) if handler is None else handler
        if handler not in (*HANDLERS, "toolgym"):
            raise ValueError(
                f"BFCLEnv: unknown handler {handler!r}; use one of {', '.join(HANDLERS)} "
                "or 'toolgym'"
            )
        wanted = HANDLER_FORMATS.get(handler)
        if wanted is not None and format != wanted:
            raise ValueError(
                f"BFCLEnv: handler={handler!r} reads the {wanted!r} syntax, but format={format!r} "
                f"asks the agent for another; use format={wanted!r} or handler='toolgym'"
            )
        self.handler: HandlerName = handler
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
        decode_error: str | None = None
        if refusal is not None:  # too long or not valid Unicode: read as a decode failure
            parsed = ParsedTurn("", errors=(refusal,), refused=True)
            decode_error = refusal
            action = shown_action(action, MAX_ACTION_CHARS)
        elif self.handler == "toolgym":
            parsed = self.tool_format.parse(action, parameters)
        else:
            decoded = decode_message(action, self.handler)
            content = self.tool_format.parse(action, parameters).content
            parsed = ParsedTurn(content, calls=decoded.calls, errors=tuple(decoded.problems))
            decode_error = decoded.error
        self.timings["parse"] += time.perf_counter() - start
        start = time.perf_counter()
        entry = self.entry
        if decode_error is not None and entry.possible:  # BFCL: a decode failure scores 0
            result = MatchResult(False, f"BFCL could not decode the message: {decode_error}")
        else:  # on irrelevance a decode failure is "no call" (BFCL's relevance rule)
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
            "calls_made": [jsonable(c.model_dump()) for c in parsed.calls],
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
    handler: HandlerName | None = None,
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
        handler: BFCL handler family that reads the message (see :class:`BFCLEnv`).
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
        entries[:limit] if limit is not None else entries,
        format=format,
        handler=handler,
        render_mode=render_mode,
    )
