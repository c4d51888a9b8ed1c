"""Procedural tasks: fact questions over the corpora of ``WORLD_SEEDS``, split by a content hash.

``generate_tasks(split, n, seed)`` samples a world seed and a template (weights in ``WEIGHTS``)
from ``random.Random(seed)`` until it has ``n`` tasks of ``split``. A draft belongs to the test
split when the hash of its *content key* (template, entity names) is 0 mod 5, so every
phrasing of one question lands in the same split and train and test never share a question.
Tasks are distinct by (instruction, gold calls).

Eight corpus seeds (8 BM25 indexes of ~300 articles, built in ~40 ms each and cached) give
thousands of distinct questions while keeping memory and start-up small. World 0, the world of
the hand-written tasks in ``tasks/search/``, is never used, so generated training tasks cannot
leak the hand-written test questions.
"""

from __future__ import annotations

import hashlib
import random

from toolgym import Task, UserProfile

from .corpus import get_corpus
from .planning import Draft
from .templates_chains import CHAIN_TEMPLATES
from .templates_facts import SINGLE_FACT_TEMPLATES
from .templates_other import OTHER_TEMPLATES

WORLD_SEEDS = tuple(range(1, 9))  # world 0 is kept for the hand-written tasks
FACT_TEMPLATES = {**SINGLE_FACT_TEMPLATES, **CHAIN_TEMPLATES}
TEMPLATES = {**FACT_TEMPLATES, **OTHER_TEMPLATES}
# Relative template weights: mostly lookups and multi-hop chains, a few of each other kind.
WEIGHTS = {name: 4.0 for name in FACT_TEMPLATES} | {
    "founded_first": 5.0,
    "born_first": 5.0,
    "larger_city": 4.0,
    "clarify_company_year": 2.0,
    "clarify_hometown": 2.0,
    "clarify_person_birthplace": 2.0,
    "years_between": 2.0,
    "from_excerpt": 2.0,
    "chitchat": 0.3,
    "out_of_scope": 1.0,
    "absent_entity": 3.0,
}
TEST_SHARE = 5  # one content key in five is test


def split_of(draft: Draft) -> str:
    """'test' for one content key in ``TEST_SHARE``, else 'train' (stable across processes).

    The key is the template and the entity names, not the world seed, so a name that happens to
    exist in two worlds still lands in one split.
    """
    key = repr((draft.template, draft.key)).encode()
    return "test" if int(hashlib.sha256(key).hexdigest(), 16) % TEST_SHARE == 0 else "train"


def generate_tasks(split: str, n: int, seed: int) -> list[Task]:
    """``n`` distinct tasks of ``split`` ('train' or 'test'), deterministic for (split, n, seed)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    rng = random.Random(seed)
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    tasks: list[Task] = []
    seen: set[str] = set()
    for _ in range(200 * n + 1000):
        if len(tasks) == n:
            break
        world_seed = rng.choice(WORLD_SEEDS)
        template = rng.choices(names, weights)[0]
        draft = TEMPLATES[template](rng, get_corpus(world_seed))
        if draft is None or split_of(draft) != split:
            continue
        signature = repr((draft.instruction, draft.gold_calls))
        if signature in seen:
            continue
        seen.add(signature)
        tasks.append(_task(draft, world_seed, f"search-gen-{split}-{seed}-{len(tasks)}"))
    if len(tasks) < n:
        raise RuntimeError(f"could only generate {len(tasks)} of {n} distinct {split} tasks")
    return tasks


def _task(draft: Draft, world_seed: int, task_id: str) -> Task:
    return Task(
        id=task_id,
        suite="search",
        instruction=draft.instruction,
        user=UserProfile(hidden=draft.hidden),
        world_seed=world_seed,
        gold_calls=draft.gold_calls,
        required_outputs=draft.required_outputs,
        forbidden=draft.forbidden,
        gold_answer=draft.gold_answer,
        categories=draft.categories,
    )
