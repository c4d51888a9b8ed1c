"""BFCL multi-turn entries (base, miss_func, miss_param, long_context) read from bfcl-eval's data.

Each entry keeps BFCL's raw fields (``question`` turns, ``initial_config``, ``involved_classes``,
``missed_function``) plus its ground truth (one list of Python call strings per turn) and the
function docs shown to the agent, built the way ``bfcl_eval.utils.
populate_test_cases_with_predefined_functions`` does (held-out functions removed and given back at
the turn ``missed_function`` names).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolgym.bfcl.data import data_dir, tool_spec
from toolgym.tasks import Task

#: toolgym category -> BFCL file stem.
MULTI_TURN_FILES: dict[str, str] = {
    "multi_turn_base": "BFCL_v4_multi_turn_base",
    "multi_turn_miss_func": "BFCL_v4_multi_turn_miss_func",
    "multi_turn_miss_param": "BFCL_v4_multi_turn_miss_param",
    "multi_turn_long_context": "BFCL_v4_multi_turn_long_context",
}


@dataclass(frozen=True)
class MultiTurnEntry:
    """One BFCL multi-turn entry.

    Attributes:
        category: toolgym category name (``"multi_turn_base"``, ...).
        raw: BFCL's test entry, unchanged (what ``multi_turn_checker`` is given).
        ground_truth: The gold calls of each turn, as BFCL's Python call strings.
        functions: Function docs shown from the start (held-out ones removed).
        held_out: Turn index -> function docs added at that turn (miss_func only).
    """

    category: str
    raw: dict[str, Any]
    ground_truth: list[list[str]]
    functions: list[dict[str, Any]]
    held_out: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """BFCL's entry id, e.g. ``multi_turn_base_0``."""
        return str(self.raw["id"])

    @property
    def task(self) -> Task:
        """The entry as a toolgym Task: its id, the first user turn as the instruction.

        ``play``, ``toolgym eval`` and the trainer then see it like any suite's task. The gold is
        BFCL's per-turn ground truth, which the env's expert plays (``gold_calls`` stays empty).
        """
        first = [str(m["content"]) for m in self.raw["question"][0] if m["role"] == "user"]
        return Task(id=self.id, suite="bfcl", instruction="\n\n".join(first) or "(no message)")

    @property
    def specs(self) -> list[dict[str, Any]]:
        """The initially shown functions as OpenAI tool specs."""
        return [tool_spec(f) for f in self.functions]


def load_multi_turn(category: str, root: str | Path | None = None) -> list[MultiTurnEntry]:
    """Every entry of one multi-turn category, in file order."""
    if category not in MULTI_TURN_FILES:
        raise ValueError(
            f"unknown BFCL multi-turn category {category!r}; choose one of {list(MULTI_TURN_FILES)}"
        )
    folder = Path(root) if root is not None else data_dir()
    return list(_load(category, folder.resolve()))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@lru_cache(maxsize=8)
def _docs(folder: Path, class_name: str) -> tuple[dict[str, Any], ...]:
    from bfcl_eval.constants.executable_backend_config import MULTI_TURN_FUNC_DOC_FILE_MAPPING

    path = folder / "multi_turn_func_doc" / MULTI_TURN_FUNC_DOC_FILE_MAPPING[class_name]
    return tuple(_read_jsonl(path))


@lru_cache(maxsize=8)
def _load(category: str, folder: Path) -> tuple[MultiTurnEntry, ...]:
    stem = MULTI_TURN_FILES[category]
    rows = _read_jsonl(folder / f"{stem}.json")
    answers = {
        a["id"]: a["ground_truth"] for a in _read_jsonl(folder / "possible_answer" / f"{stem}.json")
    }
    entries = []
    for row in rows:
        if row["id"] not in answers:
            raise ValueError(f"{stem}.json: entry {row['id']} has no possible_answer ground truth")
        functions = [dict(d) for c in row["involved_classes"] for d in _docs(folder, c)]
        held_out: dict[int, list[dict[str, Any]]] = {}
        for turn, names in row.get("missed_function", {}).items():
            docs = [f for f in functions if f["name"] in names]
            functions = [f for f in functions if f["name"] not in names]
            held_out[int(turn)] = docs
        entries.append(MultiTurnEntry(category, row, answers[row["id"]], functions, held_out))
    return tuple(entries)
