"""BFCL's AST matching rules: does a list of tool calls agree with any of BFCL's possible answers?

A written-from-scratch reading of ``bfcl_eval/eval_checker/ast_eval/ast_checker.py`` (Python
language) and of the irrelevance rule in ``eval_runner.py``, for the categories simple, multiple,
parallel, parallel_multiple and irrelevance. The rules, in BFCL's terms:

- **Count**: the model must make exactly as many calls as the possible answer lists (one for
  simple and multiple; irrelevance lists none, so it passes iff no call is made).
- **Order**: expected calls are taken in order and each is matched with the first not yet used
  model call that satisfies it (BFCL's greedy ``parallel_function_checker_no_order``), so parallel
  calls may come in any order.
- **One call** (``simple_function_checker``): the name must be the expected one; every parameter
  the function doc requires must be given; every given parameter must exist in the doc *and* in
  the possible answer; every possible-answer parameter that is left out must list ``""`` among
  its values (``""`` marks an optional parameter).
- **One value**: see :func:`check_value` (types with BFCL's leniency, then the value against the
  list of possible values: strings standardised, lists element-wise, dicts key by key).

Values are compared with Python's ``==``, as BFCL's ``value in possible_values`` does (so
``2 == 2.0``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolgym.tooling import ToolCall

#: BFCL doc types -> the Python type a JSON argument must have (BFCL's PYTHON_TYPE_MAPPING).
PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}

#: Characters ``standardize`` removes: space and ``,./-_*^``.
_IGNORED = re.compile(r"[ ,./\-_*^]")


@dataclass(frozen=True)
class MatchResult:
    """The verdict on one answer: ``ok``, and when not, why (``reason``)."""

    ok: bool
    reason: str | None = None


def match_calls(
    calls: Sequence[ToolCall],
    possible: Sequence[Mapping[str, Mapping[str, Sequence[Any]]]],
    functions: Sequence[Mapping[str, Any]],
) -> MatchResult:
    """Whether ``calls`` match BFCL's possible answer (see the module docstring for the rules).

    Args:
        calls: The model's calls, in the order it made them.
        possible: BFCL's ``ground_truth``: one ``{name: {param: [possible values]}}`` per expected
            call; empty when no call should be made (irrelevance).
        functions: The entry's BFCL function docs (with BFCL's own types: ``"float"``,
            ``"dict"``, ...); each expected call's doc gives its types and required parameters.
    """
    if len(calls) != len(possible):
        if not possible:
            names = ", ".join(c.name for c in calls)
            return MatchResult(False, f"no function should be called, got {len(calls)} ({names})")
        return MatchResult(
            False, f"wrong number of calls: expected {len(possible)}, got {len(calls)}"
        )
    docs = {f["name"]: f for f in functions}
    unused = list(range(len(calls)))
    for number, answer in enumerate(possible, start=1):
        ((name, params),) = answer.items()
        if name not in docs:
            raise ValueError(f"the possible answer calls {name!r}, which has no function doc")
        failures = []
        for index in unused:
            reason = check_call(calls[index], name, params, docs[name])
            if reason is None:
                unused.remove(index)
                break
            failures.append((index, reason))
        else:
            if len(possible) == 1:
                return MatchResult(False, failures[0][1])
            tried = "; ".join(f"call {i + 1}: {reason}" for i, reason in failures)
            return MatchResult(False, f"no call matches expected call {number} ({name}): {tried}")
    return MatchResult(True)


def check_call(
    call: ToolCall,
    name: str,
    possible: Mapping[str, Sequence[Any]],
    doc: Mapping[str, Any],
) -> str | None:
    """Why ``call`` fails to be the expected call ``name`` with ``possible`` values, or None.

    BFCL's ``simple_function_checker``: right name; required parameters present; no parameter
    outside the doc or the possible answer; each value accepted by :func:`check_value`; possible
    parameters left out only if ``""`` (optional) is among their values.
    """
    if call.name != name:
        return f"wrong function: expected {name!r}, got {call.name!r}"
    parameters = doc.get("parameters", {})
    properties = parameters.get("properties", {})
    for param in parameters.get("required", []):
        if param not in call.arguments:
            return f"missing required parameter {param!r}"
    for param, value in call.arguments.items():
        if param not in properties or param not in possible:
            return f"unexpected parameter {param!r}"
        reason = check_value(param, value, properties[param], possible[param])
        if reason is not None:
            return reason
    for param, values in possible.items():
        if param not in call.arguments and "" not in values:
            return f"missing parameter {param!r} (not optional in the possible answer)"
    return None


def check_value(
    name: str, value: Any, schema: Mapping[str, Any], options: Sequence[Any]
) -> str | None:
    """Why ``value`` is not an acceptable value of parameter ``name``, or None.

    BFCL's rules, in order:

    1. An int given for a ``float`` parameter counts as that float (Python's int-to-float).
    2. Type: the value's type must be the doc type's Python type (``bool`` is not ``int``), or the
       type of the first non-``""`` possible value: BFCL writes a *variable* (e.g. ``"data"`` for
       an array parameter) as a value of another type, and such values are then compared exactly.
    3. Arrays also check their items' types (one level deep, no int-to-float there), against each
       possible list in turn; a ``""`` among the possible values skips this check.
    4. Value, unless it is a variable: strings by :func:`standardize`; ``dict`` key by key
       (:func:`check_dict`); arrays of dicts dict by dict (:func:`check_dict_list`); other arrays
       element-wise with strings standardised (:func:`check_list`); anything else with ``==``.
    """
    kind = schema.get("type")
    if kind not in PYTHON_TYPES:
        raise ValueError(f"parameter {name!r}: unsupported BFCL type {kind!r}")
    expected = PYTHON_TYPES[kind]
    items = schema.get("items", {}).get("type") if kind in ("array", "tuple") else None
    if kind == "float" and type(value) is int:
        value = float(value)
    answer_type = _answer_type(options)
    variable = answer_type is not None and answer_type is not expected
    if _has_type(value, expected):
        if items is not None and not _items_typed(value, PYTHON_TYPES.get(items), options):
            return (
                f"wrong item type in parameter {name!r}: expected {kind} of {items}, got {value!r}"
            )
    elif answer_type is not None and _has_type(value, answer_type):
        variable = True
    else:
        return f"wrong type for parameter {name!r}: expected {kind}, got {type(value).__name__} {value!r}"
    if not variable:
        if expected is str:
            ok = standardize(value) in [standardize(o) for o in options if isinstance(o, str)]
            return None if ok else _bad_value(name, value, options, " (compared standardised)")
        if expected is dict:
            reason = check_dict(value, options)
            return None if reason is None else f"parameter {name!r}: {reason}"
        if expected is list and items == "dict":
            reason = check_dict_list(value, options)
            return None if reason is None else f"parameter {name!r}: {reason}"
        if expected is list:
            return None if check_list(value, options) else _bad_value(name, value, options, "")
    return None if any(value == o for o in options) else _bad_value(name, value, options, "")


def standardize(text: str) -> str:
    """BFCL's ``standardize_string``: drop spaces and ``,./-_*^``, lower-case, ``'`` -> ``"``.

    So "April 1, 2024" equals "april 1 2024" and "San Francisco" equals "san_francisco".
    """
    return _IGNORED.sub("", text).lower().replace("'", '"')


def check_list(value: list[Any], options: Sequence[Any]) -> bool:
    """BFCL's ``list_checker``: the list equals one possible list, in order, strings standardised.

    As in BFCL, a ``""`` among the possible values stands for the empty list.
    """
    given = [_std(v) for v in value]
    return any(given == [_std(v) for v in option] for option in _as_lists(options))


def check_dict(value: Any, options: Sequence[Any]) -> str | None:
    """BFCL's ``dict_checker``: why ``value`` matches none of the possible dicts, or None.

    A possible dict maps each key to its list of possible values: every given key must be one of
    them with a value in its list (strings standardised), and a key left out must list ``""``.
    """
    if not isinstance(value, dict):
        return f"expected a dict, got {type(value).__name__}"
    reason: str | None = "no possible dict to compare with"
    for option in options:
        if not isinstance(option, dict):  # "" (the parameter is optional)
            continue
        reason = _dict_mismatch(value, option)
        if reason is None:
            return None
    return reason


def check_dict_list(value: list[Any], options: Sequence[Any]) -> str | None:
    """BFCL's ``list_dict_checker``: one possible list of dicts matches, dict by dict, in order.

    As in BFCL, a ``""`` among the possible values stands for the empty list.
    """
    reason: str | None = "no possible list of dicts to compare with"
    for option in _as_lists(options):
        if len(value) != len(option):
            reason = f"wrong number of dicts: expected {len(option)}, got {len(value)}"
            continue
        failures = [check_dict(v, [o]) for v, o in zip(value, option, strict=True)]
        reason = next((f for f in failures if f is not None), None)
        if reason is None:
            return None
    return reason


def _dict_mismatch(value: dict[str, Any], option: Mapping[str, Sequence[Any]]) -> str | None:
    for key, item in value.items():
        if key not in option:
            return f"unexpected dict key {key!r}"
        if _std(item) not in [_std(o) for o in option[key]]:
            return f"dict key {key!r}: {item!r} is not one of {list(option[key])!r}"
    for key, values in option.items():
        if key not in value and "" not in values:
            return f"missing dict key {key!r}"
    return None


def _has_type(value: Any, kind: type) -> bool:
    """Exact type test, as BFCL's ``type(value) == kind`` (so a bool is not an int)."""
    return type(value) is kind


def _answer_type(options: Sequence[Any]) -> type | None:
    """The type of the first possible value that is not ``""`` (None if all are ``""``)."""
    return next((type(o) for o in options if o != ""), None)


def _items_typed(value: list[Any], item_type: type | None, options: Sequence[Any]) -> bool:
    """BFCL's one-level nested type check of an array's items.

    Passes if some possible value is not a list (``""``), or if every item has ``item_type`` or
    the type of that possible list's first element.
    """
    for option in options:
        if not isinstance(option, list):
            return True
        element_type = _answer_type(option)
        if all(type(v) is item_type or type(v) is element_type for v in value):
            return True
    return False


def _as_lists(options: Sequence[Any]) -> list[list[Any]]:
    """The possible lists; BFCL reads ``""`` as an empty list (it iterates over its characters)."""
    return [o if isinstance(o, list) else [] for o in options if isinstance(o, list) or o == ""]


def _std(value: Any) -> Any:
    return standardize(value) if isinstance(value, str) else value


def _bad_value(name: str, value: Any, options: Sequence[Any], note: str) -> str:
    return f"wrong value for parameter {name!r}: {value!r} is not one of {list(options)!r}{note}"
