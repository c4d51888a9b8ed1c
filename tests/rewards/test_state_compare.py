"""Property tests of "the same state up to generated ids" (toolgym/state_compare.py).

Permuting independent writes always compares equal; every single-field change of a live record,
a missing or extra record, or a changed reference always compares different.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notes_suite import SUITE

import toolgym  # noqa: F401
from toolgym.content import load_suite
from toolgym.gold import GoldPlan
from toolgym.registry import registered_specs, split_tasks
from toolgym.state_compare import compare_states, record_ids
from toolgym.tooling import ToolCall

IDS = SUITE.generated_ids
words = st.text(alphabet="abcxyz \u00e9", min_size=1, max_size=6)


def run(calls):
    state = SUITE.make_state(0)
    for call in calls:
        outcome, state = SUITE.execute(state, call)
        assert outcome.ok, outcome.error
    return state.model_dump(mode="json")


def initial_ids():
    return record_ids(SUITE.make_state(0).model_dump(mode="json"), IDS)


def creates(notes):
    return [
        ToolCall(
            name="create_note", arguments={"title": t, "body": b, **({"parent": p} if p else {})}
        )
        for t, b, p in notes
    ]


notes_strategy = st.lists(
    st.tuples(words, words, st.sampled_from([None, "n-001", "n-002"])), min_size=1, max_size=5
)


@given(notes_strategy, st.randoms(use_true_random=False))
def test_independent_creates_in_any_order_are_the_same_state(notes, rnd):
    shuffled = list(notes)
    rnd.shuffle(shuffled)
    a, b = run(creates(notes)), run(creates(shuffled))
    comparison = compare_states(a, b, initial_ids(), IDS)
    assert comparison.same, comparison.differences
    # the id map pairs each record with the record of the same content
    for expected_id, actual_id in comparison.id_map.items():
        want = {k: v for k, v in b["notes"][expected_id].items() if k != "id"}
        got = {k: v for k, v in a["notes"][actual_id].items() if k != "id"}
        assert want == got


def _leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _leaves(value, (*path, i))
    else:
        yield path


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _mutations(data, counters):
    """Every single-leaf mutation of ``data`` outside the id counters."""
    for path in _leaves(data):
        if path and path[0] in counters:
            continue
        value = _get(data, path)
        for other in _others(value):
            changed = copy.deepcopy(data)
            _set(changed, path, other)
            yield path, changed


def _get(data, path):
    for key in path:
        data = data[key]
    return data


def _others(value):
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int | float):
        return [value + 1]
    if isinstance(value, str):
        return [value + "x"]
    if value is None:
        return ["n-001"]
    return []


@given(notes_strategy)
def test_every_single_field_change_of_a_live_record_is_a_different_state(notes):
    final = run(creates(notes))
    for path, changed in _mutations(final, IDS.counters):
        if path[-1] == "id" and path[1] not in initial_ids():
            continue  # the spelling of a generated id is a name, not meaning
        assert not compare_states(changed, final, initial_ids(), IDS).same, path


@given(notes_strategy)
def test_a_missing_or_extra_record_is_a_different_state(notes):
    final = run(creates(notes))
    fewer = run(creates(notes[:-1]))
    more = run(creates([*notes, ("extra", "x", None)]))
    assert not compare_states(fewer, final, initial_ids(), IDS).same
    assert not compare_states(more, final, initial_ids(), IDS).same


def test_a_reference_to_another_new_record_is_a_different_state():
    a = run(creates([("a", "1", None), ("b", "1", None)]) + creates([("c", "2", "n-003")]))
    b = run(creates([("a", "1", None), ("b", "1", None)]) + creates([("c", "2", "n-004")]))
    assert not compare_states(a, b, initial_ids(), IDS).same


def _bundled_tasks_with_writes():
    for env_id in ("toolgym/Calendar-v0", "toolgym/Travel-v0", "toolgym/Files-v0"):
        spec = registered_specs()[env_id]
        for task in split_tasks(spec, "train")[:12]:
            suite = load_suite(task.suite)
            if any(suite.tool(c.name).kind.value == "write" for c in task.flat_gold_calls):
                yield pytest.param(task, id=task.id)


@pytest.mark.parametrize("task", list(_bundled_tasks_with_writes()))
def test_bundled_final_states_refuse_every_single_field_change(task):
    """Each suite's generated-id declaration keeps every meaningful field compared."""
    suite = load_suite(task.suite)
    plan = GoldPlan.build(suite, task)
    initial = suite.initial_state(task).model_dump(mode="json")
    changed_paths = [
        p for p in _leaves(plan.expected) if _get_or(initial, p) != _get(plan.expected, p)
    ]
    checked = 0
    for path, mutated in _mutations(plan.expected, suite.generated_ids.counters):
        if path not in changed_paths and checked > 40:
            continue  # every field the task changed, and a sample of the rest
        if _removed_record(suite, mutated, path, plan.initial_ids) or _new_id(suite, path, plan):
            continue  # a removed record and a generated id's spelling are not meaning
        checked += 1
        comparison = compare_states(mutated, plan.expected, plan.initial_ids, suite.generated_ids)
        assert not comparison.same, (task.id, path)


def _get_or(data, path):
    try:
        return _get(data, path)
    except (KeyError, IndexError, TypeError):
        return object()


def _removed_record(suite, data, path, initial_ids):
    """Whether ``path`` lies in a record created and marked removed (it is never compared)."""
    for records in suite.generated_ids.records:
        if path and path[0] == records.path and len(path) > 1 and records.removed:
            record = data[records.path][path[1]]
            if str(record[records.id_field]) not in initial_ids:
                return True
    return False


def _new_id(suite, path, plan):
    """Whether ``path`` is the id field of a record created by the gold (a name, not meaning)."""
    for records in suite.generated_ids.records:
        if path and path[0] == records.path and path[-1] == records.id_field:
            record = plan.expected[records.path][path[1]]
            return str(record[records.id_field]) not in plan.initial_ids
    return False


def test_the_mutation_helper_finds_fields():
    final = run(creates([("a", "1", None)]))
    paths = {p for p, _ in _mutations(final, IDS.counters)}
    assert ("notes", "n-003", "body") in paths and ("next_id",) not in paths
    assert json.dumps(final)  # plain JSON
