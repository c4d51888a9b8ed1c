"""Step-wise match, format, completion and the Rubric on hand-built turns and episodes."""

import pytest

from toolgym.episode import Episode, Turn
from toolgym.formats import ParsedTurn
from toolgym.rewards import Rubric
from toolgym.rewards.components import (
    completion,
    outputs,
    same_calls,
    state_match,
    step_match,
    toolrl,
    valid_calls,
    well_formed,
)
from toolgym.suite import CallOutcome
from toolgym.tasks import Task
from toolgym.tooling import ToolCall

A = ToolCall(name="a", arguments={"x": 1})
B = ToolCall(name="b", arguments={"y": [1, 2]})


def turn(calls, expected, errors=(), outcomes=()):
    return Turn(
        0,
        "...",
        ParsedTurn("", None, tuple(calls), tuple(errors)),
        list(expected),
        list(calls),
        list(outcomes),
    )


def test_step_match_compares_multisets():
    assert step_match(turn([A, B], [B, A])) == 1.0
    assert step_match(turn([A, A], [A])) == 0.0
    assert (
        step_match(turn([A], [A], errors=["tool call 2: not valid JSON"])) == 0.0
    )  # format must be correct
    assert step_match(turn([], [])) == 1.0  # talking when the gold talks
    assert step_match(turn([A], [])) == 0.0
    assert same_calls(
        [ToolCall(name="a", arguments={"x": 1, "z": 2})],
        [ToolCall(name="a", arguments={"z": 2, "x": 1})],
    )


def test_format_toolrl_and_valid_calls():
    assert well_formed(turn([A], [A])) == 1.0 and well_formed(turn([], [], errors=["x"])) == 0.0
    assert toolrl(turn([A], [A])) == 4.0  # R_format 1 + R_correct 3
    assert toolrl(turn([], [A], errors=["x"])) == -3.0
    bad = CallOutcome(A, error="unknown tool", error_kind="unknown_tool")
    domain = CallOutcome(B, error="sold out", error_kind="tool_error")
    assert valid_calls(turn([A, B], [], outcomes=[bad, domain])) == 0.5


def episode(required=(), answer="", end="answered", state="h1", expected="h1", gold=True, calls=1):
    task = Task(
        id="t",
        suite="s",
        instruction="do it",
        required_outputs=list(required),
        gold_calls=[[A]] if gold else [],
    )
    turns = [turn([A] * calls, [])] if calls else []
    return Episode(
        task,
        turns=turns,
        final_answer=answer,
        final_state_hash=state,
        expected_state_hash=expected,
        end_reason=end,
    )


def test_completion():
    assert (
        completion(
            episode(required=["BK0001", ["2 pm", "14:00"]], answer="Booked bk0001 at 14:00.")
        )
        == 1.0
    )
    assert completion(episode(required=["BK0001"], answer="Booked.")) == 0.0
    assert outputs(episode(required=["BK0001", "$12"], answer="Booked BK0001.")) == 0.5
    assert completion(episode(state="h2")) == 0.0 and state_match(episode(state="h2")) == 0.0
    assert completion(episode(end="max_turns")) == 0.0
    assert completion(episode(end="malformed")) == 0.0
    assert completion(episode(gold=False, calls=1)) == 0.0  # no-call task: calling a tool fails it
    assert completion(episode(gold=False, calls=0)) == 1.0


def test_rubric_weights_and_logging():
    rubric = Rubric({"completion": 1.0, "format": 0.1})
    comps = rubric.score_turn(turn([A], [A]))
    assert set(comps) == {"format", "step_match", "toolrl", "valid_calls"}
    assert rubric.total(comps) == pytest.approx(0.1)
    ep = rubric.score_episode(episode())
    assert ep["completion"] == 1.0 and ep["num_turns"] == 1.0
    assert rubric.total(ep) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown reward component"):
        Rubric({"completeness": 1.0})
