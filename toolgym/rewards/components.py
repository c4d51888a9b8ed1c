"""Built-in reward components: small pure functions of a :class:`Turn` or an :class:`Episode`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from toolgym.episode import Episode, Turn
from toolgym.rewards.registry import episode_reward, step_reward
from toolgym.rewards.toolrl import toolrl_correctness
from toolgym.tooling import ToolCall


@step_reward("format")
def well_formed(turn: Turn) -> float:
    """1.0 if the message is well-formed in the env's tool format, else 0.0."""
    return float(turn.parsed.well_formed)


@step_reward("step_match")
def step_match(turn: Turn) -> float:
    """GLM-4.5 step-wise reward, against the gold calls open in the current state.

    1.0 iff the turn is well-formed and does what the gold could do here:

    - a turn with calls: at least one call matches an open gold call (the same call, or an
      equivalent one: :mod:`toolgym.gold`), no call is wrong (a WRITE outside the gold, an
      invalid call, a wasteful READ, a READ repeated on an unchanged state), and every gold
      step it touches is complete after it. A free READ outside the gold next to matched calls
      changes nothing;
    - a turn without calls: it draws out a hidden fact, or it is a right final answer (every
      gold call done, the same state, no guessed hidden fact, the answer checks pass).

    Everything else is 0.0: a turn of free READs only, a confirmation question the user answers
    (neither paid nor punished), a wrong call, a premature or wrong answer.
    """
    gold = turn.gold
    if not turn.parsed.well_formed:
        return 0.0
    if turn.calls:
        return float("wrong" not in gold.roles and "match" in gold.roles and gold.completes_steps)
    return float(gold.talk in ("asked", "answered") and gold.talk_correct)


@step_reward("toolrl")
def toolrl(turn: Turn) -> float:
    """ToolRL: R_format (0/1) + R_correct (in [-3, 3]), against the gold calls open now.

    - Calls: matched calls are scored as the gold call they match (an equivalent spelling earns
      the full value terms); free READs outside the gold are left out (a READ repeated on an
      unchanged state is not free: it is scored as a wrong call); R_correct is then taken
      against the union of open gold steps that fits best (:func:`best_open_correctness`). A
      call on the wrong record keeps 0 for its identifying argument's value term. A turn of free
      READs only earns 0 in all (not a penalty). Calls where the gold talks: R_correct = -3.
    - No calls: a question that draws out a hidden fact, or a right final answer, earns
      R_format + 0 (the gold has no call here); a question the user answers without revealing
      anything (a confirmation) earns 0; a premature or wrong answer earns R_format - 3; a
      malformed turn with open gold calls earns -3.
    """
    return _toolrl(turn, coarse=False)


@step_reward("toolrl_coarse")
def toolrl_coarse(turn: Turn) -> float:
    """ToolRL's coarse ablation: as ``toolrl``, with R_correct of calls binary (3 if exact, else -3).

    No partial credit for the right tool name or parameter names: a turn's calls earn +3 only
    when they match an open gold step (union) exactly, as ``toolrl`` scores it at its maximum.
    """
    return _toolrl(turn, coarse=True)


def _toolrl(turn: Turn, *, coarse: bool) -> float:
    gold, fmt = turn.gold, float(turn.parsed.well_formed)
    if turn.calls:
        scored = [
            match if role == "match" and match is not None else call
            for call, role, match in zip(turn.calls, gold.roles, gold.matched, strict=False)
            if role != "extra_read"
        ]
        if not scored:
            return 0.0
        if not gold.open_steps:
            return fmt - 3.0
        correct = best_open_correctness(scored, gold.open_steps)
        if coarse:
            correct = 3.0 if correct >= 3.0 - 1e-9 else -3.0
        return fmt + correct
    if gold.talk == "replied":
        return 0.0
    if gold.talk == "none":
        return fmt - 3.0 if gold.open_steps else fmt
    return fmt + (0.0 if gold.talk_correct else -3.0)


def best_open_correctness(
    predicted: Sequence[ToolCall], open_steps: Sequence[Sequence[ToolCall]]
) -> float:
    """Max of ToolRL's R_correct over unions of open gold steps (the reading the turn fits best).

    With more than 8 open steps only single steps and the union of all are tried.
    """
    n = len(open_steps)
    if n <= 8:
        subsets = [
            [s for k, s in enumerate(open_steps) if mask >> k & 1] for mask in range(1, 1 << n)
        ]
    else:
        subsets = [[s] for s in open_steps] + [list(open_steps)]
    return max(
        toolrl_correctness(predicted, [c for step in subset for c in step]) for subset in subsets
    )


LENGTH_TARGET_CHARS = 200


