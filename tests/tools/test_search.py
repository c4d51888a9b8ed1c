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
from toolgym.answers import Claim, Fact, check_answer, output_holds
from toolgym.content import load_suite
from toolgym.gold import linear_extensions
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


HAND = {t.id: t for t in _hand_tasks()}


def _replay(task):
    state = SUITE.initial_state(task)
    texts, errors = [], []
    for step in task.step_calls:
        for call in step:
            outcome, state = SUITE.execute(state, call)
            if outcome.ok:
                texts.append(json.dumps(outcome.result))
            else:
                errors.append(outcome.error)
    return " ".join(texts), errors


def _value_shown(required, text: str) -> bool:
    """Whether the tool results ``text`` show a required output's value (its subject aside)."""
    if isinstance(required, Fact):
        loose = required.model_copy(update={"subject": None, "distractors": []})
        return output_holds(loose, text)
    return output_present(required, text)


def _independent(task, i: int, j: int) -> bool:
    """Whether neither of steps i and j must come before the other."""
    after = [set(step.after or ()) for step in task.steps]

    def before(a: int, b: int) -> bool:  # a must come before b
        return a in after[b] or any(before(a, c) for c in after[b])

    return not before(i, j) and not before(j, i)


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
        assert _value_shown(required, text), (task.id, required)
    if "clarify" in task.categories:
        revealed = task.user.hidden[0].answer.rstrip(".")
        assert any(c.arguments.get("query", "") in revealed for c in calls)
    if "parallel" in task.categories:  # two calls in one step, or two independent steps
        n = len(task.steps)
        assert any(len(step) >= 2 for step in task.step_calls) or any(
            _independent(task, i, j) for i in range(n) for j in range(i + 1, n)
        )


@pytest.mark.parametrize("task", _hand_tasks(), ids=lambda t: t.id)
def test_hand_task_answer_rules(task) -> None:
    """Issue 14: facts of a kind, not_found forbidden where there is an answer, and not-found
    answers forbidden to assert one or to claim success."""
    claims = {f.claim for f in task.forbidden if isinstance(f, Claim)}
    if "error" in task.categories:
        assert "success" in claims and "not_found" not in claims
        assert any(isinstance(f, str) for f in task.forbidden), "forbid the asserting phrase"
        return
    lookups = [r for r in task.required_outputs if not isinstance(r, Fact)]
    if task.gold_calls or task.id in ("search-train-026", "search-train-027", "search-test-013"):
        assert lookups == [], "an answer to look up or work out is a Fact"
        assert "not_found" in claims
    else:  # chitchat and declined requests keep their phrase lists
        assert "not_found" not in claims


WORLD = SUITE.make_state(0).corpus.world


def _rank(name: str) -> int:
    if name in WORLD.companies:
        return WORLD.companies[name].founded
    if name in WORLD.people:
        return WORLD.people[name].birth_year
    return -WORLD.cities[name].population  # larger first


@pytest.mark.parametrize(
    "task_id",
    ["search-train-019", "search-train-020", "search-train-021", "search-test-009",
     "search-test-010", "search-test-011", "search-test-018"],
)  # fmt: skip
def test_comparisons_bind_the_winner_and_refuse_the_other(task_id: str) -> None:
    task = HAND[task_id]
    (fact,) = task.required_outputs
    assert isinstance(fact, Fact) and fact.subjects and fact.distractors
    winner, loser = str(fact.value), fact.distractors[0]
    assert _rank(winner) < _rank(loser)  # the fact names the world's true winner
    word = fact.subjects[0]
    assert check_answer(f"{winner} is {word}.", task.required_outputs, task.forbidden).passed
    assert check_answer(f"{winner} vs {loser}: {loser} is {word}.", task.required_outputs).failures
    assert not check_answer(f"{loser} is {word}.", task.required_outputs, task.forbidden).passed


