"""Hostile assistant messages for ``bench/fuzz.py``: one :func:`make_action` call per step.

Every action is an :class:`Action`: its ``kind`` (the family, e.g. ``mutated`` or ``huge``), its
``detail`` (which variant, e.g. ``drop_arg`` or ``deep_nest_1e5``) and its ``text``. Calls are
built from the task's gold calls (or from the tool schemas where a task has none), changed, and
rendered with the env's own ``tool_format.render_calls``; raw-text cases (JSON escapes such as
``\\udfff``, ``1e400``, ``NaN``, 5000-digit numbers, deep nesting) are written into the rendered
text in place of a marker value, so they reach the parser exactly as written.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolgym.spaces import random_text
from toolgym.tooling import ToolCall

MARKER = "FUZZ_MARKER_2f9c"
OPEN, CLOSE = "<tool_call>", "</tool_call>"  # both formats (hermes and glm) use these tags

# fmt: off
HOSTILE_STRINGS: dict[str, str] = {
    "lone_low_surrogate": "\udfff", "lone_high_surrogate": "\ud800", "reversed_pair": "\udfff\ud800",
    "nul": "\x00", "controls": "\x01\x07\x08\x0b\x0c\x1b[31m\x7f\x85",
    "rtl_override": "\u202eevil\u202c", "bidi_isolate": "\u2066x\u2069\u2067y\u2069",
    "zero_width": "\u200b\u200c\u200d\u2060\ufeff", "noncharacters": "\ufffe\uffff\U0010ffff",
    "combining": "e" + "\u0301" * 64, "emoji": "🙂👩‍👩‍👧" * 4, "empty": "",
    "whitespace": " \t\r\n\u00a0\u2028\u2029", "path_escape": "../../../etc/passwd",
    "tag_close": "</tool_call></arg_value></arg_key>", "tag_open": "<tool_call><arg_key><think>",
    "json_breakout": '"}, "x": {"', "backslashes": "\\\\\\u0000\\",
    "format_string": "%s%n{0}{{}}$(id)`id`", "long_5000": "x" * 5000,
}
HOSTILE_NUMBERS: dict[str, Any] = {
    "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "-0.0": -0.0, "1e308": 1e308,
    "5e-324": 5e-324, "2**63": 2**63, "-2**63-1": -(2**63) - 1, "10**300": 10**300, "true": True,
    "null": None, "list": [1, "a", None], "dict": {"a": {"b": []}},
    "nested_50": json.loads("[" * 50 + "]" * 50),
}
RAW_VALUES: dict[str, str] = {  # JSON text, written verbatim where a value goes
    "esc_lone_low": '"Ann\\udfff"', "esc_lone_high": '"\\ud800"', "esc_reversed_pair": '"\\udfff\\ud800x"',
    "esc_nul": '"a\\u0000b"', "esc_rtl": '"\\u202eabc\\u2066"', "esc_zero_width": '"\\u200b\\ufeff"',
    "esc_invalid": '"\\x41\\q"', "esc_short": '"\\u12"', "unterminated": '"unterminated',
    "1e400": "1e400", "-1e400": "-1e400", "NaN": "NaN", "Infinity": "Infinity",
    "-Infinity": "-Infinity", "-0": "-0", "-0.0": "-0.0", "digits_5000": "1" + "0" * 5000,
    "nest_500": "[" * 500 + "]" * 500, "obj_nest_200": '{"a":' * 200 + "1" + "}" * 200,
    "duplicate_keys": '{"a": 1, "a": 2}',
}
SHAPES: dict[str, dict[str, str]] = {  # whole call bodies of the wrong shape, per format
    "hermes": {
        "name_int": '{"name": 1, "arguments": {}}', "args_list": '{"name": "NAME", "arguments": [1, 2]}',
        "args_null": '{"name": "NAME", "arguments": null}', "extra_key": '{"name": "NAME", "arguments": {}, "id": 1}',
        "array": '[{"name": "NAME", "arguments": {}}]', "string": '"NAME"',
        "name_nul": '{"name": "NAME\\u0000", "arguments": {}}', "name_surrogate": '{"name": "NAME\\udfff", "arguments": {}}',
        "dup_arguments": '{"name": "NAME", "arguments": {}, "arguments": {"a": 1}}', "empty": "",
    },
    "glm": {
        "name_space": "NAME x<arg_key>a</arg_key><arg_value>1</arg_value>",
        "dup_key": "NAME<arg_key>a</arg_key><arg_value>1</arg_value><arg_key>a</arg_key><arg_value>2</arg_value>",
        "junk_between": "NAME<arg_key>a</arg_key>junk<arg_value>1</arg_value>", "key_only": "NAME<arg_key>a</arg_key>",
        "no_name": "<arg_key>a</arg_key><arg_value>1</arg_value>", "value_unclosed": "NAME<arg_key>a</arg_key><arg_value>1",
        "name_nul": "NAME\x00<arg_key>a</arg_key><arg_value>1</arg_value>",
        "trailing": "NAME<arg_key>a</arg_key><arg_value>1</arg_value>tail", "empty": "",
    },
}
# fmt: on
ANSWERS = ("Done.", "All set!", "", "   ", "I could not do that.", "Which one do you mean?")


@dataclass(frozen=True)
class Action:
    """One generated assistant message."""

    kind: str
    detail: str
    text: str


@dataclass
class EnvContext:
    """What the generator knows about one env: the env and values from every task's gold calls."""

    env: Any  # the unwrapped env
    values: dict[str, list[Any]] = field(default_factory=dict)  # argument name -> gold values
    calls: list[ToolCall] = field(default_factory=list)  # every task's gold calls

    @classmethod
    def build(cls, env: Any) -> EnvContext:
        """Collect the gold calls and argument values of all of ``env``'s tasks."""
        ctx = cls(env)
        for task in env.tasks:
            for call in task.flat_gold_calls:
                ctx.calls.append(call)
                for key, value in call.arguments.items():
                    ctx.values.setdefault(key, []).append(value)
        return ctx

    def render(self, calls: Sequence[ToolCall]) -> str:
        """The env's own rendering of ``calls``."""
        return str(self.env.tool_format.render_calls(calls))

    @property
    def format_name(self) -> str:
        """``hermes`` or ``glm``."""
        return str(self.env.tool_format.name)


def pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    """A uniformly random element of a non-empty sequence."""
    return items[int(rng.integers(len(items)))]


def call_of(name: str, arguments: dict[str, Any]) -> ToolCall:
    """A ToolCall without validation (huge argument dicts, odd keys)."""
    return ToolCall.model_construct(name=name, arguments=arguments)


def spec_call(ctx: EnvContext, rng: np.random.Generator) -> ToolCall:
    """A call of a random tool with a plausible value for each of its parameters."""
    specs = [s["function"] for s in ctx.env.tool_specs] or [{"name": "lookup", "parameters": {}}]
    spec = pick(rng, specs)
    by_type = {
        "string": "x",
        "integer": 1,
        "number": 1.5,
        "boolean": True,
        "array": [],
        "object": {},
    }
    arguments = {}
    for key, schema in spec.get("parameters", {}).get("properties", {}).items():
        arguments[key] = (
            schema["enum"][0] if schema.get("enum") else by_type.get(schema.get("type"), "x")
        )
    return call_of(spec["name"], arguments)


def base_call(ctx: EnvContext, rng: np.random.Generator) -> ToolCall:
    """A gold call of the current task, else of another task, else one built from a schema."""
    task = getattr(ctx.env, "task", None)
    own = list(task.flat_gold_calls) if task is not None else []
    roll = rng.random()
    if own and roll < 0.75:
        return pick(rng, own)
    if ctx.calls and roll < 0.92:
        return pick(rng, ctx.calls)
    return spec_call(ctx, rng)


def some_key(call: ToolCall, rng: np.random.Generator) -> str:
    """One of the call's argument names, or a new one."""
    keys = list(call.arguments)
    return pick(rng, keys) if keys and rng.random() < 0.85 else "extra_arg"


def with_value(call: ToolCall, key: str, value: Any) -> ToolCall:
    """``call`` with ``arguments[key] = value``."""
    return call_of(call.name, {**call.arguments, key: value})


def mutate(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, ToolCall]:
    """A gold call changed in one way: its name, an argument dropped, added, retyped or swapped."""
    call = base_call(ctx, rng)
    args, name = dict(call.arguments), call.name
    key = some_key(call, rng)
    names = [s["function"]["name"] for s in ctx.env.tool_specs] or [name]
    detail = pick(
        rng,
        [
            "rename_typo",
            "rename_case",
            "rename_other",
            "rename_unknown",
            "drop_arg",
            "drop_all",
            "add_arg",
            "retype_arg",
            "swap_value",
            "swap_any",
        ],
    )
    if detail == "rename_typo" and name:
        i = int(rng.integers(len(name)))
        name = name[:i] + name[i + 1 :] if rng.random() < 0.5 else name[:i] + "_" + name[i:]
    elif detail == "rename_case":
        name = name.upper()
    elif detail == "rename_other":
        name = pick(rng, names)
    elif detail == "rename_unknown":
        name = pick(rng, ["no_such_tool", "x", "functions.lookup", name + "_v2"])
    elif detail == "drop_arg":
        args.pop(key, None)
    elif detail == "drop_all":
        args = {}
    elif detail == "add_arg":
        args[pick(rng, ["unknown_arg", "id", "__proto__", "arguments", "name"])] = "x"
    elif detail == "retype_arg":
        old = args.get(key, "x")
        args[key] = pick(rng, [str(old), [old], {"value": old}, None, True, 0, -1, 3.5, ""])
    elif detail == "swap_value" and ctx.values.get(key):
        args[key] = pick(rng, ctx.values[key])
    elif ctx.values:  # swap_any (or swap_value for a key no task uses)
        args[key] = pick(rng, pick(rng, list(ctx.values.values())))
    return detail, call_of(name, args)


