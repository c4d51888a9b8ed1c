"""Records of what happened in an episode; rewards are pure functions of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from toolgym.formats import ParsedTurn
from toolgym.state_compare import StateComparison
from toolgym.suite import CallOutcome
from toolgym.tasks import Task
from toolgym.tooling import ToolCall

if TYPE_CHECKING:
    from toolgym.answers import AnswerCheck

EndReason = Literal[
    "answered",  # the user simulator ended the conversation after an answer
    "malformed",  # halted on a malformed tool call (GLM-4.5 rule, when enabled)
    "max_turns",
    "max_invalid_streak",
    "user_error",  # the user simulator's model failed (not the agent's fault; never scored)
    "env_error",  # an exception escaped the env (a bug, not the agent's fault; never scored)
]
TRUNCATING_REASONS: frozenset[str] = frozenset(
    {"max_turns", "max_invalid_streak", "user_error", "env_error"}
)
UNSCORED_REASONS: frozenset[str] = frozenset({"user_error", "env_error"})
"""End reasons that say nothing about the agent: success rates and training leave them out."""


CallRole = Literal["match", "extra_read", "wrong"]
"""How a call relates to the gold: it made a reachable gold call (or an equivalent one), it is a
READ outside the gold (free unless the task marks extra reads wasteful, or it repeats a READ made
on the same state: its result is already in the conversation, so a loop of it is never free), or
anything else."""

TalkKind = Literal["none", "asked", "replied", "answered"]
"""What a turn without calls did: nothing reached the user (malformed), it drew out a hidden
fact, the user replied without revealing one (a confirmation, a nudge), or the user took it as the
final answer."""


@dataclass(frozen=True)
class Verdict:
    """What the judge decided about one episode.

    Attributes:
        passed: ``True`` (PASS), ``False`` (FAIL, or nothing to judge), or ``None`` when no
            verdict could be obtained (see ``error``).
        raw: The judge model's reply, exactly as received (``""`` when none came).
        error: Why there is no verdict (backend failure, unreadable reply); ``None`` otherwise.
    """

    passed: bool | None
    raw: str
    error: str | None = None

    def as_dict(self) -> dict[str, bool | str | None]:
        """JSON-able form (``info["toolgym"]["judge"]``)."""
        return {"passed": self.passed, "error": self.error, "raw": self.raw}


@dataclass
class TurnGold:
    """What the gold cursor made of one turn (the process rewards read this).

    Attributes:
        open_steps: The remaining calls of each gold step the agent could make at the start of
            the turn (reachable steps, ids mapped onto the episode's); ``[]`` when the gold talks.
        roles: One role per executed call, in order.
        matched: The gold call each executed call matched (``None`` where it matched none).
        completes_steps: Every gold step a matched call belongs to is complete after the turn
            (half of a parallel step is not yet a match).
        talk: What a turn without calls did.
        talk_correct: ``asked``: a hidden fact was revealed. ``answered``: the gold would answer
            here and the answer is right (every gold call done, same state, no guessed hidden
            fact, the answer checks pass).
    """

    open_steps: list[list[ToolCall]] = field(default_factory=list)
    roles: list[CallRole] = field(default_factory=list)
    matched: list[ToolCall | None] = field(default_factory=list)
    completes_steps: bool = True
    talk: TalkKind = "none"
    talk_correct: bool = False


@dataclass
class Turn:
    """One assistant turn and its consequences.

    Attributes:
        index: 0-based turn number.
        text: The assistant message exactly as received (a refused one, over the length limit or
            not valid Unicode, as a short valid excerpt).
        parsed: Its parse under the env's tool format.
        gold: What the gold cursor made of the turn.
        calls: The parsed calls with canonical arguments (defaults filled in where valid).
        outcomes: The result or error of each executed call.
    """

    index: int
    text: str
    parsed: ParsedTurn
    gold: TurnGold = field(default_factory=TurnGold)
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
    state: StateComparison | None = None
    """The final state against the expected one (up to generated ids), set at the end."""
    answer_check: AnswerCheck | None = None
    """The rule checks of the final answer (facts, forbidden claims), set when it is given."""
    guessed_facts: list[int] = field(default_factory=list)
    """Hidden facts the agent acted without asking for (see ``HiddenFact.must_ask``)."""

    @property
    def num_tool_crashes(self) -> int:
        """Calls that crashed inside a tool (a suite bug, not the agent's fault)."""
        return sum(o.error_kind == "tool_crash" for t in self.turns for o in t.outcomes)

    @property
    def num_calls(self) -> int:
        """Tool calls the agent made (well-formed ones)."""
        return sum(len(t.calls) for t in self.turns)


def copy_messages(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """A copy of each message (infos and observations never share dicts with the episode)."""
    return [dict(m) for m in messages]


def succeeded(components: dict[str, float]) -> bool:
    """Whether an episode completed its task: its final ``completion`` reward component is 1.0.

    The one definition of success (``toolgym eval`` and ``run``, the trainer's success rates); a
    success rate averages it over the episodes that did not end in one of ``UNSCORED_REASONS``.
    """
    return components.get("completion", 0.0) == 1.0
