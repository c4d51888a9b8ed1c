"""Tests of the `search` suite: BM25 search and open over a generated fictional encyclopedia."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
import timeit
from collections import Counter
from pathlib import Path

import pytest

from toolgym import ToolCall, ToolKind, load_tasks, state_hash
from toolgym.content import load_suite
from toolgym.tasks import output_present

ROOT = Path(__file__).resolve().parents[2]
SUITE = load_suite("search")
PACKAGE = SUITE.make_state.__module__.rsplit(".", 1)[0]


def module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def run(name: str, seed: int = 0, **arguments):
    state = SUITE.make_state(seed)
    outcome, after = SUITE.execute(state, ToolCall(name=name, arguments=arguments))
    assert state_hash(after) == state_hash(state)
    return outcome


# --- tools -------------------------------------------------------------------------------------


def test_tools_are_read_only_with_schemas() -> None:
    assert [t.name for t in SUITE.tools] == ["search", "open"]
    assert all(t.kind is ToolKind.READ for t in SUITE.tools)
    k = SUITE.tool("search").parameters["properties"]["k"]
    assert (k["default"], k["minimum"], k["maximum"]) == (5, 1, 10)
    assert SUITE.tool("open").parameters["required"] == ["doc_id"]


def test_search_ranks_the_named_entity_first_with_its_lead_sentence() -> None:
    hits = run("search", query="Losvar Telecom").result
    assert hits[0] == {
        "doc_id": "doc-285",
        "title": "Losvar Telecom",
        "snippet": "Losvar Telecom is a telecommunications company founded in 1935.",
        "score": 4.76,
    }
    # the founder's article mentions the company: its snippet is the sentence that does
    assert hits[1]["title"] == "Faentera Gintard"
    assert hits[1]["snippet"] == "Gintard founded Losvar Telecom."
    # equal scores are ordered by doc id
    assert [h["doc_id"] for h in hits[2:]] == ["doc-029", "doc-168", "doc-210"]
    assert len({h["score"] for h in hits[2:]}) == 1
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_snippet_is_the_best_matching_sentence() -> None:
    hits = run("search", query="Tholvow 300").result
    assert hits[0]["title"] == "Trendia Energy"
    assert (
        hits[0]["snippet"]
        == "Its products include the Tholvow 300, the Tynar Pro and the Aramix Mini."
    )


def test_search_k_caps_hits_and_fewer_matches_give_fewer_hits() -> None:
    assert len(run("search", query="Losvar Telecom", k=2).result) == 2
    assert len(run("search", query="Losvar Telecom", k=10).result) == 10
    hits = run("search", query="Kesva Stitaine", k=10).result
    assert [h["title"] for h in hits] == [
        "Kesva Stitaine",
        "The Orith Principle",
        "The Zamun Principle",
    ]
    assert hits[0]["snippet"] == "Kesva Stitaine (born 1922) is a physicist."


def test_search_is_case_and_punctuation_insensitive() -> None:
    assert (
        run("search", query="losvar TELECOM!").result
        == run("search", query="Losvar Telecom").result
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("Quorvik Dalmesh", "no document matches 'Quorvik Dalmesh'"),
        ("the of and", "has no searchable words"),
        ("", "has no searchable words"),
    ],
)
def test_search_errors(query: str, message: str) -> None:
    outcome = run("search", query=query)
    assert not outcome.ok and message in outcome.error


def test_open_returns_the_full_article() -> None:
    outcome = run("open", doc_id="doc-035")
    assert outcome.result == {
        "doc_id": "doc-035",
        "title": "Tavedale",
        "text": "Tavedale is a city in Kreteth. It has a population of 332,477. Its landmarks "
        "include the Shazaux Cathedral and the Trithond Fountain.",
    }
    assert run("open", doc_id=" DOC-035 ").result == outcome.result


@pytest.mark.parametrize("doc_id", ["doc-999", "doc-000", "Tavedale", ""])
def test_open_unknown_id_suggests_search(doc_id: str) -> None:
    outcome = run("open", doc_id=doc_id)
    assert not outcome.ok
    assert f"no document {doc_id!r}" in outcome.error and "use search" in outcome.error


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("search", {}),
        ("search", {"query": 5}),
        ("search", {"query": "Zoton", "k": 0}),
        ("search", {"query": "Zoton", "k": 11}),
        ("search", {"query": "Zoton", "k": "five"}),
        ("search", {"query": "Zoton", "limit": 3}),
        ("open", {}),
        ("open", {"doc_id": 35}),
        ("open", {"doc_id": "doc-035", "full": True}),
    ],
)
def test_invalid_arguments_are_rejected_without_change(name: str, arguments: dict) -> None:
    state = SUITE.make_state(0)
    before = state_hash(state)
    outcome, after = SUITE.execute(state, ToolCall(name=name, arguments=arguments))
    assert outcome.error is not None and outcome.error.startswith(f"{name}:")
    assert state_hash(after) == before == state_hash(state)


# --- world, corpus, state ----------------------------------------------------------------------


def test_make_state_is_deterministic_small_and_fast() -> None:
    state = SUITE.make_state(0)
    assert state.model_dump() == {"corpus_seed": 0}
    assert state_hash(SUITE.make_state(0)) == state_hash(state)
    assert state_hash(SUITE.make_state(1)) != state_hash(state)
    per_call = timeit.timeit(lambda: SUITE.make_state(0), number=2000) / 2000
    assert per_call < 0.002


def test_a_new_corpus_builds_well_under_a_second() -> None:
    start = time.perf_counter()
    corpus = module("corpus").Corpus(module("world").build_world(12345))
    assert time.perf_counter() - start < 1.0
    assert 250 <= len(corpus.articles) <= 350


_FINGERPRINT = """
import hashlib, json, sys
from toolgym import ToolCall, state_hash
from toolgym.content import load_suite
suite = load_suite("search")
state = suite.make_state(3)
texts = [a.doc_id + a.text for a in state.corpus.articles]
calls = [ToolCall(name="search", arguments={"query": q}) for q in ("Telecom", "Symphony", "born")]
results = [suite.execute(state, c)[0].result for c in calls]
blob = json.dumps([state_hash(state), texts, results], sort_keys=True)
print(hashlib.sha256(blob.encode()).hexdigest())
"""


def test_world_corpus_and_ranking_are_identical_across_hash_seeds() -> None:
    prints = set()
    for hash_seed in ("1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", _FINGERPRINT], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        prints.add(done.stdout.strip())
    assert len(prints) == 1


def test_every_article_is_found_by_its_title_in_the_top_5() -> None:
    corpus = SUITE.make_state(0).corpus
    for article in corpus.articles:
        assert article in [h.article for h in corpus.search(article.title, 5)], article.title


def test_names_are_invented_and_unique() -> None:
    real = module("names").REAL_NAMES
    for seed in range(8):
        corpus = SUITE.make_state(seed).corpus
        titles = [a.title for a in corpus.articles]
        assert len(set(titles)) == len(titles)
        assert not real & corpus.vocabulary
        kinds = Counter(a.kind for a in corpus.articles)
        assert kinds["country"] == 6 and kinds["city"] == 48 and kinds["company"] == 50


# --- hand tasks ---------------------------------------------------------------------------------


def _hand_tasks():
    return [
        t for split in ("train", "test") for t in load_tasks(ROOT / f"tasks/search/{split}.jsonl")
    ]


def _replay(task):
    state = SUITE.initial_state(task)
    texts, errors = [], []
    for step in task.gold_calls:
        for call in step:
            outcome, state = SUITE.execute(state, call)
            if outcome.ok:
                texts.append(json.dumps(outcome.result))
            else:
                errors.append(outcome.error)
    return " ".join(texts), errors


def test_hand_task_files_cover_every_category() -> None:
    train = load_tasks(ROOT / "tasks/search/train.jsonl")
    test = load_tasks(ROOT / "tasks/search/test.jsonl")
    assert (len(train), len(test)) == (35, 19)
    counts = Counter(c for t in train + test for c in t.categories)
    for category in ("single", "multi", "parallel", "dependent", "clarify", "no_call", "error"):
        assert counts[category] >= 4, category
    assert {t.instruction for t in train}.isdisjoint(t.instruction for t in test)


@pytest.mark.parametrize("task", _hand_tasks(), ids=lambda t: t.id)
def test_hand_task_gold_replays(task) -> None:
    text, errors = _replay(task)
    calls = task.flat_gold_calls
    if "error" in task.categories:
        assert len(errors) == 1 and len(calls) == 1
        return
    assert errors == []
    if "no_call" in task.categories:
        assert calls == []
        return
    for required in task.required_outputs:
        assert output_present(required, text), (task.id, required)
    if "clarify" in task.categories:
        revealed = task.user.hidden[0].answer.rstrip(".")
        assert any(c.arguments.get("query", "") in revealed for c in calls)
    if "parallel" in task.categories:
        assert any(len(step) >= 2 for step in task.gold_calls)


# --- generator ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> dict[str, list]:
    return {
        "train": SUITE.generate_tasks("train", 2000, 0),
        "test": SUITE.generate_tasks("test", 300, 0),
    }


def _content(task) -> str:
    return json.dumps([task.world_seed, task.instruction, task.user.model_dump(),
                       [[c.model_dump() for c in s] for s in task.gold_calls]])  # fmt: skip


def test_generator_is_deterministic(generated) -> None:
    again = SUITE.generate_tasks("train", 200, 0)
    assert [t.model_dump() for t in again] == [t.model_dump() for t in generated["train"][:200]]
    other = SUITE.generate_tasks("train", 200, 1)
    assert [t.instruction for t in other] != [t.instruction for t in again]
    assert generated["train"][7].id == "search-gen-train-0-7"


def test_generator_makes_2000_distinct_train_tasks_disjoint_from_test(generated) -> None:
    train = {(t.instruction, json.dumps([[c.model_dump() for c in s] for s in t.gold_calls]))
             for t in generated["train"]}  # fmt: skip
    assert len(train) == 2000
    assert {_content(t) for t in generated["train"]}.isdisjoint(
        _content(t) for t in generated["test"]
    )
    categories = Counter(c for t in generated["train"] for c in t.categories)
    for category in ("single", "multi", "parallel", "dependent", "clarify", "no_call", "error"):
        assert categories[category] >= 20, category
    assert {t.world_seed for t in generated["train"]} == set(range(1, 9))  # never the hand world 0


def test_generator_rejects_unknown_split() -> None:
    with pytest.raises(ValueError, match="split"):
        SUITE.generate_tasks("dev", 3, 0)


def test_generated_gold_replays_and_reveals_the_answer(generated) -> None:
    sample = generated["train"][::10] + generated["test"][::10]
    assert len(sample) >= 200
    for task in sample:
        text, errors = _replay(task)
        if "error" in task.categories:
            assert len(errors) == 1, task.instruction
            continue
        assert errors == [], task.instruction
        if task.gold_calls:
            for required in task.required_outputs:
                assert output_present(required, text), (task.instruction, required)
        assert output_present(task.required_outputs[0], task.answer())
