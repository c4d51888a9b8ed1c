"""Procedural task generation: one engine turns a suite's templates into distinct, split tasks.

A suite's ``generate/`` package holds templates only, each returning a :class:`Draft`, and one
:class:`Recipe` saying how to draw a candidate from them. This module owns everything else:

- the split rule (:func:`split_of`): a draft goes to ``test`` when the SHA-256 of its split key
  is 0 mod ``TEST_SHARE``, else to ``train``, so the splits are disjoint for every seed;
- dedupe: a candidate whose signature was drawn before (in either split) is dropped;
- the retry budget: ``ATTEMPTS_PER_TASK * n + BASE_ATTEMPTS`` draws, then
  :class:`GenerationExhausted`; a recipe may also retire a template that keeps failing;
- task ids (``<suite>-gen-<split>-<seed>-<i>``) and the loop from ``(split, n, seed)`` to tasks;
- the category filter of a spec's ``[generated]`` table (:func:`generate_within`);
- the lazy import of the package (:class:`LazyGenerator`): building a suite, or an env without
  generated tasks, never imports templates.

Generation is deterministic for ``(split, n, seed)``, and the first ``n`` tasks of a larger
request are the ``n`` tasks of the smaller one.
"""

from __future__ import annotations

import hashlib
import importlib
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from toolgym.answers.model import Forbidden, RequiredOutput
from toolgym.tasks import Category, HiddenFact, Split, Task, UserProfile
from toolgym.tooling import ToolCall

SPLITS: tuple[Split, ...] = ("train", "test")
TEST_SHARE = 5
"""One split key in ``TEST_SHARE`` is test."""
ATTEMPTS_PER_TASK = 200
BASE_ATTEMPTS = 1000
"""The retry budget: at most ``ATTEMPTS_PER_TASK * n + BASE_ATTEMPTS`` draws for ``n`` tasks."""
FILTER_GROWTH = 4
FILTER_LIMIT = 64
"""The category filter asks for 4x more tasks each round, up to 64x the number it needs."""


class GenerationExhausted(RuntimeError):
    """The templates could not give enough distinct tasks within the retry budget."""


@dataclass
class Draft:
    """What a template returns: a task without its id.

    Attributes:
        instruction: What the user asks.
        gold_calls: The gold steps (each a list of calls made together).
        required_outputs: What the final answer must state.
        gold_answer: A reference answer.
        categories: The task's categories.
        hidden: Facts the simulated user reveals only when asked.
        forbidden: What the final answer must not claim.
        split_key: What decides the split (None: the recipe's signature of the draft).
        world_seed: The world the task starts from (set by the recipe's ``draw``).
        context: Per-task system context (today's date, who the user is), if any.
        user_name: The simulated user's name, if it matters.
    """

    instruction: str
    gold_calls: list[list[ToolCall]]
    required_outputs: list[RequiredOutput]
    gold_answer: str
    categories: list[Category]
    hidden: list[HiddenFact] = field(default_factory=list)
    forbidden: list[Forbidden] = field(default_factory=list)
    split_key: str | None = None
    world_seed: int = 0
    context: str | None = None
    user_name: str | None = None

    def task(self, task_id: str, suite: str) -> Task:
        """The finished task of ``suite``."""
        return Task(
            id=task_id,
            suite=suite,
            instruction=self.instruction,
            context=self.context,
            user=UserProfile(name=self.user_name, hidden=self.hidden),
            world_seed=self.world_seed,
            gold_calls=[*self.gold_calls],
            required_outputs=self.required_outputs,
            forbidden=self.forbidden,
            gold_answer=self.gold_answer,
            categories=self.categories,
        )


Template = Callable[..., Draft | None]
Pick = Callable[[], Template]


@dataclass(frozen=True)
class Recipe:
    """How a suite draws one candidate task from its templates.

    Attributes:
        suite: The suite name (task ids and ``Task.suite``).
        templates: The templates.
        draw: ``(rng, pick) -> Draft | None``: one candidate from the stream ``rng``; ``pick()``
            draws the template (call it once, where the suite's stream wants it); None when the
            drawn parameters make no good task.
        signature: What makes two drafts the same task (dedupe; the default split key).
        make_rng: ``seed -> random.Random``: the candidate stream of a seed.
        weights: Relative template weights (``random.choices``); None draws uniformly
            (``random.choice``).
        retire_after: A template that fails (no draft, or a repeat) this many times in a row is
            no longer drawn (needs ``weights``); None never retires one.
    """

    suite: str
    templates: Sequence[Template]
    draw: Callable[[random.Random, Pick], Draft | None]
    signature: Callable[[Draft], str]
    make_rng: Callable[[int], random.Random] = random.Random
    weights: Sequence[float] | None = None
    retire_after: int | None = None

    def __post_init__(self) -> None:
        if self.weights is not None and len(self.weights) != len(self.templates):
            count = f"{len(self.weights)} weights for {len(self.templates)} templates"
            raise ValueError(f"{self.suite}: {count}")
        if self.retire_after is not None and self.weights is None:
            raise ValueError(f"{self.suite}: retire_after needs template weights")


