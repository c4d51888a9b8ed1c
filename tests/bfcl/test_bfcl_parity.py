"""toolgym's BFCL envs and bfcl-eval's own pipeline agree on raw messages, class by class.

The corpus: for real entries of each of the five categories, the gold message and variants of it
in each class where the two used to disagree (extra keys, non-object JSON blocks, no newlines in
the tags, ``{"name": ...}`` only) and edge cases of BFCL's Hermes decoder (whitespace, several
blocks, non-JSON blocks, ``</think>``, bad ``arguments``, ...). Each message is scored by the env
(``handler="hermes"``) and by bfcl-eval itself: ``QwenFCHandler._parse_query_response_prompting``
and ``decode_ast``, then ``eval_runner._evaluate_single_ast_entry`` (``ast_checker``) or
``_evaluate_single_relevance_entry``, run in a subprocess.

bfcl-eval is installed ``--no-deps`` (its data is all toolgym uses), so importing its checker
would pull API clients (openai, anthropic, cohere, google-genai, tree-sitter, ...) and pandas (its
score tables) that are never called on this path. The subprocess stubs exactly those modules (``overrides`` with identity
decorators, so the handler's methods stay real) instead of installing them: the official decode
and check code runs unchanged, offline, and nothing enters toolgym's venv or process.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from toolgym.bfcl import ENV_IDS
from toolgym.bfcl.data import CATEGORY_FILES
from toolgym.bfcl.env import BFCLEnv, make_bfcl_env

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None,
    reason="pip install --no-deps bfcl-eval==2026.3.23",
)

ENTRIES_PER_CATEGORY = 12

#: Runs bfcl-eval's own decoder and checker on a JSONL of outputs (stdin -> stdout).
OFFICIAL = r"""
import importlib.abc, importlib.machinery, json, sys, types
from unittest import mock

ABSENT = ("anthropic", "cohere", "google.genai", "openai", "tenacity", "tree_sitter",
          "tree_sitter_java", "tree_sitter_javascript", "overrides", "mistralai", "boto3",
          "writerai", "qwen_agent", "datamodel_code_generator", "pandas")

class Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if any(name == n or name.startswith(n + ".") for n in ABSENT):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None
    def create_module(self, spec):
        if spec.name == "overrides":
            module = types.ModuleType("overrides")
            module.override = module.final = lambda f: f
            module.EnforceOverrides = type("EnforceOverrides", (), {})
            return module
        module = mock.MagicMock(name=spec.name)
        module.__path__, module.__spec__ = [], spec
        return module
    def exec_module(self, module):
        pass

sys.meta_path.append(Stubs())
from bfcl_eval.constants.enums import Language, ReturnFormat
from bfcl_eval.eval_checker import eval_runner
from bfcl_eval.model_handler.local_inference.qwen import QwenHandler
from bfcl_eval.model_handler.local_inference.qwen_fc import QwenFCHandler

# Per handler family: a model of it, named as BFCL's result files name it, and its handler
# (decoding needs no state: no server, no client).
HANDLERS = {
    "hermes": ("Qwen_Qwen3-8B-FC", object.__new__(QwenFCHandler)),
    "prompting": ("Qwen_Qwen3-8B", object.__new__(QwenHandler)),
}
for line in sys.stdin:
    row = json.loads(line)
    MODEL, handler = HANDLERS[row["handler"]]
    response = types.SimpleNamespace(
        choices=[types.SimpleNamespace(text=row["text"])],
        usage=types.SimpleNamespace(prompt_tokens=0, completion_tokens=0),
    )
    result = handler._parse_query_response_prompting(response)["model_responses"]
    prompt = {"id": row["id"], "function": row["function"]}
    if row["category"] == "irrelevance":
        verdict = eval_runner._evaluate_single_relevance_entry(
            handler, row["id"], result, prompt, MODEL, "irrelevance")
    else:
        verdict = eval_runner._evaluate_single_ast_entry(
            handler, row["id"], result, row["possible"], prompt, MODEL, row["category"],
            Language.PYTHON, ReturnFormat.PYTHON)
    print(json.dumps({"valid": bool(verdict["valid"])}), flush=True)