# (task, answer, whether it must pass): correct phrasings and look-alikes that are wrong
ANSWERS = [
    ("search-train-010", "Tavedale has about 332,000 inhabitants.", True),
    ("search-train-010", "332 477 people live in Tavedale.", True),
    ("search-train-010", "Tavedale has 523,865 people.", False),
    ("search-train-010", "I couldn't find it for sure, but maybe 332,477.", False),
    ("search-train-019", "Naumar Telecom is older than Padil Telecom: 1849 versus 1857.", True),
    ("search-train-019", "Padil Telecom (1857) came after Naumar, which was founded first.", True),
    ("search-train-019", "Padil Telecom is older than Naumar Telecom.", False),
    ("search-train-019", "Either Padil Telecom or Naumar Telecom was first.", False),
    ("search-train-021", "Leitamoor (529,517) is bigger than Feimouth (523,865).", True),
    ("search-train-021", "Feimouth has 523,865 people and Leitamoor 529,517, so Leitamoor is larger.", True),
    ("search-train-021", "Feimouth has the larger population.", False),
    ("search-train-022", "Gevard Symphony was composed in 1880, and Arorel Symphony in 1985.", True),
    ("search-train-022", "Arorel: 1985. Gevard: 1880.", True),
    ("search-train-022", "Arorel Symphony was composed in 1880 and Gevard Symphony in 1985.", False),
    ("search-train-022", "Arorel Symphony was composed in 1985 and Gevard Symphony in 1890.", False),
    ("search-train-028", "I'm unable to email anything, but I can find the article for you.", True),
    ("search-train-028", "Done! I've emailed it. Can't wait for them to read it.", False),
    ("search-train-030", "There's no information about where Quorvik Dalmesh was born.", True),
    ("search-train-030", "No entry, but Quorvik Dalmesh was born in Trene.", False),
    ("search-train-032", "I couldn't find doc-412: no such document exists.", True),
    ("search-train-032", "doc-412 is about Kette Skusvell, a sculptor born in 1926.", False),
    ("search-train-033", "It was founded in 1915.", True),
    ("search-train-033", "Syline Pythaine, a chemist born in 1885, founded Pythaine Aeronautics in 1915.", True),
    ("search-train-033", "Pythaine Aeronautics was founded in 1885 or 1915.", False),
    ("search-train-033", "The year is 1885.", False),
    ("search-test-004", "doc-099 covers the architect Grantamont, known for Novane Bathhouse.", True),
    ("search-test-004", "It is about Brira Grantamont, a painter.", False),
    ("search-test-015", "I couldn't find Velthorax Group, so I can't say who founded it.", True),
    ("search-test-015", "No article, but Velthorax Group was founded by Stodel Kelelli.", False),
    ("search-test-017", "It's based in Iseivik.", True),
    ("search-test-017", "The company is headquartered in Iseivik, while the engineer Shemon Thaeselli worked in Hasvoholm.", True),
    ("search-test-017", "Thaeselli is based in Hasvoholm or Iseivik.", False),
    ("search-test-018", "The composer Yaurard Dreviley (1908) is older than the painter Yyette Hesvani (1910).", True),
    ("search-test-018", "Yyette Hesvani was born first.", False),
    ("search-test-019", "It was first published in Aradale.", True),
    ("search-test-019", "The Skasorn Weaver was first published in Aradale, while The Lindorn Archive was published in Ovemar.", True),
    ("search-test-019", "It was first published in Ovemar or Aradale.", False),
    ("search-test-019", "The Lindorn Archive was first published in Aradale.", False),
]  # fmt: skip


@pytest.mark.parametrize(("task_id", "answer", "passes"), ANSWERS)
def test_hand_task_answer_checks(task_id: str, answer: str, passes: bool) -> None:
    task = HAND[task_id]
    check = check_answer(answer, task.required_outputs, task.forbidden)
    assert check.passed is passes, check.failures


def test_independent_steps_allow_every_order_of_their_chains() -> None:
    for task_id in ("search-train-021", "search-test-010"):
        task = HAND[task_id]  # search a, search b, open a (after its search), open b
        assert [step.after for step in task.steps] == [[], [], [0], [1]]
        orders = linear_extensions([tuple(s.after or ()) for s in task.steps])
        assert [0, 2, 1, 3] in orders and [1, 3, 0, 2] in orders and len(orders) == 6
    task = HAND["search-test-018"]  # ask for the painter, search, ask for the composer, search
    assert [step.after for step in task.steps] == [[], []]
    assert [(f.keywords, f.before_step) for f in task.user.hidden] == [
        (["painter"], 0),
        (["composer"], 1),
    ]


# Each clarify task's hidden fact: the gold step that needs it (len(gold_calls): the answer).
BEFORE_STEP = {
    "search-train-023": 0, "search-train-024": 0, "search-train-025": 0, "search-train-033": 1,
    "search-train-034": 0, "search-train-035": 0, "search-test-012": 0, "search-test-017": 1,
    "search-test-019": 1,
}  # fmt: skip


