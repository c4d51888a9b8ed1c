"""Procedural tasks: templates drawn over many seeded worlds, split into train/test by content hash.

Every candidate task is keyed by its world, instruction and gold calls; one key in five (by a stable
hash) belongs to the test split, the rest to train, so the splits are disjoint for every seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from toolgym import Task

from . import templates_read as read
from . import templates_write as write
from .scenes import Draft, Scene, Skip, signature, split_of, to_task

WORLD_SEEDS = 100
"""Generated tasks start from worlds 0..WORLD_SEEDS-1."""

TEMPLATES: tuple[tuple[Callable[[Scene], Draft], int], ...] = (
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


def generate_tasks(split: str, n: int, seed: int) -> list[Task]:
    """``n`` distinct generated tasks of ``split`` ('train' or 'test'), deterministic in ``seed``."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    rng = random.Random(f"calendar-generator-{seed}")
    templates = [t for t, _ in TEMPLATES]
    weights = [w for _, w in TEMPLATES]
    tasks: list[Task] = []
    seen: set[str] = set()
    for _ in range(200 * n + 1000):
        if len(tasks) == n:
            break
        template = rng.choices(templates, weights)[0]
        scene = Scene(rng.randrange(WORLD_SEEDS), random.Random(rng.random()))
        try:
            draft = template(scene)
        except Skip:
            continue
        key = signature(scene, draft)
        if key in seen or split_of(key) != split:
            continue
        seen.add(key)
        tasks.append(to_task(scene, draft, f"calendar-gen-{split}-{seed}-{len(tasks)}"))
    if len(tasks) < n:
        raise RuntimeError(f"only {len(tasks)} distinct {split} tasks found, {n} requested")
    return tasks