"""


def block(payload: str) -> str:
    """One block as BFCL's Hermes handler reads it."""
    return f"<tool_call>\n{payload}\n</tool_call>"


def gold_objects(env: BFCLEnv) -> list[dict]:
    """The gold calls as Hermes JSON objects (the first function with ``{}`` on irrelevance)."""
    calls = env.task.step_calls[0] if env.task.gold_calls else []
    objects = [{"name": c.name, "arguments": c.arguments} for c in calls]
    return objects or [{"name": env.entry.functions[0]["name"], "arguments": {}}]


def variants(env: BFCLEnv) -> dict[str, str]:
    """Messages of each class for the current entry (gold first)."""
    objs = gold_objects(env)
    dumps = [json.dumps(o) for o in objs]
    gold = "\n".join(block(d) for d in dumps)
    first = objs[0]
    out = {
        "gold": gold,
        "no_call": "I can't help with that using these tools.",
        "extra_id": "\n".join(
            block(json.dumps({**o, "id": f"call_{i}"})) for i, o in enumerate(objs)
        ),
        "gold_plus_list_block": gold + "\n" + block("[1, 2]"),
        "gold_plus_string_block": gold + "\n" + block('"done"'),
        "no_newlines_in_tags": "\n".join(f"<tool_call>{d}</tool_call>" for d in dumps),
        "name_only": block(json.dumps({"name": first["name"]})),
        "gold_plus_name_only": gold + "\n" + block(json.dumps({"name": first["name"]})),
        "gold_plus_not_json": gold + "\n" + block('{"name": "x", "arguments": {'),
        "not_json_only": block("{name: " + first["name"] + "}"),
        "indented_json": "\n".join(block("  " + json.dumps(o, indent=2) + "  ") for o in objs),
        "blank_lines_in_tags": "\n".join(f"<tool_call>\n\n{d}\n\n</tool_call>" for d in dumps),
        "crlf_in_tags": "\r\n".join(f"<tool_call>\r\n{d}\r\n</tool_call>" for d in dumps),
        "text_around_blocks": "Sure, calling now.\n" + gold + "\nDone.",
        "blocks_glued": "".join(block(d) for d in dumps),
        "gold_twice": gold + "\n" + gold,
        "arguments_as_string": "\n".join(
            block(json.dumps({"name": o["name"], "arguments": json.dumps(o["arguments"])}))
            for o in objs
        ),
        "arguments_list": block(json.dumps({"name": first["name"], "arguments": []})),
        "arguments_null": block(json.dumps({"name": first["name"], "arguments": None})),
        "name_list": block(json.dumps({"name": [first["name"]], "arguments": {}})),
        "nested_args_wrapped": "\n".join(
            block(json.dumps({"name": o["name"], "arguments": {"kwargs": o["arguments"]}}))
            for o in objs
        ),
        "think_then_gold": "<think>\n"
        + block('{"name": "x", "arguments": {}}')
        + "\n</think>\n\n"
        + gold,
        "gold_in_think": "<think>\n" + gold + "\n</think>\nNo call needed.",
        "open_tag_only": "<tool_call>\n" + dumps[0],
    }
    return out


