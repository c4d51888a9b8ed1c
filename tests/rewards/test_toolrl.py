"""ToolRL against values computed by hand from the formula in toolgym/rewards/toolrl.py."""

import pytest

from toolgym.rewards.toolrl import best_matching_score, max_score, name_jaccard, toolrl_correctness
from toolgym.tooling import ToolCall


def call(tool_name, /, **arguments):
    return ToolCall(name=tool_name, arguments=arguments)


def test_exact_match_is_plus_three():
    gold = [call("book", flight="UA1", cabin="economy"), call("search", city="Paris")]
    assert toolrl_correctness(list(reversed(gold)), gold) == 3.0  # order of parallel calls is free


def test_wrong_tool_name():
    # names: {get_time} vs {get_weather} -> 0; different tools never pair -> R_max = 0; S_max = 3
    assert (
        toolrl_correctness([call("get_time", city="Paris")], [call("get_weather", city="Paris")])
        == -3.0
    )


def test_partial_parameters():
    gold = [call("book", flight="UA1", cabin="economy", name="Ann")]
    pred = [call("book", flight="UA1", cabin="business")]
    # r_name = 1; keys {flight, cabin} / {flight, cabin, name} = 2/3; values: flight -> 1
    # R_max = 1 + 2/3 + 1 = 8/3; S_max = 1 + 1 + 3 = 5; R = 6 * (8/3) / 5 - 3 = 0.2
    assert toolrl_correctness(pred, gold) == pytest.approx(0.2)


def test_extra_calls():
    gold = [call("a", x=1)]
    pred = [call("a", x=1), call("b", y=2)]
    # r_name = |{a}| / |{a, b}| = 1/2; pair a-a = 1 + 1 = 2; R_max = 2.5; S_max = 3; R = 6 * 2.5 / 3 - 3 = 2
    assert toolrl_correctness(pred, gold) == pytest.approx(2.0)


def test_missing_call():
    gold = [call("a", x=1), call("b", y=2)]
    pred = [call("a", x=1)]
    # r_name = 1/2; pair a-a = 2; R_max = 2.5; S_max = 1 + 2 + 2 = 5; R = 6 * 2.5 / 5 - 3 = 0
    assert toolrl_correctness(pred, gold) == pytest.approx(0.0)


def test_no_call_predicted():
    assert toolrl_correctness([], [call("a", x=1)]) == -3.0


def test_no_gold_call_is_not_scored():
    # as in the authors' implementation: a turn whose gold has no call gets R_correct = 0
    assert toolrl_correctness([call("a", x=1)], []) == 0.0
    assert toolrl_correctness([], []) == 0.0


def test_matching_is_optimal_not_greedy():
    gold = [call("f", a=1, b=9), call("f", a=1, b=2)]
    pred = [call("f", a=1, b=2), call("f", a=1, c=5)]
    # greedy (gold order) takes pred0 for gold0 (1 + 1 = 2), leaving gold1-pred1 (1/3 + 1): 10/3
    # optimal: gold0-pred1 (1/3 + 1) + gold1-pred0 (1 + 2) = 13/3
    assert best_matching_score(pred, gold) == pytest.approx(13 / 3)
    # R_max = 1 + 13/3 = 16/3; S_max = 1 + 2 + 4 = 7; R = 6 * (16/3) / 7 - 3 = 11/7
    assert toolrl_correctness(pred, gold) == pytest.approx(11 / 7)


def test_parts():
    assert name_jaccard([call("a"), call("a")], [call("a")]) == 0.5
    assert max_score([call("a", x=1, y=2), call("b")]) == 1 + 2 + 2
    assert toolrl_correctness([call("a")], [call("a")]) == 3.0  # no parameters on either side
