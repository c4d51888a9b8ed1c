"""Procedural tasks: fact questions over the corpora of ``WORLD_SEEDS``, split by a content key.

Each draw takes a world seed, then a template (weights in ``WEIGHTS``), from the stream
``random.Random(seed)``. A draft's split key is its *content key* (template, entity names), so
every phrasing of one question lands in the same split and train and test never share a
question; tasks are distinct by (instruction, gold calls). The engine
(:mod:`toolgym.generation`) does the rest.

Eight corpus seeds (8 BM25 indexes of ~300 articles, built in ~40 ms each and cached) give
thousands of distinct questions while keeping memory and start-up small. World 0, the world of
the hand-written tasks in ``tasks/search/``, is never used, so generated training tasks cannot
leak the hand-written test questions.
"""

from __future__ import annotations

import random

from toolgym.generation import Draft, Pick, Recipe

from ..corpus import get_corpus
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


def draw(rng: random.Random, pick: Pick) -> Draft | None:
    """One candidate: a world seed, then a template run on that world's corpus."""
    world_seed = rng.choice(WORLD_SEEDS)
    draft = pick()(rng, get_corpus(world_seed))
    if draft is not None:
        draft.world_seed = world_seed
    return draft


def signature(draft: Draft) -> str:
    """What makes two tasks the same: the instruction and the gold calls."""
    return repr((draft.instruction, draft.gold_calls))


RECIPE = Recipe(
    suite="search",
    templates=[TEMPLATES[name] for name in WEIGHTS],
    weights=list(WEIGHTS.values()),
    draw=draw,
    signature=signature,
)