def split_of(key: str) -> Split:
    """'test' for one key in ``TEST_SHARE`` (by SHA-256, stable across processes), else 'train'.

    >>> split_of("a"), split_of("b")
    ('train', 'test')
    """
    digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
    return "test" if digest % TEST_SHARE == 0 else "train"


def check_split(split: str) -> Split:
    """``split`` itself if it is 'train' or 'test'; raises ValueError otherwise."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return cast(Split, split)


def generate(recipe: Recipe, split: str, n: int, seed: int) -> list[Task]:
    """``n`` distinct tasks of ``split`` drawn by ``recipe``, deterministic for (split, n, seed).

    Raises:
        ValueError: ``split`` is neither 'train' nor 'test'.
        GenerationExhausted: the budget ran out (or every template retired) before ``n`` tasks.
    """
    split = check_split(split)
    rng = recipe.make_rng(seed)
    stream = _Picker(recipe, rng)
    tasks: list[Task] = []
    seen: set[str] = set()  # signatures of both splits: a repeat is a failed draw
    budget = ATTEMPTS_PER_TASK * n + BASE_ATTEMPTS
    for _ in range(budget):
        if len(tasks) == n:
            return tasks
        if not stream.any_left():
            break
        draft = recipe.draw(rng, stream.pick)
        signature = recipe.signature(draft) if draft is not None else ""
        if draft is None or signature in seen:
            stream.failed()
            continue
        stream.succeeded()
        seen.add(signature)
        key = signature if draft.split_key is None else draft.split_key
        if split_of(key) == split:
            tasks.append(
                draft.task(f"{recipe.suite}-gen-{split}-{seed}-{len(tasks)}", recipe.suite)
            )
    if len(tasks) == n:
        return tasks
    raise GenerationExhausted(
        f"the {recipe.suite!r} templates gave only {len(tasks)} distinct {split} tasks of the "
        f"{n} asked for (seed {seed}, {budget} draws at most); ask for fewer"
    )


class _Picker:
    """Draws templates for one generation run and retires those that keep failing."""

    def __init__(self, recipe: Recipe, rng: random.Random) -> None:
        self.recipe, self.rng = recipe, rng
        self.weights = None if recipe.weights is None else list(recipe.weights)
        self.misses = [0] * len(recipe.templates)
        self.last = -1

    def pick(self) -> Template:
        indexes = range(len(self.recipe.templates))
        if self.weights is None:
            self.last = self.rng.choice(indexes)
        else:
            self.last = self.rng.choices(indexes, self.weights)[0]
        return self.recipe.templates[self.last]

    def any_left(self) -> bool:
        return self.weights is None or any(self.weights)

    def failed(self) -> None:
        limit = self.recipe.retire_after
        if limit is None or self.weights is None:
            return
        self.misses[self.last] += 1
        if self.misses[self.last] >= limit:
            self.weights[self.last] = 0

    def succeeded(self) -> None:
        self.misses[self.last] = 0


@dataclass(frozen=True)
class LazyGenerator:
    """``(split, n, seed) -> tasks`` of the recipe ``RECIPE`` in ``module``, imported on first call.

    A suite names its generate package by module path (``LazyGenerator(f"{__name__}.generate")``
    in its ``__init__.py``), so importing the suite never imports its templates.
    """

    module: str

    def __call__(self, split: str, n: int, seed: int) -> list[Task]:
        """``n`` distinct generated tasks of ``split`` (see :func:`generate`)."""
        return generate(self.recipe(), split, n, seed)

    def recipe(self) -> Recipe:
        """The package's ``RECIPE`` (importing the package on first use)."""
        recipe = getattr(importlib.import_module(self.module), "RECIPE", None)
        if not isinstance(recipe, Recipe):
            raise TypeError(f"{self.module} must define `RECIPE = Recipe(...)`")
        return recipe


def generate_within(
    generate_tasks: Callable[[str, int, int], Iterable[Task]],
    suite: str,
    split: str,
    count: int,
    seed: int,
    allowed: Collection[str],
) -> list[Task]:
    """``count`` generated tasks whose categories all lie in ``allowed`` (every task if empty).

    Works with any ``(split, n, seed)`` generator: it asks for more tasks (``FILTER_GROWTH``x
    each round) until ``count`` pass; generators are deterministic, so the result is too, and
    the tasks keep the ids they have in the unfiltered stream.

    Raises:
        ValueError: fewer than ``count`` tasks pass among ``FILTER_LIMIT * count`` generated.
    """
    if not allowed:
        return list(generate_tasks(split, count, seed))
    asked = count
    while True:
        drafted = list(generate_tasks(split, asked, seed))
        kept = [t for t in drafted if set(t.categories) <= set(allowed)]
        if len(kept) >= count:
            return kept[:count]
        if len(drafted) < asked or asked >= FILTER_LIMIT * count:
            raise ValueError(
                f"the {suite!r} generator gave only {len(kept)} {split} tasks with categories "
                f"within {sorted(allowed)} (asked for {count}); lower generated.{split} or widen "
                "generated.categories"
            )
        asked *= FILTER_GROWTH
