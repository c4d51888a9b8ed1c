import json
import keyword

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from toolgym.formats import get_format
from toolgym.tooling import ToolCall

SPECS = {
    "search": {"properties": {"query": {"type": "string"}, "k": {"type": "integer"}}},
    "book": {
        "properties": {
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "tags": {"type": "array"},
        }
    },
}

names = st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
calls = st.builds(
    lambda n, a: ToolCall(name=n, arguments=a),
    names,
    st.dictionaries(names, json_values, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(calls, min_size=1, max_size=4), st.text(max_size=30).filter(lambda t: "<" not in t))
def test_hermes_round_trip(call_list, thought):
    fmt = get_format("hermes")
    text = f"<think>{thought}</think>\n" + fmt.render_calls(call_list)
    parsed = fmt.parse(text, {})
    assert parsed.errors == ()
    assert list(parsed.calls) == call_list
    assert parsed.reasoning == thought.strip()


@settings(max_examples=300, deadline=None)
@given(st.lists(calls, min_size=1, max_size=4))
def test_glm_round_trip_with_schema_types(call_list):
    """Non-string values survive as JSON; strings survive verbatim when the schema says string."""
    fmt = get_format("glm")
    # One schema per tool: give every call its own tool so argument types never conflict.
    call_list = [
        ToolCall(name=f"{c.name}{i}", arguments=c.arguments) for i, c in enumerate(call_list)
    ]
    specs = {
        c.name: {
            "properties": {
                k: {"type": "string"} for k, v in c.arguments.items() if isinstance(v, str)
            }
        }
        for c in call_list
    }
    parsed = fmt.parse(fmt.render_calls(call_list), specs)
    assert parsed.errors == ()
    for got, want in zip(parsed.calls, call_list, strict=True):
        assert got.name == want.name
        for key, value in want.arguments.items():
            if (
                isinstance(value, str)
                and specs[want.name]["properties"].get(key, {}).get("type") == "string"
            ):
                assert got.arguments[key] == value
            elif not isinstance(value, str):
                assert got.arguments[key] == json.loads(json.dumps(value))


@settings(max_examples=300, deadline=None)
@given(st.lists(calls, min_size=1, max_size=4), st.text(max_size=30).filter(lambda t: "<" not in t))
def test_pythonic_round_trip(call_list, thought):
    fmt = get_format("pythonic")
    names = [n for c in call_list for n in (c.name, *c.arguments)]
    assume(not any(keyword.iskeyword(n) for n in names))  # such names cannot be written
    text = f"<think>{thought}</think>\n" + fmt.render_calls(call_list)
    parsed = fmt.parse(text, {})
    assert parsed.errors == ()
    assert list(parsed.calls) == call_list
    assert parsed.reasoning == thought.strip() and parsed.content == ""


@pytest.mark.parametrize(
    ("text", "calls", "content", "error"),
    [
        ("[f(a=1)] Done.", [("f", {"a": 1})], "Done.", None),
        ("```python\n[f(a='x')]\n```", [("f", {"a": "x"})], "", None),
        ("[m.f(a=-1.5, b=(1, 2), c={'k': None})]", [("m.f", {"a": -1.5, "b": [1, 2], "c": {"k": None}})], "", None),
        ("Hello [f(a=1)]", [], "Hello [f(a=1)]", None),
        ("Checking.\n[f(a=1)]\n  [g(b='x')] Don't worry.", [("f", {"a": 1}), ("g", {"b": "x"})], "Checking.\nDon't worry.", None),
        ("[f(a=1)\n[g(b=2)]", [], "", "not valid Python"),
        ("[]", [], "[]", None),
        ("[f(1)]", [], "", "positional arguments are not allowed"),
        ("[f(a=x)]", [], "", "argument 'a': 'x' is not a literal value"),
        ("[f(a=1), g(**k)]", [("f", {"a": 1})], "", "'**' unpacking is not allowed"),
        ("[f(a=1)", [], "", "not valid Python"),
        ("[f(a=1) for f in g]", [], "", "expected a list of calls, got a ListComp"),
        ("[f(a={1: 2})]", [], "", "dict keys must be strings"),
        ("[f(a=b'x')]", [], "", "is not a literal value"),
        ("[f(a=1, a=2)]", [], "", "is given twice"),
        ("[f()(a=1)]", [], "", "the function must be a name"),
    ],
)  # fmt: skip
def test_pythonic_parse_cases(text, calls, content, error):
    parsed = get_format("pythonic").parse(text, {})
    assert [(c.name, c.arguments) for c in parsed.calls] == calls
    assert parsed.content == content
    if error is None:
        assert parsed.errors == ()
    else:
        assert len(parsed.errors) == 1 and error in parsed.errors[0], parsed.errors


def test_pythonic_runs_no_code(tmp_path):
    marker = tmp_path / "ran"
    text = f"[f(a=open({str(marker)!r}, 'w').write('x'), b=__import__('os').getpid())]"
    parsed = get_format("pythonic").parse(text, {})
    assert parsed.calls == () and parsed.errors and not marker.exists()


def test_pythonic_cannot_write_names_that_are_not_identifiers():
    with pytest.raises(ValueError, match="'get-weather' is not a Python identifier"):
        get_format("pythonic").render_calls([ToolCall(name="get-weather", arguments={})])


def test_pythonic_limits_refuse_big_lists():
    fmt = get_format("pythonic")
    many = "[" + ", ".join("f(a=1)" for _ in range(65)) + "]"
    assert fmt.parse(many, {}).refused
    deep = "[f(a=" + "[" * 40 + "]" * 40 + ")]"
    assert "nested too deeply" in fmt.parse(deep, {}).errors[0]


FRAGMENTS = list("<>/{}\":, abtoolcal_kyvuehink\n") + [
    "<tool_call>", "</tool_call>", "<think>", "</think>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
    "[", "]", "(", ")", "=", "'", "f(", "search(query='x')", "```",
    '{"name": "search", "arguments": {"query": "x"}}',
]  # fmt: skip
fragment_texts = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)


