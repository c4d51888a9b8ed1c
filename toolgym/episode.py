"""Records of what happened in an episode; rewards are pure functions of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from toolgym.formats import ParsedTurn
from toolgym.suite import CallOutcome
from toolgym.tasks import Task
from toolgym.tooling import ToolCall

if TYPE_CHECKING:
    from toolgym.rewards.judge import Verdict

EndReason = Literal[
    "answered",  # the user simulator ended the conversation after an answer
    "malformed",  # halted on a malformed tool call (GLM-4.5 rule, when enabled)
    "max_turns",
    "max_invalid_streak",
    "max_calls_per_turn",
    "user_error",  # the user simulator's model failed (not the agent's fault; never scored)
]
TRUNCATING_REASONS: frozenset[str] = frozenset(
    {"max_turns", "max_invalid_streak", "max_calls_per_turn", "user_error"}
)


@dataclass
class Turn:
    """One assistant turn and its consequences.

    Attributes:
        index: 0-based turn number.
        text: The assistant message exactly as received.
        parsed: Its parse under the env's tool format.
        expected_calls: What the gold trajectory does at this point: the next gold step's calls,
            or ``[]`` when the right move is to talk (ask for a missing fact, or answer).
        calls: The parsed calls with canonical arguments (defaults filled in where valid).
        outcomes: The result or error of each executed call.
    """

    index: int
    text: str
    parsed: ParsedTurn
    expected_calls: list[ToolCall]
    calls: list[ToolCall] = field(default_factory=list)
    outcomes: list[CallOutcome] = field(default_factory=list)

    @property
    def invalid(self) -> bool:
        """Malformed, or a call to an unknown tool / with invalid arguments."""
        return not self.parsed.well_formed or any(
            o.error_kind in ("unknown_tool", "invalid_arguments") for o in self.outcomes
        )


@dataclass
class Episode:
    """A finished (or running) episode: the task, every turn and how it ended."""

    task: Task
    turns: list[Turn] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    final_answer: str | None = None
    final_state_hash: str = ""
    expected_state_hash: str = ""
    end_reason: EndReason | None = None
    halt_on_malformed: bool = False
    user_error: str | None = None
    """Why the user simulator failed, when ``end_reason == "user_error"``."""
    judge_verdict: Verdict | None = None
    """The LLM judge's verdict, set once at the end when the env has a judge."""

    @property
    def num_tool_crashes(self) -> int:
        """Calls that crashed inside a tool (a suite bug, not the agent's fault)."""
        return sum(o.error_kind == "tool_crash" for t in self.turns for o in t.outcomes)

    @property
    def num_calls(self) -> int:
        """Tool calls the agent made (well-formed ones)."""
        return sum(len(t.calls) for t in self.turns)
