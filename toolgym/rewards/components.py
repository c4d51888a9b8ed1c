"""Built-in reward components: small pure functions of a :class:`Turn` or an :class:`Episode`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from toolgym.episode import Episode, Turn
from toolgym.rewards.registry import episode_reward, step_reward
from toolgym.rewards.toolrl import toolrl_correctness
from toolgym.suite import arguments_key
from toolgym.tasks import output_present
from toolgym.tooling import ToolCall


def same_calls(predicted: Sequence[ToolCall], gold: Sequence[ToolCall]) -> bool:
    """Exact match of two turns' calls: names and canonical arguments, compared as multisets."""
    return Counter(map(arguments_key, predicted)) == Counter(map(arguments_key, gold))


@step_reward("format")
def well_formed(turn: Turn) -> float:
    """1.0 if the message is well-formed in the env's tool format, else 0.0."""
    return float(turn.parsed.well_formed)


@step_reward("step_match")
def step_match(turn: Turn) -> float:
    """GLM-4.5 step-wise reward: 1.0 iff well-formed and the calls equal the gold next step.

    A turn without calls matches when the gold trajectory talks at this point (asks for a missing
    fact, or answers once every gold call is made).
    """
    return float(turn.parsed.well_formed and same_calls(turn.calls, turn.expected_calls))


@step_reward("toolrl")
def toolrl(turn: Turn) -> float:
    """ToolRL: R_format (0/1) + R_correct (in [-3, 3]) against the gold next step."""
    return float(turn.parsed.well_formed) + toolrl_correctness(turn.calls, turn.expected_calls)


@step_reward("valid_calls")
def valid_calls(turn: Turn) -> float:
    """Fraction of this turn's calls that named a real tool with valid arguments (1.0 if none)."""
    if not turn.outcomes:
        return 1.0
    bad = sum(o.error_kind in ("unknown_tool", "invalid_arguments") for o in turn.outcomes)
    return 1.0 - bad / len(turn.outcomes)


@episode_reward("state_match")
def state_match(episode: Episode) -> float:
    """1.0 if the final state equals the state after replaying the gold WRITE calls."""
    return float(episode.final_state_hash == episode.expected_state_hash)


@episode_reward("outputs")
def outputs(episode: Episode) -> float:
    """Fraction of the required outputs present in the final answer (1.0 if none are required)."""
    required = episode.task.required_outputs
    if not required:
        return 1.0
    answer = episode.final_answer or ""
    return sum(output_present(r, answer) for r in required) / len(required)


@episode_reward("completion")
def completion(episode: Episode) -> float:
    """Task completion: state matches AND every required output is in the final answer.

    A task without gold calls also requires that no tool was called. Under the GLM-4.5 rule
    (``halt_on_malformed``) an episode halted by a malformed call scores 0. A truncated
    episode scores 0: the agent never gave its final answer.
    """
    if episode.end_reason != "answered" or episode.final_answer is None:
        return 0.0
    if not episode.task.gold_calls and episode.num_calls:
        return 0.0
    return float(state_match(episode) == 1.0 and outputs(episode) == 1.0)


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
