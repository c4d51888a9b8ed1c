"""Same state, up to naming: compare two states of a suite modulo the ids its tools generated.

Two states are the *same* when they hold the same live records with the same field values and
the same references between them. What is *not* compared:

- the ids a tool generated during the episode (an event id, a booking id): creating two events in
  the other order swaps their ids, which changes nothing a user cares about. Each new id is
  replaced by a canonical label derived from its record's content, everywhere it occurs (keys,
  fields, references), so a reference to the wrong record still differs;
- the order of records in a collection (a list of bookings is in creation order);
- records created during the episode and removed again (deleted, or matching the suite's
  ``removed`` marker such as a cancelled booking), and counters that only hand out ids.

Ids that exist in the initial state are never renamed: a change to a pre-existing record is a
change. Names the agent chooses (a new file's path) are not generated ids either.

A suite declares what its tools generate with :class:`GeneratedIds`; a suite without generated
ids compares states exactly (canonical JSON).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from toolgym.canonical import canonical_json


@dataclass(frozen=True)
class Records:
    """A collection of records whose ids the suite's tools generate.

    Attributes:
        path: Top-level field of the state holding the records: a dict keyed by id, or a list.
        id_field: The field of each record holding its id.
        removed: Field values that mark a record as removed (e.g. ``{"status": "cancelled"}``);
            a record created during the episode and so marked counts as never created.
    """

    path: str
    id_field: str
    removed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratedIds:
    """What a suite's tools generate: record collections with new ids, and id counters.

    Attributes:
        records: The collections whose new records get generated ids.
        counters: Top-level fields that only count the ids handed out (e.g. ``next_id``); they are
            not compared.
    """

    records: tuple[Records, ...] = ()
    counters: tuple[str, ...] = ()


@dataclass(frozen=True)
class StateComparison:
    """The outcome of comparing a state with the expected one.

    Attributes:
        same: Whether they are the same state up to generated ids (see the module docstring).
        differences: Up to five readable differences (``path: expected X, got Y``).
        id_map: Generated id in the expected state -> the id of the same record in the actual one
            (only when ``same``; identical records map in some fixed order).
        actual_hash: :func:`canonical_hash` of the actual state (equal hashes = the same state).
        expected_hash: The same for the expected state.
    """

    same: bool
    differences: tuple[str, ...] = ()
    id_map: Mapping[str, str] = field(default_factory=dict)
    actual_hash: str = ""
    expected_hash: str = ""


def record_ids(data: Mapping[str, Any] | BaseModel, spec: GeneratedIds) -> frozenset[str]:
    """The ids of every record in the collections ``spec`` names.

    ``data`` is a state or its JSON dump (a state is read directly: no dump, cheap per call).
    """
    if isinstance(data, BaseModel):
        return frozenset(
            str(getattr(record, r.id_field))
            for r in spec.records
            for record in _values(getattr(data, r.path, None))
        )
    return frozenset(str(record[r.id_field]) for r in spec.records for record in _records(data, r))


def _values(collection: Any) -> list[Any]:
    if isinstance(collection, dict):
        return list(collection.values())
    return list(collection) if isinstance(collection, list) else []


def canonical_view(
    data: Mapping[str, Any], initial_ids: Iterable[str], spec: GeneratedIds
) -> tuple[dict[str, Any], dict[str, str]]:
    """The state dump with new ids replaced by content labels; returns (view, id -> label).

    Args:
        data: ``state.model_dump(mode="json")``.
        initial_ids: The record ids of the initial state (never renamed).
        spec: The suite's generated ids.
    """
    initial = frozenset(initial_ids)
    view = {k: v for k, v in data.items() if k not in spec.counters}
    live: dict[str, dict[str, Any]] = {}  # new id -> its record
    for r in spec.records:
        kept = []
        for record in _records(view, r):
            new = str(record[r.id_field]) not in initial
            if new and r.removed and all(record.get(k) == v for k, v in r.removed.items()):
                continue
            if new:
                live[str(record[r.id_field])] = record
            kept.append(record)
        view[r.path] = (
            kept
            if isinstance(view.get(r.path), list)
            else {str(rec[r.id_field]): rec for rec in kept}
        )
    labels = _labels(live, spec)
    if labels:
        view = rename(view, labels)
    for r in spec.records:
        if isinstance(view.get(r.path), list):
            view[r.path] = sorted(view[r.path], key=canonical_json)
    return view, labels


@dataclass(frozen=True)
class Canonical:
    """A state's :func:`canonical_view`, its canonical JSON text and that text's hash."""

    data: Mapping[str, Any]
    view: dict[str, Any]
    labels: dict[str, str]
    text: str
    hash: str


def canonical(data: Mapping[str, Any], initial_ids: Iterable[str], spec: GeneratedIds) -> Canonical:
    """Everything :func:`compare_states` needs of one side (compute it once for a fixed side)."""
    view, labels = canonical_view(data, initial_ids, spec)
    text = canonical_json(view)
    return Canonical(data, view, labels, text, _digest(text))


def compare_states(
    actual: Mapping[str, Any],
    expected: Mapping[str, Any] | Canonical,
    initial_ids: Iterable[str],
    spec: GeneratedIds,
) -> StateComparison:
    """Compare two state dumps up to generated ids; see :class:`StateComparison`.

    ``expected`` may be given as :func:`canonical` of it, when it is compared many times.
    """
    ids = frozenset(initial_ids)
    want = expected if isinstance(expected, Canonical) else canonical(expected, ids, spec)
    if actual == want.data:  # the common case (the gold in its order): nothing to rename
        return StateComparison(True, (), {i: i for i in want.labels}, want.hash, want.hash)
    got = canonical(actual, ids, spec)
    if got.text != want.text:
        return StateComparison(
            False, tuple(_differences(want.view, got.view)), {}, got.hash, want.hash
        )
    by_label = {label: new_id for new_id, label in got.labels.items()}
    id_map = {old: by_label[label] for old, label in want.labels.items() if label in by_label}
    return StateComparison(True, (), id_map, got.hash, want.hash)


def canonical_hash(data: Mapping[str, Any], initial_ids: Iterable[str], spec: GeneratedIds) -> str:
    """SHA-256 of :func:`canonical_view`: equal for states that are the same up to ids."""
    return canonical(data, initial_ids, spec).hash


def rename_ids(text: str, id_map: Mapping[str, str]) -> str:
    """``text`` with each whole-token id that is a key of ``id_map`` replaced by its value.

    >>> rename_ids("Booked BK0005 (not BK00051).", {"BK0005": "BK0006"})
    'Booked BK0006 (not BK00051).'
    """
    if not id_map:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, id_map)) + r")(?![\w-])")
    return pattern.sub(lambda m: id_map[m.group(1)], text)


def _records(data: Mapping[str, Any], r: Records) -> list[dict[str, Any]]:
    return _values(data.get(r.path))


def _labels(live: Mapping[str, dict[str, Any]], spec: GeneratedIds) -> dict[str, str]:
    """A label per new id from its record's content, refined through the records it refers to."""
    field_of = {r.path: r.id_field for r in spec.records}
    signature = {i: "" for i in live}
    for _ in range(3):  # a record's label reflects what it refers to, two references deep
        signature = {
            i: _digest(canonical_json(rename(_without_ids(rec, field_of), signature)))
            for i, rec in live.items()
        }
    labels, seen = {}, dict[str, int]()
    for new_id in sorted(live, key=lambda i: (signature[i], i)):
        seen[signature[new_id]] = seen.get(signature[new_id], 0) + 1
        labels[new_id] = f"<new:{signature[new_id]}:{seen[signature[new_id]]}>"
    return labels


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _without_ids(record: dict[str, Any], field_of: Mapping[str, str]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in field_of.values()}


def rename(value: Any, labels: Mapping[str, str]) -> Any:
    """``value`` (JSON data) with every string and dict key that is a key of ``labels`` replaced."""
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, dict):
        return {labels.get(k, k): rename(v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [rename(v, labels) for v in value]
    return value


def _differences(want: Any, got: Any, path: str = "", out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if len(out) >= 5:
        return out
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in got:
                out.append(f"{where}: missing (expected {_short(want[key])})")
            elif key not in want:
                out.append(f"{where}: unexpected {_short(got[key])}")
            else:
                _differences(want[key], got[key], where, out)
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            _differences(w, g, f"{path}[{i}]", out)
    elif canonical_json(want) != canonical_json(got):
        out.append(f"{path or '(state)'}: expected {_short(want)}, got {_short(got)}")
    return out


def _short(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= 80 else text[:77] + "..."
