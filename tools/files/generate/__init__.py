"""Procedural tasks for the files suite: many templates over many seeded workspaces.

Each draw takes a template, then a world seed, from one random stream, so the candidates are the
same for both splits; the engine (:mod:`toolgym.generation`) puts a candidate in ``test`` when
the SHA-256 of its signature (instruction + gold calls) is 0 mod 5 and in ``train`` otherwise,
and keeps identical signatures once, so the splits are disjoint and every task in a batch is
distinct. Templates with few variants (a fixed question about the config) run dry first; a
template that keeps repeating itself is retired (``RETIRE_AFTER``), so large batches do not waste
time on it.
"""

from __future__ import annotations

import random

from toolgym.canonical import canonical_json
from toolgym.generation import Draft, Pick, Recipe
from toolgym.tasks import Category

from . import templates_changes as changes
from . import templates_clarify as clarify
from . import templates_queries as queries
from .helpers import SUCCESS, World

TEMPLATES = (
    (queries.count_todos, 2),
    (queries.setting, 2),
    (queries.version, 1),
    (queries.csv_mentions, 2),
    (queries.definition, 2),
    (queries.find_by_extension, 2),
    (queries.parallel_line_counts, 3),
    (queries.parallel_first_lines, 3),
    (queries.no_call, 2),
    (queries.read_outside, 2),
    (queries.read_missing, 2),
    (changes.write_note, 3),
    (changes.rename_file, 3),
    (changes.delete_file, 2),
    (changes.parallel_deletes, 3),
    (changes.parallel_folders, 2),
    (changes.rename_function, 4),
    (changes.fix_typo, 2),
    (changes.mark_done, 2),
    (changes.add_todo, 3),
    (changes.copy_file, 3),
    (changes.move_into_new_folder, 3),
    (changes.archive_notes, 1),
    (changes.ignore_pattern, 1),
    (changes.move_onto_existing, 3),
    (changes.delete_missing, 2),
    (changes.write_outside, 2),
    (changes.delete_if_empty, 1),
    (clarify.rename_key, 2),
    (clarify.change_timezone, 2),
    (clarify.change_limit, 2),
    (clarify.delete_meeting, 2),
    (clarify.rename_data_file, 2),
)
"""Each template with its relative weight."""

WORLD_SEEDS = range(1, 100_000)
"""Worlds generated tasks start from (seed 0, the hand-task world, is left out)."""

RETIRE_AFTER = 60
"""A template that fails to give a new task this many times in a row is no longer drawn."""


def draw(rng: random.Random, pick: Pick) -> Draft | None:
    """One candidate: a template, then a world seed, with the categories and claims it implies."""
    template = pick()
    world_seed = rng.choice(WORLD_SEEDS)
    draft = template(rng, World(world_seed))
    if draft is None:
        return None
    categories: list[Category] = list(draft.categories)
    if "parallel" not in categories and any(len(step) > 1 for step in draft.gold_calls):
        categories.append("parallel")  # e.g. the edits of a rename, one per file, in one step
    forbidden = list(draft.forbidden)
    if "error" in categories and SUCCESS not in forbidden:
        forbidden.append(SUCCESS)  # the failed action must not be claimed
    draft.categories, draft.forbidden, draft.world_seed = categories, forbidden, world_seed
    return draft


def signature(draft: Draft) -> str:
    """What makes two tasks the same: the instruction and the gold calls."""
    calls = [[c.model_dump() for c in step] for step in draft.gold_calls]
    return canonical_json([draft.instruction, calls])


RECIPE = Recipe(
    suite="files",
    templates=[template for template, _ in TEMPLATES],
    weights=[weight for _, weight in TEMPLATES],
    draw=draw,
    signature=signature,
    make_rng=lambda seed: random.Random(f"files-generator-{seed}"),
    retire_after=RETIRE_AFTER,
)
