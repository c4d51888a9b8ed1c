"""BFCL's AST matching rules, one hand-written case per rule (no BFCL data needed)."""

import pytest

from toolgym.bfcl.matcher import match_calls, standardize
from toolgym.tooling import ToolCall


def fn(name, properties, required=()):
    return {
        "name": name,
        "description": "",
        "parameters": {"type": "dict", "properties": properties, "required": list(required)},
    }


AREA = fn(
    "geometry.area",
    {
        "base": {"type": "integer"},
        "height": {"type": "float"},
        "unit": {"type": "string"},
        "exact": {"type": "boolean"},
    },
    required=["base", "height"],
)
AREA_ANSWER = [
    {"geometry.area": {"base": [10], "height": [5.0], "unit": ["units", "cm", ""], "exact": [""]}}
]


def check(arguments, possible=AREA_ANSWER, functions=(AREA,), name="geometry.area"):
    return match_calls([ToolCall(name=name, arguments=arguments)], possible, list(functions))


def test_exact_answer_passes():
    result = check({"base": 10, "height": 5.0, "unit": "units"})
    assert result.ok and result.reason is None


def test_any_value_of_the_list_is_accepted():
    assert check({"base": 10, "height": 5.0, "unit": "cm"}).ok
    result = check({"base": 10, "height": 5.0, "unit": "inches"})
    assert not result.ok and "unit" in result.reason


def test_empty_string_marks_an_optional_parameter():
    assert check({"base": 10, "height": 5.0}).ok  # unit and exact left out
    optional_only = check({"base": 10, "height": 5.0, "exact": True})
    assert not optional_only.ok  # [""] alone: giving the parameter is wrong
    not_optional = [{"geometry.area": {"base": [10], "height": [5.0], "unit": ["units"]}}]
    result = check({"base": 10, "height": 5.0}, possible=not_optional)
    assert not result.ok and "missing parameter 'unit'" in result.reason


def test_missing_required_parameter():
    result = check({"base": 10})
    assert not result.ok and result.reason == "missing required parameter 'height'"


def test_unexpected_parameters():
    not_in_doc = check({"base": 10, "height": 5.0, "colour": "red"})
    assert not not_in_doc.ok and "unexpected parameter 'colour'" in not_in_doc.reason
    answer = [{"geometry.area": {"base": [10], "height": [5.0]}}]  # doc has unit, answer not
    not_in_answer = check({"base": 10, "height": 5.0, "unit": "units"}, possible=answer)
    assert not not_in_answer.ok and "unexpected parameter 'unit'" in not_in_answer.reason


def test_int_is_accepted_for_a_float_but_not_the_reverse():
    assert check({"base": 10, "height": 5}).ok
    result = check({"base": 10.0, "height": 5.0})
    assert not result.ok and "wrong type for parameter 'base'" in result.reason


def test_bool_is_not_an_int_and_strings_are_not_numbers():
    assert not check({"base": True, "height": 5.0}).ok
    assert not check({"base": "10", "height": 5.0}).ok


def test_strings_are_compared_after_standardisation():
    assert standardize("San Francisco, CA") == "sanfranciscoca"
    assert standardize("It's") == 'it"s'
    city = fn("weather", {"city": {"type": "string"}}, required=["city"])
    answer = [{"weather": {"city": ["San Francisco, CA"]}}]
    for given in ["san francisco ca", "San_Francisco-CA.", "SAN FRANCISCO,CA"]:
        assert check({"city": given}, answer, [city], "weather").ok, given
    assert not check({"city": "Los Angeles"}, answer, [city], "weather").ok


def test_a_variable_of_another_type_is_compared_exactly():
    stats = fn("stats.mean", {"data": {"type": "array", "items": {"type": "float"}}}, ["data"])
    answer = [{"stats.mean": {"data": ["my_data"]}}]  # BFCL writes a variable as a string
    assert check({"data": "my_data"}, answer, [stats], "stats.mean").ok
    assert not check({"data": "My Data"}, answer, [stats], "stats.mean").ok  # no standardising


def test_lists_are_compared_element_wise_in_order():
    sort = fn("sort", {"items": {"type": "array", "items": {"type": "string"}}}, ["items"])
    answer = [{"sort": {"items": [["New York", "Paris"], ["NYC", "Paris"]]}}]
    assert check({"items": ["new york", "PARIS"]}, answer, [sort], "sort").ok
    assert check({"items": ["NYC", "Paris"]}, answer, [sort], "sort").ok
    assert not check({"items": ["Paris", "New York"]}, answer, [sort], "sort").ok
    assert not check({"items": ["New York"]}, answer, [sort], "sort").ok


def test_list_items_are_type_checked_without_int_to_float():
    mean = fn("mean", {"xs": {"type": "array", "items": {"type": "float"}}}, ["xs"])
    answer = [{"mean": {"xs": [[1.5, 2.0]]}}]
    assert check({"xs": [1.5, 2.0]}, answer, [mean], "mean").ok
    result = check({"xs": [1.5, 2]}, answer, [mean], "mean")
    assert not result.ok and "item type" in result.reason  # BFCL: int only counts at top level


