"""The task-generation engine (toolgym.generation): split rule, dedupe, budget, determinism."""

from __future__ import annotations

import hashlib
import random
import sys
import types

import pytest

from toolgym import ToolCall
from toolgym.generation import (
    ATTEMPTS_PER_TASK,
    BASE_ATTEMPTS,
    Draft,
    GenerationExhausted,
    LazyGenerator,
    Pick,
    Recipe,
    generate,
    generate_within,
    split_of,
)


def numbered(rng: random.Random) -> Draft:
    """A template with 1000 variants: 'task <k>', a single call."""
    k = rng.randrange(1000)
    return Draft(f"task {k}", [[ToolCall(name="get", arguments={"k": k})]], [], "ok", ["single"])


def constant(rng: random.Random) -> Draft:
    """A template with one variant only."""
    return Draft("always the same", [], [], "ok", ["no_call"])


def nothing(rng: random.Random) -> Draft | None:
    """A template that never makes a task."""
    return None


def run_template(rng: random.Random, pick: Pick) -> Draft | None:
    draft = pick()(rng)
    if draft is not None:
        draft.world_seed = 7
    return draft


def recipe(*templates, **kwargs) -> Recipe:
    fields = {"suite": "toy", "draw": run_template, "signature": lambda d: d.instruction}
    return Recipe(templates=templates, **(fields | kwargs))


def test_split_rule_is_one_key_in_five_by_sha256() -> None:
    keys = [f"key {i}" for i in range(2000)]
    for key in keys:
        test = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 5 == 0
        assert split_of(key) == ("test" if test else "train")
    assert 300 < sum(split_of(k) == "test" for k in keys) < 500


def test_splits_are_disjoint_and_follow_the_split_key() -> None:
    toy = recipe(numbered)
    train, test = generate(toy, "train", 150, 0), generate(toy, "test", 40, 0)
    assert not {t.instruction for t in train} & {t.instruction for t in test}
    assert all(split_of(t.instruction) == "train" for t in train)
    assert all(split_of(t.instruction) == "test" for t in test)

    def keyed(rng: random.Random, pick: Pick) -> Draft | None:
        draft = run_template(rng, pick)
        assert draft is not None
        draft.split_key = "same key for all"  # a split key overrides the signature
        return draft

    whole = split_of("same key for all")
    assert len(generate(recipe(numbered, draw=keyed), whole, 20, 0)) == 20
    other = "test" if whole == "train" else "train"
    with pytest.raises(GenerationExhausted):
        generate(recipe(numbered, draw=keyed), other, 1, 0)


def test_tasks_are_distinct_with_ids_and_fields_from_the_draft() -> None:
    tasks = generate(recipe(numbered), "train", 300, 3)
    assert len({t.instruction for t in tasks}) == 300  # 1000 variants, drawn with repeats
    assert [t.id for t in tasks[:2]] == ["toy-gen-train-3-0", "toy-gen-train-3-1"]
    first = tasks[0]
    assert first.suite == "toy" and first.world_seed == 7 and first.categories == ["single"]
    assert first.gold_calls[0][0].name == "get" and first.gold_answer == "ok"


def test_generation_is_deterministic_and_prefix_stable() -> None:
    toy = recipe(numbered, constant, weights=[3, 1])
    dump = [t.model_dump() for t in generate(toy, "train", 50, 1)]
    assert dump == [t.model_dump() for t in generate(toy, "train", 50, 1)]
    assert dump[:20] == [t.model_dump() for t in generate(toy, "train", 20, 1)]
    assert dump != [t.model_dump() for t in generate(toy, "train", 50, 2)]


def test_the_seed_makes_the_stream() -> None:
    seeds: list[int] = []

    def stream(seed: int) -> random.Random:
        seeds.append(seed)
        return random.Random(f"toy-{seed}")

    generate(recipe(numbered, make_rng=stream), "train", 3, 11)
    assert seeds == [11]


def test_budget_exhaustion_is_a_clear_error() -> None:
    with pytest.raises(GenerationExhausted, match=r"only 0 distinct train tasks of the 5 asked"):
        generate(recipe(nothing), "train", 5, 0)
    calls = []

    def counting(rng: random.Random, pick: Pick) -> Draft | None:
        calls.append(1)
        return run_template(rng, pick)

    # one variant: at most one task per split; the rest of the budget is spent on repeats
    split = split_of("always the same")
    with pytest.raises(GenerationExhausted, match=rf"only 1 distinct {split} tasks of the 3"):
        generate(recipe(constant, draw=counting), split, 3, 0)
    assert len(calls) == ATTEMPTS_PER_TASK * 3 + BASE_ATTEMPTS
    assert issubclass(GenerationExhausted, RuntimeError)


def test_a_template_that_keeps_failing_is_retired() -> None:
    drawn: list[str] = []

    def tracking(rng: random.Random, pick: Pick) -> Draft | None:
        template = pick()
        drawn.append(template.__name__)
        return template(rng)

    generate(
        recipe(nothing, numbered, draw=tracking, weights=[1, 1], retire_after=5), "train", 60, 0
    )
    assert drawn.count("nothing") == 5 and drawn.index("nothing") < 20
    drawn.clear()
    with pytest.raises(GenerationExhausted, match="only 0"):  # every template retired
        generate(recipe(nothing, draw=tracking, weights=[1], retire_after=5), "train", 1, 0)
    assert len(drawn) == 5
    with pytest.raises(ValueError, match="needs template weights"):
        recipe(nothing, retire_after=5)


def test_unknown_splits_are_refused() -> None:
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        generate(recipe(numbered), "dev", 1, 0)


def test_category_filter_keeps_stream_ids_and_refuses_too_few() -> None:
    toy = recipe(numbered, constant, weights=[20, 1])

    def toy_generate(split: str, n: int, seed: int):
        return generate(toy, split, n, seed)

    assert generate_within(toy_generate, "toy", "train", 10, 0, []) == toy_generate("train", 10, 0)
    kept = generate_within(toy_generate, "toy", "train", 10, 0, ["single"])
    assert len(kept) == 10 and all(t.categories == ["single"] for t in kept)
    assert kept == [t for t in toy_generate("train", 40, 0) if t.categories == ["single"]][:10]
    with pytest.raises(ValueError, match="lower generated.train or widen generated.categories"):
        generate_within(toy_generate, "toy", "train", 10, 0, ["clarify"])


def test_lazy_generator_imports_its_module_on_first_call(monkeypatch) -> None:
    module = types.ModuleType("toy_generate_package")
    module.RECIPE = recipe(numbered)  # type: ignore[attr-defined]
    lazy = LazyGenerator("toy_generate_package")  # building it imports nothing
    monkeypatch.setitem(sys.modules, "toy_generate_package", module)
    assert lazy("test", 4, 0) == generate(module.RECIPE, "test", 4, 0)  # type: ignore[attr-defined]
    monkeypatch.setattr(module, "RECIPE", None)
    with pytest.raises(TypeError, match="must define `RECIPE"):
        lazy("test", 1, 0)