def py(value, bare: bool = False, plus: bool = False) -> str:
    """A value as Python source; ``bare``: identifier strings as bare names; ``plus``: +numbers."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v, bare, plus)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(py(v, bare, plus) for v in value) + "]"
    if bare and isinstance(value, str) and value.isidentifier() and value not in ("True", "False", "None"):  # fmt: skip
        return value
    if plus and type(value) in (int, float) and value > 0:
        return f"+{value!r}"
    return repr(value)


def pythonic(objects: list[dict], **kwargs) -> list[str]:
    """Each call as ``name(key=value, ...)``."""
    return [
        f"{o['name']}(" + ", ".join(f"{k}={py(v, **kwargs)}" for k, v in o["arguments"].items()) + ")"
        for o in objects
    ]  # fmt: skip


def prompting_variants(env: BFCLEnv) -> dict[str, str]:
    """Messages for BFCL's prompting decoder: the gold list and its quirks (gold first)."""
    objs = gold_objects(env)
    calls = pythonic(objs)
    gold = "[" + ", ".join(calls) + "]"
    name = objs[0]["name"]
    values = [v for o in objs for v in o["arguments"].values()]
    number = next((v for v in values if type(v) is int and v > 1), None)
    return {
        "gold": gold,
        "no_call": "I can't help with that using these tools.",
        "empty_list": "[]",
        "no_brackets": ", ".join(calls),
        "trailing_comma": "[" + ", ".join(calls) + ",]",
        "tuple_of_calls": "(" + ", ".join(calls) + ",)",
        "set_of_calls": "{" + ", ".join(calls) + "}",
        "fence_plain": "```\n" + gold + "\n```",
        "fence_python": "```python\n" + gold + "\n```",
        "quoted": "'" + gold + "'",
        "text_before": "Sure: " + gold,
        "text_after": gold + " Done.",
        "newlines_around": "\n\n" + gold + "\n",
        "tab_before": "\t" + gold,
        "think_then_gold": "<think>\n[x(a=1)]\n</think>\n\n" + gold,
        "gold_in_think": "<think>\n" + gold + "\n</think>\nNo call needed.",
        "gold_twice": "[" + ", ".join(calls + calls) + "]",
        "bare_name_strings": "[" + ", ".join(pythonic(objs, bare=True)) + "]",
        "unary_plus_numbers": "[" + ", ".join(pythonic(objs, plus=True)) + "]",
        "positional": f"[{name}(" + ", ".join(py(v) for v in objs[0]["arguments"].values()) + ")]",
        "name_only": f"[{name}()]",
        "kwargs_unpacked": f"[{name}(**{py(objs[0]['arguments'])})]",
        "json_objects": json.dumps(objs),
        "attribute_value": f"[{name}(x=math.pi)]",
        "fstring_value": f"[{name}(x=f'{{1}}')]",
        "lambda_value": f"[{name}(x=lambda: 1)]",
        "binop_literals": gold if number is None else gold.replace(repr(number), f"{number - 1} + 1", 1),
        "binop_name": gold if number is None else gold.replace(repr(number), f"{number} + zzz", 1),
        "subscript_value": f"[{name}(x=a[0])]",
        "call_value": f"[{name}(x=g(1), y=h(k=2))]",
        "not_python": "[" + name + "(a=1]",
    }  # fmt: skip


def build_corpus(handler: str = "hermes", reading: str | None = None) -> list[dict]:
    """Every variant of every entry for BFCL ``handler``, with the env's verdict (``toolgym``).

    ``reading``: the env's handler if not ``handler`` itself (``"toolgym"``: the format's parser).
    """
    rows = []
    format, make_variants = {"hermes": ("hermes", variants), "prompting": ("pythonic", prompting_variants)}[handler]  # fmt: skip
    for category in ENV_IDS:
        env = make_bfcl_env(
            category, limit=ENTRIES_PER_CATEGORY, format=format, handler=reading or handler
        )
        for task in env.tasks:
            env.reset(options={"task_id": task.id})
            for kind, text in make_variants(env).items():
                _, reward, *_ = env.step(text)
                env.reset(options={"task_id": task.id})
                rows.append(
                    {
                        "id": task.id,
                        "handler": handler,
                        "category": CATEGORY_FILES[category],
                        "kind": kind,
                        "text": text,
                        "function": list(env.entry.functions),
                        "possible": list(env.entry.possible),
                        "toolgym": reward == 1.0,
                    }
                )
    return rows


def official_verdicts(rows: list[dict], tmp_path: Path) -> list[bool]:
    script = tmp_path / "official_bfcl.py"
    script.write_text(OFFICIAL)
    stdin = "".join(json.dumps({k: r[k] for k in ("id", "handler", "category", "text", "function", "possible")}) + "\n" for r in rows)  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(script)], input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line)["valid"] for line in done.stdout.splitlines()]


