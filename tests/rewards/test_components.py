"""Step-wise match, format, completion and the Rubric on hand-built turns and episodes."""

import pytest

from toolgym.answers import check_answer
from toolgym.episode import Episode, Turn, TurnGold
from toolgym.formats import ParsedTurn
from toolgym.rewards import Rubric
from toolgym.rewards.components import (
    completion,
    completion_check,
    length,
    outputs,
    state_match,
    step_match,
    toolrl,
    toolrl_coarse,
    valid_calls,
    well_formed,
)
from toolgym.state_compare import StateComparison
from toolgym.suite import CallOutcome, same_calls
from toolgym.tasks import Task
from toolgym.tooling import ToolCall

A = ToolCall(name="a", arguments={"x": 1})
B = ToolCall(name="b", arguments={"y": [1, 2]})


def turn(
    calls,
    roles=None,
    open_steps=(),
    errors=(),
    outcomes=(),
    talk="none",
    talk_correct=False,
    completes=True,
):
    roles = list(roles) if roles is not None else ["match"] * len(calls)
    gold = TurnGold(
        open_steps=[list(s) for s in open_steps],
        roles=roles,
        matched=[c if r == "match" else None for c, r in zip(calls, roles, strict=True)],
        completes_steps=completes,
        talk=talk,
        talk_correct=talk_correct,
    )
    return Turn(
        0,
        "...",
        ParsedTurn("", None, tuple(calls), tuple(errors)),
        gold,
        list(calls),
        list(outcomes),
    )


def test_step_match_pays_matched_calls_and_right_talk():
    assert step_match(turn([A, B], open_steps=[[B, A]])) == 1.0
    assert step_match(turn([A], open_steps=[[A, B]], completes=False)) == 0.0  # half a step
    assert step_match(turn([A], errors=["tool call 2: not valid JSON"], open_steps=[[A]])) == 0.0
    assert step_match(turn([A, B], ["match", "extra_read"], [[A]])) == 1.0  # a free READ beside
    assert step_match(turn([B], ["extra_read"], [[A]])) == 0.0  # free READs only: no match
    assert step_match(turn([A, B], ["match", "wrong"], [[A]])) == 0.0
    assert step_match(turn([], talk="answered", talk_correct=True)) == 1.0
    assert step_match(turn([], talk="answered", talk_correct=False)) == 0.0
    assert step_match(turn([], talk="asked", talk_correct=True)) == 1.0
    assert step_match(turn([], talk="replied")) == 0.0
    assert same_calls(
        [ToolCall(name="a", arguments={"x": 1, "z": 2})],
        [ToolCall(name="a", arguments={"z": 2, "x": 1})],
    )


def test_toolrl_against_the_open_gold_steps():
    assert toolrl(turn([A], open_steps=[[A]])) == 4.0  # R_format 1 + R_correct 3
    assert toolrl(turn([A], open_steps=[[A], [B]])) == 4.0  # the best-fitting open step
    assert toolrl(turn([A, B], open_steps=[[A], [B]])) == 4.0  # both open steps at once
    assert toolrl(turn([B], ["extra_read"], [[A]])) == 0.0  # a free READ: neither paid nor punished
    assert toolrl(turn([B], ["wrong"], [])) == -2.0  # a call where the gold talks: R_correct -3
    assert toolrl(turn([], errors=["x"], open_steps=[[A]])) == -3.0
    assert toolrl(turn([], talk="answered", talk_correct=True)) == 1.0
    assert toolrl(turn([], talk="answered", talk_correct=False, open_steps=[[A]])) == -2.0
    assert toolrl(turn([], talk="replied", open_steps=[[A]])) == 0.0  # a confirmation question
    wrong_id = ToolCall(name="a", arguments={"x": 2})
    # names 1 + keys 1 + values 0 of S_max 3 -> R_correct = 6 * 2 / 3 - 3 = 1
    assert toolrl(turn([wrong_id], ["wrong"], [[A]])) == pytest.approx(2.0)