@step_reward("length")
def length(turn: Turn) -> float:
    """ToolRL's length bonus: min(characters of text outside the calls / 200, 1) (reasoning too).

    Pays for writing, not for being right: the ToolRL paper reports it hurts; weigh it with care.
    """
    written = (turn.parsed.reasoning or "") + turn.parsed.content
    return min(len(written) / LENGTH_TARGET_CHARS, 1.0)


@step_reward("valid_calls")
def valid_calls(turn: Turn) -> float:
    """Fraction of this turn's calls that named a real tool with valid arguments (1.0 if none)."""
    if not turn.outcomes:
        return 1.0
    bad = sum(o.error_kind in ("unknown_tool", "invalid_arguments") for o in turn.outcomes)
    return 1.0 - bad / len(turn.outcomes)


@episode_reward("state_match")
def state_match(episode: Episode) -> float:
    """1.0 if the final state is the expected one up to generated ids (:mod:`toolgym.state_compare`)."""
    return float(episode.state is not None and episode.state.same)


@episode_reward("outputs")
def outputs(episode: Episode) -> float:
    """The answer checks' score: the fraction of required outputs stated, 0 if a forbidden one is."""
    if episode.answer_check is None:
        return 0.0 if episode.task.required_outputs else 1.0
    return episode.answer_check.score


CompletionReason = Literal[
    "not_answered",
    "called_tools_on_no_call_task",
    "state_differs",
    "answer_failed",
    "guessed_hidden_fact",
]


@dataclass(frozen=True)
class CompletionCheck:
    """Whether the task was completed, and every reason it was not."""

    passed: bool
    reasons: tuple[CompletionReason, ...] = ()


def completion_check(episode: Episode) -> CompletionCheck:
    """Task completion with its reasons; see :func:`completion`."""
    if episode.end_reason != "answered" or episode.final_answer is None:
        return CompletionCheck(False, ("not_answered",))
    reasons: list[CompletionReason] = []
    if not episode.task.gold_calls and episode.num_calls:
        reasons.append("called_tools_on_no_call_task")
    if state_match(episode) != 1.0:
        reasons.append("state_differs")
    if episode.answer_check is None or not episode.answer_check.passed:
        reasons.append("answer_failed")
    if episode.guessed_facts:
        reasons.append("guessed_hidden_fact")
    return CompletionCheck(not reasons, tuple(reasons))


def completion_report(episode: Episode) -> dict[str, Any]:
    """JSON-able completion verdict with its reasons and what each check found."""
    check = completion_check(episode)
    return {
        "passed": check.passed,
        "reasons": list(check.reasons),
        "state_differences": list(episode.state.differences) if episode.state else [],
        "answer_failures": list(episode.answer_check.failures) if episode.answer_check else [],
        "guessed_facts": list(episode.guessed_facts),
    }


@episode_reward("completion")
def completion(episode: Episode) -> float:
    """Task completion: 1.0 iff the episode ended with an answer and every check holds.

    The checks: the final state is the expected one up to generated ids; the final answer states
    every required output and no forbidden one; the agent asked for every must-ask hidden fact
    before making the gold calls that need it (clarify tasks: a guess is
    ``guessed_hidden_fact``); a task without gold calls also requires that no tool was called.
    A truncated episode scores 0 (no final answer); under the GLM-4.5 rule
    (``halt_on_malformed``) neither does an episode halted by a malformed call. The reasons are
    in ``info["toolgym"]["completion"]``.
    """
    return float(completion_check(episode).passed)


@episode_reward("end_to_end")
def end_to_end(episode: Episode) -> float:
    """GLM-4.5 end-to-end multi-turn reward: 1.0 iff every turn is well-formed AND the task is done.

    GLM-4.5 (arXiv:2508.06471, agentic RL for function calling) pays a multi-turn trajectory only
    when the format is correct on every assistant turn and the task is completed; a single
    malformed turn zeroes the reward even if the agent recovers. Here: every turn's
    ``parsed.well_formed`` and :func:`completion` equal to 1.0. Unlike ``halt_on_malformed``,
    the episode is not cut short, so this can be logged next to ``completion`` in any env.
    """
    if completion(episode) != 1.0:
        return 0.0
    return float(all(turn.parsed.well_formed for turn in episode.turns))


@episode_reward("num_turns")
def num_turns(episode: Episode) -> float:
    """Number of assistant turns (a metric; give it weight 0)."""
    return float(len(episode.turns))


@episode_reward("num_calls")
def num_calls(episode: Episode) -> float:
    """Number of well-formed tool calls (a metric; give it weight 0)."""
    return float(episode.num_calls)
