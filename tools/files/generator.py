"""Procedural tasks for the files suite: many templates over many seeded workspaces.

``generate_tasks(split, n, seed)`` draws (template, world seed) pairs from one random stream, so
the candidates are the same for both splits; each candidate goes to ``test`` when the SHA-256 of
its signature (instruction + gold calls) is 0 mod 5 and to ``train`` otherwise. Identical
signatures are kept once, so the splits are disjoint and every task in a batch is distinct.
Templates with few variants (a fixed question about the config) run dry first; a template that
keeps repeating itself is retired, so large batches do not waste time on it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from toolgym import Task, UserProfile
from toolgym.suite import canonical_json
from toolgym.tasks import Category

from . import gen_changes as changes
from . import gen_clarify as clarify
from . import gen_queries as queries
from .gen_support import SUCCESS, Draft, World

Template = Callable[[random.Random, World], Draft | None]

TEMPLATES: tuple[tuple[Template, int], ...] = (
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

WORLD_SEEDS = range(1, 100_000)
"""Worlds generated tasks start from (seed 0, the hand-task world, is left out)."""

RETIRE_AFTER = 60
"""A template that fails to give a new task this many times in a row is no longer drawn."""


def signature(draft: Draft) -> str:
    """What makes two tasks the same: the instruction and the gold calls."""
    calls = [[c.model_dump() for c in step] for step in draft.gold_calls]
    return canonical_json([draft.instruction, calls])


def split_of(sig: str) -> str:
    """'test' for one signature in five (by SHA-256), else 'train'."""
    return "test" if int(hashlib.sha256(sig.encode()).hexdigest(), 16) % 5 == 0 else "train"


def generate_tasks(split: str, n: int, seed: int) -> list[Task]:
    """``n`` distinct tasks of ``split`` ('train' or 'test'), deterministic for (split, n, seed)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    rng = random.Random(f"files-generator-{seed}")
    templates = [template for template, _ in TEMPLATES]
    weights = [weight for _, weight in TEMPLATES]
    misses = [0] * len(templates)
    tasks: list[Task] = []
    seen: set[str] = set()  # signatures of both splits, to notice exhausted templates
    while len(tasks) < n:
        if not any(weights):
            raise RuntimeError(f"templates exhausted after {len(tasks)} {split} tasks (n={n})")
        i = rng.choices(range(len(templates)), weights)[0]
        world_seed = rng.choice(WORLD_SEEDS)
        draft = templates[i](rng, World(world_seed))
        sig = signature(draft) if draft is not None else ""
        if draft is None or sig in seen:
            misses[i] += 1
            if misses[i] >= RETIRE_AFTER:
                weights[i] = 0
            continue
        misses[i] = 0
        seen.add(sig)
        if split_of(sig) == split:
            tasks.append(_task(draft, f"files-gen-{split}-{seed}-{len(tasks)}", world_seed))
    return tasks


def _task(draft: Draft, task_id: str, world_seed: int) -> Task:
    categories: list[Category] = list(draft.categories)
    if "parallel" not in categories and any(len(step) > 1 for step in draft.gold_calls):
        categories.append("parallel")  # e.g. the edits of a rename, one per file, in one step
    forbidden = list(draft.forbidden)
    if "error" in categories and SUCCESS not in forbidden:
        forbidden.append(SUCCESS)  # the failed action must not be claimed
    return Task(
        id=task_id,
        suite="files",
        instruction=draft.instruction,
        user=UserProfile(hidden=draft.hidden),
        world_seed=world_seed,
        gold_calls=draft.gold_calls,
        required_outputs=draft.required_outputs,
        forbidden=forbidden,
        gold_answer=draft.gold_answer,
        categories=categories,
    )