def test_toolrl_coarse_pays_exact_matches_only():
    wrong_id = ToolCall(name="a", arguments={"x": 2})  # fine: R_correct 1 (name and key right)
    assert toolrl(turn([wrong_id], ["wrong"], [[A]])) == pytest.approx(2.0)
    assert toolrl_coarse(turn([wrong_id], ["wrong"], [[A]])) == -2.0  # 1 + (-3): no partial credit
    assert toolrl_coarse(turn([A], open_steps=[[A], [B]])) == 4.0  # exact: 1 + 3, as fine
    assert toolrl_coarse(turn([A, B], open_steps=[[A], [B]])) == 4.0
    half = ToolCall(name="b", arguments={"y": [1, 2]})  # right call, but only half the open step
    assert toolrl(turn([half], open_steps=[[A, B]])) < 4.0
    assert toolrl_coarse(turn([half], open_steps=[[A, B]])) == -2.0
    # the cases without calls are the fine reward's (there is nothing to grade partially)
    for case in [
        turn([B], ["extra_read"], [[A]]),
        turn([B], ["wrong"], []),
        turn([], errors=["x"], open_steps=[[A]]),
        turn([], talk="answered", talk_correct=True),
        turn([], talk="answered", talk_correct=False, open_steps=[[A]]),
        turn([], talk="replied", open_steps=[[A]]),
    ]:
        assert toolrl_coarse(case) == toolrl(case)


def test_length_bonus_counts_text_outside_the_calls():
    def written(content, reasoning=None):
        return Turn(0, "...", ParsedTurn(content, reasoning, (A,), ()))

    assert length(written("")) == 0.0  # a bare call writes nothing
    assert length(written("x" * 50)) == 0.25  # 50 of the 200-character target
    assert length(written("x" * 30, reasoning="y" * 70)) == 0.5  # reasoning counts too
    assert length(written("x" * 1000)) == 1.0  # capped


def test_valid_calls():
    bad = CallOutcome(A, error="unknown tool", error_kind="unknown_tool")
    domain = CallOutcome(B, error="sold out", error_kind="tool_error")
    assert well_formed(turn([A])) == 1.0 and well_formed(turn([], errors=["x"])) == 0.0
    assert valid_calls(turn([A, B], outcomes=[bad, domain])) == 0.5


def episode(
    required=(), answer="", end="answered", same=True, gold=True, calls=1, forbidden=(), guessed=()
):
    task = Task(
        id="t",
        suite="s",
        instruction="do it",
        required_outputs=list(required),
        forbidden=list(forbidden),
        gold_calls=[[A]] if gold else [],
    )
    turns = [turn([A] * calls)] if calls else []
    return Episode(
        task,
        turns=turns,
        final_answer=answer,
        end_reason=end,
        state=StateComparison(same),
        answer_check=check_answer(answer, task.required_outputs, task.forbidden),
        guessed_facts=list(guessed),
    )


def test_completion_and_its_reasons():
    assert (
        completion(
            episode(required=["BK0001", ["2 pm", "14:00"]], answer="Booked bk0001 at 14:00.")
        )
        == 1.0
    )
    assert completion(episode(required=["BK0001"], answer="Booked.")) == 0.0
    assert outputs(episode(required=["BK0001", "$12"], answer="Booked BK0001.")) == 0.5
    assert (
        outputs(
            episode(required=["BK0001"], forbidden=[{"claim": "success"}], answer="Booked BK0001.")
        )
        == 0.0
    )
    assert completion(episode(same=False)) == 0.0 and state_match(episode(same=False)) == 0.0
    assert completion(episode(end="max_turns")) == 0.0
    assert completion(episode(end="malformed")) == 0.0
    assert completion(episode(gold=False, calls=1)) == 0.0  # no-call task: calling a tool fails it
    assert completion(episode(gold=False, calls=0)) == 1.0
    assert completion_check(episode(same=False, guessed=[0], required=["x"])).reasons == (
        "state_differs",
        "answer_failed",
        "guessed_hidden_fact",
    )
    assert completion_check(episode(end="max_turns")).reasons == ("not_answered",)


def test_rubric_weights_and_logging():
    rubric = Rubric({"completion": 1.0, "format": 0.1})
    comps = rubric.score_turn(turn([A], open_steps=[[A]]))
    assert set(comps) == {
        "format",
        "step_match",
        "toolrl",
        "toolrl_coarse",
        "length",
        "valid_calls",
    }
    assert rubric.total(comps) == pytest.approx(0.1)
    ep = rubric.score_episode(episode())
    assert ep["completion"] == 1.0 and ep["num_turns"] == 1.0
    assert rubric.total(ep) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown reward component"):
        Rubric({"completeness": 1.0})