def scored_corpus(handler: str, tmp_path: Path) -> tuple[list[dict], list[bool]]:
    """The corpus of ``handler`` and bfcl-eval's verdict on each of its messages."""
    rows = build_corpus(handler)
    official = official_verdicts(rows, tmp_path)
    assert len(official) == len(rows)
    return rows, official


def tally(rows: list[dict], official: list[bool]) -> tuple[Counter[str], Counter[str], list]:
    """Per kind: messages and BFCL passes; and every message where the env and BFCL differ."""
    total: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    wrong = []
    for row, bfcl in zip(rows, official, strict=True):
        total[row["kind"]] += 1
        passed[row["kind"]] += bfcl
        if row["toolgym"] != bfcl:
            wrong.append((row["id"], row["kind"], bfcl, row["text"][:200]))
    for kind in total:
        print(f"{kind:24s} BFCL passes {passed[kind]}/{total[kind]}")
    return total, passed, wrong


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[list[dict], list[bool]]:
    return scored_corpus("hermes", tmp_path_factory.mktemp("bfcl"))


def test_toolgym_and_bfcl_eval_agree_on_every_message(corpus):
    total, passed, wrong = tally(*corpus)
    assert not wrong, wrong[:10]
    # The corpus exercises both verdicts in the classes that used to disagree.
    n = ENTRIES_PER_CATEGORY  # irrelevance's "gold" variant is a call, its right answer no_call
    assert passed["gold"] == total["gold"] - n and passed["no_call"] == n
    assert passed["extra_id"] == total["extra_id"] - n
    assert passed["gold_plus_list_block"] == n  # fails the message: only irrelevance passes
    assert passed["no_newlines_in_tags"] == n  # no call is seen: only irrelevance passes
    assert 0 < passed["name_only"] < total["name_only"]  # passes only on irrelevance


def test_toolgym_own_parser_would_disagree(corpus):
    """The corpus can tell the readings apart: the format's own parser misses BFCL's verdicts."""
    rows, official = corpus
    own = build_corpus(reading="toolgym")
    differ = Counter(
        r["kind"] for r, bfcl in zip(own, official, strict=True) if r["toolgym"] != bfcl
    )
    assert {"extra_id", "gold_plus_list_block", "no_newlines_in_tags", "name_only"} <= set(differ)


@pytest.fixture(scope="module")
def prompting_corpus(tmp_path_factory) -> tuple[list[dict], list[bool]]:
    return scored_corpus("prompting", tmp_path_factory.mktemp("bfcl_prompting"))


def test_the_prompting_handler_agrees_with_bfcl_eval_on_every_message(prompting_corpus):
    """``format="pythonic"`` is scored as bfcl-eval scores ``Qwen/Qwen3-8B`` (prompt mode)."""
    total, passed, wrong = tally(*prompting_corpus)
    assert not wrong, wrong[:10]
    n = ENTRIES_PER_CATEGORY
    # Both verdicts occur where the quirks are: brackets added, fences, bare names, +numbers.
    for kind in ("gold", "no_brackets", "trailing_comma", "fence_plain", "think_then_gold"):
        assert passed[kind] == total[kind] - n, kind  # all but irrelevance (a call there fails)
    for kind in ("no_call", "empty_list", "fence_python", "text_before", "text_after", "quoted"):
        assert passed[kind] == n, kind  # decode failures or no call: only irrelevance passes
    assert passed["bare_name_strings"] > n and passed["unary_plus_numbers"] < passed["gold"]
    assert passed["binop_literals"] == passed["gold"]


def test_the_pythonic_formats_own_parser_would_disagree(prompting_corpus):
    rows, official = prompting_corpus
    own = build_corpus("prompting", reading="toolgym")
    differ = {r["kind"] for r, bfcl in zip(own, official, strict=True) if r["toolgym"] != bfcl}
    assert {"fence_python", "text_after", "bare_name_strings", "unary_plus_numbers"} <= differ
