"""Procedural travel tasks: many templates over many seeded worlds, split by a content hash.

Each candidate task is drawn from a template on a world seed in 1..63 (world 0 is kept for the
hand-written tasks), its gold path is run on that world to fill in ids, prices and times, and it
goes to the test split when the hash of its content (instruction, gold calls, hidden facts) is 0
mod 5, otherwise to train. So for any seed, train and test never share a prompt and target.
"""

from __future__ import annotations

import hashlib
import random

from toolgym import Task, ToolError
from toolgym.suite import canonical_json

from . import gen_flights, gen_hotels, gen_misc
from .gen_common import Draft, Infeasible, Scene

TEMPLATES = [*gen_flights.TEMPLATES, *gen_hotels.TEMPLATES, *gen_misc.TEMPLATES]
WORLD_SEEDS = range(1, 64)


def signature(draft: Draft) -> str:
    """What makes two tasks the same to the agent: the request, the gold calls and the hidden facts.

    The world seed is left out on purpose: the same instruction with the same gold calls on two
    worlds is the same prompt and target, so it must not land in both splits.
    """
    gold = [[c.model_dump() for c in step] for step in draft.steps]
    return canonical_json([draft.instruction, gold, [h.answer for h in draft.hidden]])


def split_of(sig: str) -> str:
    """'test' for one content hash in five, else 'train'."""
    digest = int.from_bytes(hashlib.blake2b(sig.encode(), digest_size=8).digest(), "big")
    return "test" if digest % 5 == 0 else "train"


def generate_tasks(split: str, n: int, seed: int) -> list[Task]:
    """``n`` distinct tasks of ``split`` ('train' or 'test'), deterministic for (split, n, seed)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    rng = random.Random(f"travel-generator|{seed}")
    tasks: list[Task] = []
    seen: set[str] = set()
    attempts = 0
    while len(tasks) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise RuntimeError(f"could only generate {len(tasks)} of {n} distinct {split} tasks")
        template = rng.choice(TEMPLATES)
        scene = Scene(rng.choice(WORLD_SEEDS))
        try:
            draft = template(rng, scene)
        except (Infeasible, ToolError):  # e.g. no flight matches, or it clashes with a booking
            continue
        sig = signature(draft)
        if sig in seen or split_of(sig) != split:
            continue
        seen.add(sig)
        tasks.append(draft.task(f"travel-gen-{split}-{seed}-{len(tasks)}", scene))
    return tasks