@settings(max_examples=1000, deadline=None)
@given(fragment_texts | st.text(max_size=200))
def test_parsers_never_raise(text):
    for name in ("hermes", "glm", "pythonic"):
        parsed = get_format(name).parse(text, SPECS)
        assert isinstance(parsed.content, str)
        plain = "<tool_call>" not in text and "</tool_call>" not in text and "<think>" not in text
        if plain and (name != "pythonic" or "(" not in text):
            assert parsed.errors == () and parsed.calls == ()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('<tool_call>{"name": "search", "arguments": {}}', "not closed"),
        ("<tool_call>not json</tool_call>", "not valid JSON"),
        ('<tool_call>["search"]</tool_call>', "expected a JSON object"),
        (
            '<tool_call>{"name": "", "arguments": {}}</tool_call>',
            "'name' must be a non-empty string",
        ),
        (
            '<tool_call>{"name": "search", "arguments": "q"}</tool_call>',
            "'arguments' must be a JSON object",
        ),
        ('<tool_call>{"name": "search", "args": {}}</tool_call>', "unexpected keys ['args']"),
        ("hello </tool_call>", "stray </tool_call>"),
        ("<think>unfinished", "unclosed <think>"),
        (
            '<tool_call>{"name": "search", "arguments": {"k": ' + "9" * 5000 + "}}</tool_call>",
            "not valid JSON",
        ),
        ("<tool_call>" + "[" * 100000 + "</tool_call>", "characters long; at most 16384"),
        ("<tool_call>" + "[" * 1000 + "</tool_call>", "nested deeper than 32 levels"),
    ],
)
def test_hermes_malformed(text, error):
    parsed = get_format("hermes").parse(text, SPECS)
    assert not parsed.well_formed
    assert any(error in e for e in parsed.errors), parsed.errors