def test_optional_list_accepts_the_empty_list():
    tags = fn("tag", {"tags": {"type": "array", "items": {"type": "string"}}})
    answer = [{"tag": {"tags": ["", ["a"]]}}]
    assert check({}, answer, [tags], "tag").ok
    assert check({"tags": []}, answer, [tags], "tag").ok  # BFCL reads "" as an empty list
    assert check({"tags": ["A"]}, answer, [tags], "tag").ok


def test_dicts_are_compared_key_by_key():
    search = fn("search", {"filters": {"type": "dict", "properties": {}}}, ["filters"])
    answer = [{"search": {"filters": [{"school": ["Bluebird HS", "Bluebird High School"], "year": [2020, ""]}]}}]  # fmt: skip
    assert check(
        {"filters": {"school": "bluebird hs", "year": 2020}}, answer, [search], "search"
    ).ok
    assert check({"filters": {"school": "Bluebird High School"}}, answer, [search], "search").ok
    wrong = check({"filters": {"school": "Other", "year": 2020}}, answer, [search], "search")
    assert not wrong.ok and "dict key 'school'" in wrong.reason
    extra = check({"filters": {"school": "Bluebird HS", "city": "X"}}, answer, [search], "search")
    assert not extra.ok and "unexpected dict key 'city'" in extra.reason
    missing = check({"filters": {"year": 2020}}, answer, [search], "search")
    assert not missing.ok and "missing dict key 'school'" in missing.reason


def test_lists_of_dicts_are_compared_dict_by_dict():
    query = fn("db.query", {"conditions": {"type": "array", "items": {"type": "dict"}}}, ["conditions"])  # fmt: skip
    answer = [{"db.query": {"conditions": [[{"field": ["age"], "value": ["25"]}, {"field": ["job"], "value": ["engineer"]}]]}}]  # fmt: skip
    good = [{"field": "age", "value": "25"}, {"field": "Job", "value": "engineer"}]
    assert check({"conditions": good}, answer, [query], "db.query").ok
    assert not check({"conditions": good[::-1]}, answer, [query], "db.query").ok
    result = check({"conditions": good[:1]}, answer, [query], "db.query")
    assert not result.ok and "wrong number of dicts" in result.reason


def test_wrong_function_name():
    result = check({"base": 10, "height": 5.0}, name="geometry_area")
    assert not result.ok
    assert result.reason == "wrong function: expected 'geometry.area', got 'geometry_area'"


PLUS = fn("plus", {"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a", "b"])
TIMES = fn("times", {"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a", "b"])
PARALLEL = [{"plus": {"a": [1], "b": [2]}}, {"times": {"a": [3], "b": [4]}}, {"plus": {"a": [5], "b": [6]}}]  # fmt: skip


def calls(*triples):
    return [ToolCall(name=n, arguments={"a": a, "b": b}) for n, a, b in triples]


def test_parallel_calls_match_in_any_order():
    for order in [
        calls(("plus", 1, 2), ("times", 3, 4), ("plus", 5, 6)),
        calls(("plus", 5, 6), ("plus", 1, 2), ("times", 3, 4)),
        calls(("times", 3, 4), ("plus", 5, 6), ("plus", 1, 2)),
    ]:
        assert match_calls(order, PARALLEL, [PLUS, TIMES]).ok


def test_parallel_count_mismatch_and_duplicates_fail():
    short = match_calls(calls(("plus", 1, 2), ("times", 3, 4)), PARALLEL, [PLUS, TIMES])
    assert not short.ok and short.reason == "wrong number of calls: expected 3, got 2"
    twice = calls(("plus", 1, 2), ("times", 3, 4), ("plus", 1, 2))
    result = match_calls(twice, PARALLEL, [PLUS, TIMES])
    assert not result.ok and "no call matches expected call 3 (plus)" in result.reason


def test_multiple_picks_the_right_function_among_several():
    answer = [{"times": {"a": [3], "b": [4]}}]
    assert match_calls(calls(("times", 3, 4)), answer, [PLUS, TIMES]).ok
    assert not match_calls(calls(("plus", 3, 4)), answer, [PLUS, TIMES]).ok


def test_irrelevance_passes_iff_no_call_is_made():
    assert match_calls([], [], [PLUS]).ok
    result = match_calls(calls(("plus", 1, 2)), [], [PLUS])
    assert not result.ok and result.reason == "no function should be called, got 1 (plus)"


def test_a_possible_answer_naming_an_unknown_function_is_a_data_error():
    with pytest.raises(ValueError, match="no function doc"):
        match_calls(calls(("minus", 1, 2)), [{"minus": {"a": [1], "b": [2]}}], [PLUS])
