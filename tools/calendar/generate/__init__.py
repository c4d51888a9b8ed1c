"""Procedural tasks: templates drawn over many seeded worlds, split into train/test by content hash.

Every candidate task is keyed by its instruction and gold calls (:func:`signature`); the engine
(:mod:`toolgym.generation`) puts one key in five (by a stable hash) in the test split and the
rest in train, so the splits are disjoint for every seed.
"""

from __future__ import annotations

import json
import random

from toolgym.generation import Draft, Pick, Recipe

from ..directory import OWNER
from . import templates_read as read
from . import templates_write as write
from .helpers import Scene, Skip

WORLD_SEEDS = 100
"""Generated tasks start from worlds 0..WORLD_SEEDS-1."""

TEMPLATES = (
    (read.day_agenda, 3),
    (read.day_bounds, 2),
    (read.email_lookup, 2),
    (read.availability, 3),
    (read.both_free, 3),
    (read.first_common_slot, 3),
    (read.count_with_person, 2),
    (read.no_call, 2),
    (write.book_first_slot, 3),
    (write.book_fixed_time, 3),
    (write.move_event, 3),
    (write.cancel_event, 2),
    (write.cancel_pair_meetings, 2),
    (write.add_attendee, 2),
    (write.relocate_event, 1),
    (write.move_one_on_one, 2),
    (write.clarify_day, 2),
    (write.clarify_sarah, 1),
)
"""Each template with its relative weight."""


def draw(rng: random.Random, pick: Pick) -> Draft | None:
    """One candidate: a template, then a scene on a random world with its own random stream."""
    template = pick()
    scene = Scene(rng.randrange(WORLD_SEEDS), random.Random(rng.random()))
    try:
        draft = template(scene)
    except Skip:
        return None
    assert draft is not None
    draft.world_seed, draft.context, draft.user_name = scene.world_seed, scene.context(), OWNER.name
    return draft


def signature(draft: Draft) -> str:
    """Content key of a task: its instruction and gold calls (decides the split).

    The world is left out on purpose: the same request with the same gold calls in another world
    counts as the same task, so it never lands in both splits.
    """
    calls = [[c.model_dump() for c in step] for step in draft.gold_calls]
    return json.dumps([draft.instruction, calls], sort_keys=True)


RECIPE = Recipe(
    suite="calendar",
    templates=[template for template, _ in TEMPLATES],
    weights=[weight for _, weight in TEMPLATES],
    draw=draw,
    signature=signature,
    make_rng=lambda seed: random.Random(f"calendar-generator-{seed}"),
)
