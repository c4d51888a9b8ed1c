"""BFCL v4 single-turn categories as toolgym tasks, read from the ``bfcl-eval`` package's JSON.

The data files ship inside the ``bfcl-eval`` wheel (``pip install --no-deps bfcl-eval==2026.3.23``).
toolgym finds them with ``importlib.util.find_spec`` and never imports the package (its own
dependencies are heavy and not needed to read JSON).

Each BFCL entry becomes a :class:`BFCLEntry`: a toolgym :class:`~toolgym.tasks.Task` (suite
``"bfcl"``, the user question as the instruction, any system message as ``task.context``, the
first possible answer as ``gold_calls``), the entry's BFCL function docs as given (the matcher
checks types against these), the same docs as OpenAI tool specs (what the model sees), and the
possible answers.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from toolgym.tasks import Category, Task
from toolgym.tooling import ToolCall

BFCLCategory = Literal["simple", "multiple", "parallel", "parallel_multiple", "irrelevance"]

#: toolgym category name -> the BFCL v4 file stem (``BFCL_v4_<stem>.json``).
CATEGORY_FILES: dict[str, str] = {
    "simple": "simple_python",
    "multiple": "multiple",
    "parallel": "parallel",
    "parallel_multiple": "parallel_multiple",
    "irrelevance": "irrelevance",
}

#: What each category tests, in toolgym's task categories.
TASK_CATEGORIES: dict[str, list[Category]] = {
    "simple": ["single"],
    "multiple": ["single"],
    "parallel": ["parallel"],
    "parallel_multiple": ["parallel"],
    "irrelevance": ["no_call"],
}

BFCL_VERSION = "2026.3.23"
INSTALL_HINT = f"pip install --no-deps bfcl-eval=={BFCL_VERSION}"

#: The oracle's reply when no function fits (irrelevance entries).
NO_CALL_ANSWER = "None of the available functions can help with this request."

#: BFCL function-doc types -> JSON Schema types (BFCL's GORILLA_TO_OPENAPI for Python docs).
JSON_TYPES: dict[str, str] = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "dict": "object",
    "object": "object",
    "any": "string",
}

#: Appended to every function description, as BFCL does for Python categories.
PYTHON_HINT = " Note that the provided function is in Python 3 syntax."
#: Appended to the description of float parameters, as BFCL does when it maps float to number.
FLOAT_HINT = " This is a float type value."


@dataclass(frozen=True)
class BFCLEntry:
    """One BFCL entry.

    Attributes:
        category: The toolgym category name (``"simple"``, ..., ``"irrelevance"``).
        task: The entry as a toolgym Task (``task.id`` is BFCL's id, e.g. ``"simple_python_0"``).
        functions: BFCL's function docs, unchanged (types such as ``"dict"``, ``"float"``).
        specs: The same functions as OpenAI tool specs with JSON Schema types.
        possible: BFCL's ground truth: one ``{function name: {param: [possible values]}}`` per
            expected call; empty for irrelevance (no call is the right answer).
    """

    category: str
    task: Task
    functions: list[dict[str, Any]]
    specs: list[dict[str, Any]]
    possible: list[dict[str, dict[str, list[Any]]]]


def data_dir() -> Path:
    """The ``data`` folder of the installed ``bfcl-eval`` package (found without importing it)."""
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the BFCL envs read the bfcl-eval package's data: {INSTALL_HINT}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (path / "possible_answer").is_dir():
        raise FileNotFoundError(f"{path} holds no BFCL data; reinstall with {INSTALL_HINT}")
    return path


def load_category(category: str, root: str | Path | None = None) -> list[BFCLEntry]:
    """Every entry of one category, in file order.

    Args:
        category: One of :data:`CATEGORY_FILES` (``"simple"`` is BFCL's ``simple_python``).
        root: The BFCL ``data`` folder; defaults to the installed package's (:func:`data_dir`).
    """
    if category not in CATEGORY_FILES:
        raise ValueError(
            f"unknown BFCL category {category!r}; choose one of {list(CATEGORY_FILES)}"
        )
    folder = Path(root) if root is not None else data_dir()
    return list(_load(category, folder.resolve()))


@lru_cache(maxsize=16)
def _load(category: str, folder: Path) -> tuple[BFCLEntry, ...]:
    stem = CATEGORY_FILES[category]
    rows = _read_jsonl(folder / f"BFCL_v4_{stem}.json")
    answers: dict[str, list[Any]] = {}
    if category != "irrelevance":
        answers = {
            a["id"]: a["ground_truth"]
            for a in _read_jsonl(folder / "possible_answer" / f"BFCL_v4_{stem}.json")
        }
        missing = [r["id"] for r in rows if r["id"] not in answers]
        if missing:
            raise ValueError(f"BFCL {stem}: no possible answer for {missing[:5]}")
    return tuple(_entry(category, row, answers.get(row["id"], [])) for row in rows)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; reinstall with {INSTALL_HINT}")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _entry(category: str, row: dict[str, Any], possible: list[Any]) -> BFCLEntry:
    """Build one entry; the question must be a single turn of system messages then one user one."""
    entry_id = row["id"]
    turns = row["question"]
    if len(turns) != 1:
        raise ValueError(f"{entry_id}: expected a single-turn question, got {len(turns)} turns")
    system = [m["content"] for m in turns[0] if m["role"] == "system"]
    users = [m["content"] for m in turns[0] if m["role"] == "user"]
    if len(users) != 1 or len(system) + len(users) != len(turns[0]):
        raise ValueError(f"{entry_id}: expected system messages then one user message")
    functions = row["function"]
    docs = {f["name"]: f for f in functions}
    calls = [_gold_call(call, docs, entry_id) for call in possible]
    task = Task(
        id=entry_id,
        suite="bfcl",
        instruction=users[0],
        context="\n\n".join(system) or None,
        gold_calls=[calls] if calls else [],
        gold_answer=None if calls else NO_CALL_ANSWER,
        categories=TASK_CATEGORIES[category],
    )
    return BFCLEntry(category, task, functions, [tool_spec(f) for f in functions], possible)


# ------------------------------------------------------------------ gold calls from possible answers
def _gold_call(answer: dict[str, Any], docs: dict[str, Any], entry_id: str) -> ToolCall:
    """The first correct call of one possible answer.

    Each parameter takes its first possible value other than ``""``; a parameter whose list holds
    ``""`` is optional in BFCL and is left out, unless the function doc requires it.
    """
    ((name, params),) = answer.items()
    if name not in docs:
        raise ValueError(f"{entry_id}: the possible answer calls {name!r}, which is not offered")
    parameters = docs[name]["parameters"]
    required = set(parameters.get("required", []))
    properties = parameters.get("properties", {})
    arguments: dict[str, Any] = {}
    for param, values in params.items():
        chosen = [v for v in values if v != ""]
        if not chosen or ("" in values and param not in required):
            continue
        arguments[param] = _resolve(chosen[0], properties.get(param, {}))
    return ToolCall(name=name, arguments=arguments)


def _resolve(value: Any, schema: dict[str, Any]) -> Any:
    """A concrete value from a possible value.

    For ``dict`` parameters (and arrays of dicts) BFCL writes each key's possible values as a list,
    with ``""`` marking an optional key: take the first value, leave optional keys out.
    """
    kind = schema.get("type")
    if kind == "dict" and isinstance(value, dict):
        return _resolve_dict(value)
    item_kind = schema.get("items", {}).get("type")
    if kind in ("array", "tuple") and item_kind == "dict" and isinstance(value, list):
        return [_resolve_dict(item) if isinstance(item, dict) else item for item in value]
    return value


def _resolve_dict(possible: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in possible.items():
        chosen = [v for v in values if v != ""]
        if chosen and "" not in values:
            out[key] = chosen[0]
    return out


# ------------------------------------------------------------------ function docs -> tool specs
def tool_spec(function: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc as an OpenAI tool spec, the way BFCL prepares it for tool-calling models.

    Types map to JSON Schema (``dict`` -> ``object``, ``float`` -> ``number``, ``tuple`` ->
    ``array``, ``any`` -> ``string``; a missing or unknown type becomes ``string``), float
    parameters keep their origin in ``"format": "float"`` and a description note, and the function
    description gets BFCL's "Python 3 syntax" hint. Names keep their dots (``math.factorial``):
    both toolgym formats carry them.
    """
    parameters = copy.deepcopy(function.get("parameters", {}))
    parameters["type"] = "object"
    parameters["properties"] = {
        name: _schema(prop) for name, prop in parameters.get("properties", {}).items()
    }
    return {
        "type": "function",
        "function": {
            "name": function["name"],
            "description": function.get("description", "") + PYTHON_HINT,
            "parameters": parameters,
        },
    }


def _schema(prop: dict[str, Any]) -> dict[str, Any]:
    out = dict(prop)
    kind = prop.get("type")
    out["type"] = JSON_TYPES.get(kind, "string") if isinstance(kind, str) else "string"
    if kind == "float":
        out["format"] = "float"
        if "description" in prop:
            out["description"] = prop["description"] + FLOAT_HINT
    if isinstance(prop.get("properties"), dict):
        out["properties"] = {k: _schema(v) for k, v in prop["properties"].items()}
    if isinstance(prop.get("items"), dict):
        out["items"] = _schema(prop["items"])
    return out