def test_hidden_facts_come_before_the_step_that_needs_them() -> None:
    clarify = {t.id: t for t in HAND.values() if "clarify" in t.categories}
    assert set(clarify) == set(BEFORE_STEP) | {"search-test-018"}
    for task_id, step in BEFORE_STEP.items():
        (fact,) = clarify[task_id].user.hidden
        assert (fact.before_step, fact.must_ask) == (step, True), task_id
    for task in clarify.values():  # no earlier step uses a name only the user's answer gives
        for fact in task.user.hidden:
            revealed = set(fact.answer.rstrip(".").split()) - set(task.instruction.split())
            names = {w for w in revealed if w[0].isupper() and w not in ("I", "My", "She", "The")}
            for step in task.step_calls[: fact.before_step]:
                for call in step:
                    assert not names & set(str(call.arguments).replace("'", " ").split()), task.id


# --- audit kit ----------------------------------------------------------------------------------


def test_respell_gives_the_same_result_in_another_spelling() -> None:
    kit = module("audit").kit
    assert kit.undo is None and kit.respell is not None
    calls = [c for t in _hand_tasks() for c in t.flat_gold_calls] + [
        ToolCall(name="search", arguments={"query": "losvar telecom", "k": 3}),
        ToolCall(name="open", arguments={"doc_id": "DOC-035"}),
    ]
    respelled = 0
    for call in calls:
        state = SUITE.make_state(0)
        other = kit.respell(call, state)
        gold, _ = SUITE.execute(state, call)
        if not gold.ok:  # its error quotes the argument as spelled: no other spelling
            assert other is None, call
            continue
        assert other is not None and other.name == call.name, call
        assert SUITE.normalize_call(other) != SUITE.normalize_call(call), call
        outcome, after = SUITE.execute(state, other)
        assert outcome.ok and outcome.result == gold.result, call
        assert state_hash(after) == state_hash(state)
        respelled += 1
    assert respelled >= 60
    search = kit.respell(ToolCall(name="search", arguments={"query": "Losvar Telecom"}), state)
    assert search == ToolCall(name="search", arguments={"query": "losvar telecom", "k": 5})
    assert kit.respell(ToolCall(name="search", arguments={"query": "42"}), state) is None
    assert kit.respell(ToolCall(name="nope", arguments={}), state) is None


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
                assert _value_shown(required, text), (task.instruction, required)
        assert check_answer(task.answer(), task.required_outputs, task.forbidden).passed


def test_generated_answers_state_facts_and_forbid_giving_up(generated) -> None:
    tasks = generated["train"] + generated["test"]
    by_template = Counter()
    for task in tasks:
        claims = {f.claim for f in task.forbidden if isinstance(f, Claim)}
        facts = [r for r in task.required_outputs if isinstance(r, Fact)]
        if "error" in task.categories:  # not found: say so, assert nothing, claim no success
            assert claims == {"success"} and any(isinstance(f, str) for f in task.forbidden)
            assert not check_answer(
                task.answer() + " It was founded in 1900. It was founded by X. X was born in Y.",
                task.required_outputs,
                task.forbidden,
            ).passed
            continue
        if isinstance(task.required_outputs[0], list):  # chitchat or a declined request
            assert "not_found" not in claims
            continue
        assert "not_found" in claims, task.instruction
        answer = "I couldn't find a definite answer, but: " + task.answer()
        assert not check_answer(answer, task.required_outputs, task.forbidden).passed
        for fact in facts:
            by_template[(fact.kind, bool(fact.subjects))] += 1
            if fact.distractors:  # a comparison: naming the other candidate fails
                (loser,) = fact.distractors
                wrong = f"{loser} is {fact.subjects[0]}."
                assert not check_answer(wrong, task.required_outputs, task.forbidden).passed
                right = f"{fact.value} is {fact.subjects[-1]}."
                assert check_answer(right, task.required_outputs, task.forbidden).passed
    assert by_template[("number", False)] >= 50 and by_template[("text", True)] >= 100


def test_generated_comparisons_name_the_true_winner(generated) -> None:
    for task in generated["train"][:500]:
        facts = [r for r in task.required_outputs if isinstance(r, Fact) and r.distractors]
        for fact in facts:
            world = SUITE.make_state(task.world_seed).corpus.world
            winner, loser = str(fact.value), fact.distractors[0]
            if winner in world.cities:
                assert world.cities[winner].population > world.cities[loser].population
            elif winner in world.companies:
                assert world.companies[winner].founded < world.companies[loser].founded
            else:
                assert world.people[winner].birth_year < world.people[loser].birth_year
