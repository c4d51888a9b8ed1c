"""Procedural travel tasks: many templates over many seeded worlds, split by a content hash.

Each candidate task is drawn from a template (uniformly) on a world seed in 1..63 (world 0 is
kept for the hand-written tasks), and its gold path is run on that world to fill in ids, prices
and times. The engine (:mod:`toolgym.generation`) puts it in the test split when the hash of its
content (instruction, gold calls, hidden facts: :func:`signature`) is 0 mod 5, otherwise in
train. So for any seed, train and test never share a prompt and target.
"""

from __future__ import annotations

import random

from toolgym import ToolError
from toolgym.canonical import canonical_json
from toolgym.generation import Draft, Pick, Recipe

from . import templates_flights, templates_hotels, templates_misc
from .helpers import Infeasible, Scene

TEMPLATES = [*templates_flights.TEMPLATES, *templates_hotels.TEMPLATES, *templates_misc.TEMPLATES]
WORLD_SEEDS = range(1, 64)


def draw(rng: random.Random, pick: Pick) -> Draft | None:
    """One candidate: a template, then a world seed to run its gold path on."""
    template = pick()
    scene = Scene(rng.choice(WORLD_SEEDS))
    try:
        draft = template(rng, scene)
    except (Infeasible, ToolError):  # e.g. no flight matches, or it clashes with a booking
        return None
    assert draft is not None
    # templates write "on {date}"; a date said as "tomorrow" needs no preposition
    draft.instruction = draft.instruction.replace(" on tomorrow", " tomorrow")
    draft.world_seed, draft.context, draft.user_name = scene.world_seed, scene.context, scene.name
    return draft


def signature(draft: Draft) -> str:
    """What makes two tasks the same to the agent: the request, the gold calls and the hidden facts.

    The world seed is left out on purpose: the same instruction with the same gold calls on two
    worlds is the same prompt and target, so it must not land in both splits.
    """
    gold = [[c.model_dump() for c in step] for step in draft.gold_calls]
    return canonical_json([draft.instruction, gold, [h.answer for h in draft.hidden]])


RECIPE = Recipe(
    suite="travel",
    templates=TEMPLATES,
    draw=draw,
    signature=signature,
    make_rng=lambda seed: random.Random(f"travel-generator|{seed}"),
)
