"""Loading BFCL v4 from the bfcl-eval package: counts, tool specs, gold calls, dotted names."""

import importlib.util

import pytest

from toolgym.bfcl import CATEGORY_FILES, data_dir, load_category, match_calls, tool_spec
from toolgym.formats import get_format

needs_data = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None,
    reason="pip install --no-deps bfcl-eval==2026.3.23",
)

COUNTS = {"simple": 400, "multiple": 200, "parallel": 200, "parallel_multiple": 200, "irrelevance": 240}  # fmt: skip


@needs_data
@pytest.mark.parametrize("category", list(CATEGORY_FILES))
def test_every_entry_of_a_category_loads(category):
    entries = load_category(category)
    print(f"BFCL {category}: {len(entries)} entries")
    assert len(entries) == COUNTS[category]
    assert len({e.task.id for e in entries}) == len(entries)
    for entry in entries:
        task = entry.task
        assert task.suite == "bfcl" and task.instruction and task.id.startswith(CATEGORY_FILES[category])  # fmt: skip
        assert [s["function"]["name"] for s in entry.specs] == [f["name"] for f in entry.functions]
        if category == "irrelevance":
            assert entry.possible == [] and task.gold_calls == [] and task.categories == ["no_call"]
        else:
            assert len(task.gold_calls) == 1 and len(task.gold_calls[0]) == len(entry.possible)
            # the gold calls are a correct answer
            assert match_calls(task.gold_calls[0], entry.possible, entry.functions).ok, task.id
    if category in ("simple", "multiple"):
        assert all(len(e.possible) == 1 for e in entries)


@needs_data
def test_gold_calls_take_the_first_value_and_leave_optional_parameters_out():
    entry = load_category("simple")[0]  # calculate_triangle_area: unit is ["units", ""]
    assert entry.possible == [{"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["units", ""]}}]  # fmt: skip
    (call,) = entry.task.gold_calls[0]
    assert call.name == "calculate_triangle_area" and call.arguments == {"base": 10, "height": 5}


def test_function_docs_become_openai_tool_specs():
    doc = {
        "name": "math.stats",
        "description": "Stats.",
        "parameters": {
            "type": "dict",
            "properties": {
                "xs": {"type": "array", "items": {"type": "float"}, "description": "Data."},
                "ratio": {"type": "float", "description": "Ratio."},
                "pair": {"type": "tuple", "items": {"type": "integer"}},
                "options": {"type": "dict", "properties": {"k": {"type": "integer"}}},
                "anything": {"type": "any"},
                "untyped": {"description": "No type."},
                "flag": {"type": "boolean", "default": False},
            },
            "required": ["xs"],
        },
    }
    spec = tool_spec(doc)
    assert spec["type"] == "function"
    function = spec["function"]
    assert function["name"] == "math.stats"
    assert (
        function["description"] == "Stats. Note that the provided function is in Python 3 syntax."
    )
    params = function["parameters"]
    assert params["type"] == "object" and params["required"] == ["xs"]
    props = params["properties"]
    assert props["xs"]["type"] == "array" and props["xs"]["items"]["type"] == "number"
    assert props["ratio"] == {"type": "number", "format": "float", "description": "Ratio. This is a float type value."}  # fmt: skip
    assert props["pair"]["type"] == "array" and props["pair"]["items"]["type"] == "integer"
    assert props["options"]["type"] == "object"
    assert props["options"]["properties"]["k"]["type"] == "integer"
    assert props["anything"]["type"] == "string" and props["untyped"]["type"] == "string"
    assert props["flag"] == {"type": "boolean", "default": False}
    assert doc["parameters"]["type"] == "dict"  # the BFCL doc itself is left as it was


@needs_data
@pytest.mark.parametrize("tool_format", ["hermes", "glm"])
def test_dotted_names_round_trip_through_the_formats(tool_format):
    fmt = get_format(tool_format)
    dotted = 0
    for category in ("simple", "multiple", "parallel", "parallel_multiple"):
        for entry in load_category(category):
            params = {s["function"]["name"]: s["function"]["parameters"] for s in entry.specs}
            (step,) = entry.task.gold_calls
            parsed = fmt.parse(fmt.render_calls(step), params)
            assert parsed.well_formed and list(parsed.calls) == step, entry.task.id
            assert all(f'"name": "{name}"' in fmt.render_tools(entry.specs) for name in params)
            dotted += any("." in call.name for call in step)
    assert dotted > 300  # e.g. math.factorial, spotify.play


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps bfcl-eval==2026\.3\.23"):
        data_dir()
    with pytest.raises(ModuleNotFoundError, match="bfcl-eval"):
        load_category("simple")


def test_unknown_category():
    with pytest.raises(ValueError, match="unknown BFCL category 'live_simple'"):
        load_category("live_simple")