def mutated(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """A mutated gold call, rendered."""
    detail, call = mutate(ctx, rng)
    return detail, ctx.render([call])


def hostile_value(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """A gold call with one value made hostile (often appended to the gold string value)."""
    call = base_call(ctx, rng)
    key = some_key(call, rng)
    if rng.random() < 0.7:
        label = pick(rng, list(HOSTILE_STRINGS))
        old = call.arguments.get(key)
        value: Any = HOSTILE_STRINGS[label]
        if isinstance(old, str) and rng.random() < 0.7:
            value, label = old + value, "suffix:" + label
    else:
        label = pick(rng, list(HOSTILE_NUMBERS))
        value = HOSTILE_NUMBERS[label]
    return label, ctx.render([with_value(call, key, value)])


def hostile_key(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """A gold call with an argument name replaced by (or extended with) a hostile string."""
    call = base_call(ctx, rng)
    key = some_key(call, rng)
    label = pick(rng, list(HOSTILE_STRINGS))
    args = dict(call.arguments)
    value = args.pop(key, "x")
    args[key + HOSTILE_STRINGS[label] if rng.random() < 0.5 else HOSTILE_STRINGS[label]] = value
    return label, ctx.render([call_of(call.name, args)])


def splice(ctx: EnvContext, call: ToolCall, key: str, raw: str, *, as_key: bool = False) -> str:
    """Render ``call`` with a marker value (or key) at ``key``, then write ``raw`` in its place."""
    if as_key:
        args = {k: v for k, v in call.arguments.items() if k != key} | {MARKER: "x"}
    else:
        args = {**call.arguments, key: MARKER}
    text = ctx.render([call_of(call.name, args)])
    quoted = json.dumps(MARKER)
    return text.replace(quoted if quoted in text else MARKER, raw, 1)


def raw_json(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """Raw JSON text (escapes, huge or special numbers, nesting) as a value or key; odd shapes."""
    call = base_call(ctx, rng)
    roll = rng.random()
    if roll < 0.15:
        label = pick(rng, list(SHAPES[ctx.format_name]))
        body = SHAPES[ctx.format_name][label].replace("NAME", call.name)
        return "shape:" + label, f"{OPEN}{body}{CLOSE}"
    label = pick(rng, list(RAW_VALUES))
    raw = RAW_VALUES[label]
    if roll < 0.3 and raw.startswith('"'):
        return "key:" + label, splice(ctx, call, some_key(call, rng), raw, as_key=True)
    return label, splice(ctx, call, some_key(call, rng), raw)


def many_blocks(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """Many tool-call blocks in one message: around the per-turn limit, or thousands."""
    limit = getattr(getattr(ctx.env, "limits", None), "max_calls_per_turn", 8)
    count = int(pick(rng, [2, 3, limit, limit + 1, 50, 1000, 10_000]))
    blocks = [ctx.render([base_call(ctx, rng)]) for _ in range(min(count, 4))]
    text = "\n".join(blocks[i % len(blocks)] for i in range(count))
    return f"n={count}", text


def unclosed(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """A rendered call with its tags broken: unclosed, cut, nested, stray, or inside <think>."""
    text = ctx.render([base_call(ctx, rng)])
    cut = int(rng.integers(len(text) + 1))
    variants: dict[str, Callable[[], str]] = {
        "no_close": lambda: text.replace(CLOSE, ""),
        "cut": lambda: text[:cut],
        "cut_twice": lambda: text[:cut] + text,
        "open_only": lambda: OPEN * int(rng.integers(1, 4)),
        "nested_open": lambda: OPEN + text,
        "stray_close": lambda: text + CLOSE + CLOSE,
        "unclosed_think": lambda: "<think>" + text,
        "think_wrapped": lambda: "<think>" + text + "</think>" + text,
        "glm_value_unclosed": lambda: text.replace("</arg_value>", "", 1),
        "glm_key_unclosed": lambda: text.replace("</arg_key>", "", 1),
    }
    label = pick(rng, list(variants))
    return label, variants[label]()


def oversize(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """An action longer than the env's ``max_action_chars`` (1 to 10 times over)."""
    limits = getattr(ctx.env, "limits", None)
    limit = int(getattr(limits, "max_action_chars", 0) or ctx.env.action_space.max_length)
    target = int(pick(rng, [limit + 1, 2 * limit, 10 * limit]))
    call = base_call(ctx, rng)
    label = pick(rng, ["call_then_text", "long_value", "spaces", "emoji", "repeated_call"])
    if label == "long_value":
        return label, ctx.render([with_value(call, some_key(call, rng), "y" * target)])
    if label == "repeated_call":
        one = ctx.render([call]) + "\n"
        return label, one * (target // len(one) + 1)
    filler = {"call_then_text": "lorem ipsum ", "spaces": " ", "emoji": "🙂"}[label]
    head = ctx.render([call]) if label == "call_then_text" else ""
    return label, head + filler * (target // len(filler) + 1)


@functools.cache
def huge_raw(label: str) -> str:
    """The raw JSON text of a huge value (cached: built once per process)."""
    if label == "deep_nest_1e5":
        return "[" * 100_000 + "]" * 100_000
    if label == "deep_obj_1e5":
        return '{"a":' * 100_000 + "1" + "}" * 100_000
    if label == "escapes_1e5":
        return '"' + "\\udfff" * 100_000 + '"'
    keys = {"obj_keys_1e5": 100_000, "obj_keys_1e6": 1_000_000}[label]
    return json.dumps({f"k{i}": i for i in range(keys)})


@functools.cache
def huge_args(keys: int) -> dict[str, Any]:
    """An arguments object with ``keys`` keys (cached)."""
    return {f"arg{i}": i for i in range(keys)}


def huge(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """Megabyte-scale values: 10^6-char strings, nesting depth 10^5, objects with 10^5-10^6 keys."""
    call = base_call(ctx, rng)
    key = some_key(call, rng)
    label = pick(
        rng,
        [
            "str_1e6",
            "surrogates_1e6",
            "nul_1e6",
            "args_keys_1e5",
            "deep_nest_1e5",
            "deep_obj_1e5",
            "escapes_1e5",
            "obj_keys_1e5",
            "obj_keys_1e6",
        ],
    )
    if label in ("str_1e6", "surrogates_1e6", "nul_1e6"):
        char = {"str_1e6": "x", "surrogates_1e6": "\udfff", "nul_1e6": "\x00"}[label]
        return label, ctx.render([with_value(call, key, char * 1_000_000)])
    if label == "args_keys_1e5":
        return label, ctx.render([call_of(call.name, huge_args(100_000))])
    return label, splice(ctx, call, key, huge_raw(label))


def answer(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """A plain-text reply: the task's gold answer (maybe with hostile characters) or a stock one."""
    task = getattr(ctx.env, "task", None)
    gold = task.answer() if task is not None else "Done."
    roll = rng.random()
    if roll < 0.5:
        return "gold", gold
    if roll < 0.7:
        label = pick(rng, list(HOSTILE_STRINGS))
        return "gold+" + label, gold + HOSTILE_STRINGS[label]
    if roll < 0.8:
        return "think+gold", "<think>I have what I need.</think>" + gold
    return "stock", pick(rng, ANSWERS)


def expert(ctx: EnvContext, rng: np.random.Generator) -> tuple[str, str]:
    """The env's gold next message (moves the episode on so that later steps act on a real state)."""
    if hasattr(ctx.env, "expert_message"):
        return "expert_message", str(ctx.env.expert_message())
    return "gold_call", ctx.render([base_call(ctx, rng)])


GENERATORS: dict[
    str, tuple[float, Callable[[EnvContext, np.random.Generator], tuple[str, str]]]
] = {
    "random_text": (8, lambda ctx, rng: ("fragments", random_text(rng))),
    "space_sample": (5, lambda ctx, rng: ("sample", ctx.env.action_space.sample())),
    "expert": (14, expert),
    "mutated": (22, mutated),
    "hostile_value": (12, hostile_value),
    "hostile_key": (4, hostile_key),
    "raw_json": (8, raw_json),
    "many_blocks": (4, many_blocks),
    "unclosed": (5, unclosed),
    "oversize": (1.5, oversize),
    "huge": (0.5, huge),
    "answer": (8, answer),
}
KINDS = tuple(GENERATORS)
_CUMULATIVE = np.cumsum([w for w, _ in GENERATORS.values()]) / sum(
    w for w, _ in GENERATORS.values()
)


def pick_kind(rng: np.random.Generator) -> str:
    """A kind of action, drawn with the weights of ``GENERATORS``."""
    return KINDS[min(int(np.searchsorted(_CUMULATIVE, rng.random(), side="right")), len(KINDS) - 1)]


def make_action(ctx: EnvContext, rng: np.random.Generator, kind: str | None = None) -> Action:
    """One action of ``kind`` (default: a random kind, see :func:`pick_kind`)."""
    kind = kind or pick_kind(rng)
    detail, text = GENERATORS[kind][1](ctx, rng)
    return Action(kind, detail, text)