def test_hermes_keeps_good_calls_next_to_bad_ones():
    text = '<tool_call>{"name": "search", "arguments": {"query": "x"}}</tool_call> and <tool_call>oops</tool_call> done'
    parsed = get_format("hermes").parse(text, SPECS)
    assert parsed.calls == (ToolCall(name="search", arguments={"query": "x"}),)
    assert len(parsed.errors) == 1 and parsed.content == "and  done"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "<tool_call>\n<arg_key>q</arg_key><arg_value>x</arg_value></tool_call>",
            "expected the function name",
        ),
        (
            "<tool_call>search<arg_key>query</arg_key></tool_call>",
            "must be followed by <arg_value>",
        ),
        (
            "<tool_call>search<arg_key>k</arg_key><arg_value>1</arg_value><arg_key>k</arg_key><arg_value>2</arg_value></tool_call>",
            "given twice",
        ),
        (
            "<tool_call>search junk<arg_key>k</arg_key><arg_value>1</arg_value></tool_call>",
            "expected the function name",
        ),
        (
            "<tool_call>search<arg_key>k</arg_key><arg_value>1</arg_value> trailing</tool_call>",
            "unexpected text",
        ),
    ],
)
def test_glm_malformed(text, error):
    parsed = get_format("glm").parse(text, SPECS)
    assert any(error in e for e in parsed.errors), parsed.errors


def test_glm_converts_by_schema():
    text = (
        "<think>plan</think><tool_call>search\n<arg_key>query</arg_key>\n<arg_value>42</arg_value>\n"
        "<arg_key>k</arg_key>\n<arg_value>3</arg_value>\n</tool_call>"
    )
    parsed = get_format("glm").parse(text, SPECS)
    assert parsed.calls == (ToolCall(name="search", arguments={"query": "42", "k": 3}),)
    assert parsed.reasoning == "plan"
    no_args = get_format("glm").parse("<tool_call>list_all</tool_call>", SPECS)
    assert no_args.calls == (ToolCall(name="list_all", arguments={}),)


def test_think_closing_only_is_reasoning():
    parsed = get_format("hermes").parse("I should search.</think>The answer is 4.", SPECS)
    assert parsed.reasoning == "I should search." and parsed.content == "The answer is 4."


def test_unknown_format_lists_choices():
    with pytest.raises(ValueError, match="choose one of"):
        get_format("xml")


def _depth(value):
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _keys(value):
    if isinstance(value, dict):
        return len(value) + sum(map(_keys, value.values()))
    if isinstance(value, list):
        return sum(map(_keys, value))
    return 0


json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}:"\\ab,', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=40,
)


@given(json_values)
def test_json_limits_count_depth_and_keys_like_the_decoder(value):
    from toolgym.formats.base import ParseLimits, json_limit_problem

    limits = ParseLimits(max_json_depth=3, max_json_keys=5)
    problem = json_limit_problem(json.dumps(value), limits)
    within = _depth(value) <= 3 and _keys(value) <= 5
    assert (problem is None) == within, (problem, _depth(value), _keys(value))


def test_limits_refuse_before_decoding():
    from toolgym.formats.base import ParseLimits

    hermes, glm = get_format("hermes"), get_format("glm")
    quoted = (
        '<tool_call>{"name": "search", "arguments": {"query": "[[[[' + "[" * 99 + '"}}</tool_call>'
    )
    assert hermes.parse(quoted, SPECS).calls[0].arguments["query"].startswith("[[[[")
    many_keys = json.dumps({"name": "search", "arguments": {f"k{i}": i for i in range(600)}})
    parsed = hermes.parse(f"<tool_call>{many_keys}</tool_call>", SPECS)
    assert not parsed.calls and "more than 512 object keys" in parsed.errors[0]
    flood = hermes.render_calls([ToolCall(name="search", arguments={"query": "x"})] * 9)
    for fmt in (hermes, glm):
        refused = fmt.parse(
            flood
            if fmt is hermes
            else glm.render_calls([ToolCall(name="search", arguments={"query": "x"})] * 9),
            SPECS,
            ParseLimits(max_calls=8),
        )
        assert refused.refused and not refused.calls
        assert refused.errors == ("9 tool calls in one message; at most 8 are allowed",)
    deep = (
        "<tool_call>search<arg_key>n</arg_key><arg_value>" + "[" * 40 + "</arg_value></tool_call>"
    )
    assert "nested deeper than 32 levels" in glm.parse(deep, SPECS).errors[0]
    pairs = "".join(f"<arg_key>k{i}</arg_key><arg_value>1</arg_value>" for i in range(9))
    wide = glm.parse(f"<tool_call>search{pairs}</tool_call>", SPECS, ParseLimits(max_json_keys=8))
    assert "more than 8 arguments" in wide.errors[0]
