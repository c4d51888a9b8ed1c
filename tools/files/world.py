"""Seeded worlds: a small, realistic project workspace per seed (seed 0 is fixed by hand).

Rendering a world takes a fraction of a millisecond, but ``make_state`` runs on every episode
reset, so the rendered (immutable) file texts are cached by seed and each state gets fresh copies
of the containers only.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache

from .contents import TODO_TEXTS, Meeting, WorldParams, render
from .paths import ancestors
from .state import Quota, Workspace
from .themes import (
    DATE_FUNCTIONS,
    IDEAS,
    MEETING_POINTS,
    PEOPLE,
    THEMES,
    TIMEZONES,
    TODO_ITEMS,
    Theme,
)

EMPTY_DIRS = ("reports",)
"""Folders every world has without any file in them."""

TYPO_SITES = ("readme", "code", "report", "notes")

SEED0 = WorldParams(
    seed=0,
    theme=THEMES[0],
    date_fn="parse_day",
    typo_sites=("readme", "code", "notes"),
    todo_sites=("format", "header", "validate", "cli", "test"),
    max_rows=50,
    timezone="Europe/Vienna",
    version="0.3.1",
    report_title="Weekly rainfall summary",
    meetings=(
        Meeting(
            day="2026-02-12",
            people=("Dana", "Luis", "Mei"),
            points=(MEETING_POINTS[0], MEETING_POINTS[3]),
            decision="Luis adds the Innsbruck station by March.",
        ),
        Meeting(
            day="2026-03-05",
            people=("Dana", "Oskar"),
            points=(MEETING_POINTS[4],),
            decision="Oskar owns the release checklist.",
        ),
    ),
    todo_items=(
        ("Add a chart to the weekly report", False),
        ("Write tests for the CSV loader", True),
        ("Check the timezone handling around midnight", False),
    ),
    ideas=(IDEAS[0], IDEAS[2]),
    rows=(
        ("2026-03-02", "Graz", "4.5", "0"),
        ("2026-03-02", "Linz", "3.1", "1.2"),
        ("2026-03-03", "Graz", "6.0", "3.5"),
        ("2026-03-03", "Salzburg", "2.4", "7.8"),
        ("2026-03-04", "Innsbruck", "-1.5", "0"),
        ("2026-03-04", "Linz", "5.2", "0.4"),
        ("2026-03-05", "Graz", "8.9", "0"),
        ("2026-03-05", "Salzburg", "7.7", "12.1"),
        ("2026-03-06", "Innsbruck", "0.8", "3.5"),
        ("2026-03-06", "Linz", "9.3", "0"),
    ),
)


@lru_cache(maxsize=4096)
def world_params(seed: int) -> WorldParams:
    """The parameters of world ``seed`` (seed 0 is :data:`SEED0`)."""
    if seed == 0:
        return SEED0
    rng = random.Random(seed)
    theme = rng.choice(THEMES)
    typo_sites = tuple(s for s in TYPO_SITES if rng.random() < 0.5) or (rng.choice(TYPO_SITES),)
    todo_sites = tuple(s for s in TODO_TEXTS if rng.random() < 0.6) or ("header",)
    metric = theme.metric.capitalize()
    return WorldParams(
        seed=seed,
        theme=theme,
        date_fn=rng.choice(DATE_FUNCTIONS),
        typo_sites=typo_sites,
        todo_sites=todo_sites,
        max_rows=rng.randrange(20, 201, 10),
        timezone=rng.choice(TIMEZONES),
        version=f"0.{rng.randint(1, 9)}.{rng.randint(0, 9)}",
        report_title=rng.choice([f"Weekly {theme.metric} summary", f"{metric} by week"]),
        meetings=_meetings(rng),
        todo_items=tuple((item, rng.random() < 0.4) for item in rng.sample(TODO_ITEMS, 4)),
        ideas=tuple(rng.sample(IDEAS, rng.choice([0, 2, 3]))),
        rows=_rows(rng, theme),
    )


def _meetings(rng: random.Random) -> tuple[Meeting, ...]:
    days = sorted(rng.sample(range(5, 80), rng.randint(1, 3)))
    return tuple(
        Meeting(
            day=(dt.date(2026, 1, 1) + dt.timedelta(days=d)).isoformat(),
            people=tuple(rng.sample(PEOPLE, rng.randint(2, 4))),
            points=tuple(rng.sample(MEETING_POINTS, rng.randint(1, 3))),
            decision=f"{rng.choice(PEOPLE)} follows up by the next meeting.",
        )
        for d in days
    )


def _rows(rng: random.Random, theme: Theme) -> tuple[tuple[str, ...], ...]:
    first = dt.date(2026, 2, 2) + dt.timedelta(days=rng.randrange(0, 28))
    rows = []
    for i in range(rng.randint(6, 12)):
        day = (first + dt.timedelta(days=i // 2)).isoformat()
        rows.append(theme.row(rng, day))
    return tuple(sorted(rows))


@lru_cache(maxsize=1024)
def _template(seed: int) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Rendered files and the sorted folder list of world ``seed`` (immutable, cached)."""
    files = render(world_params(seed))
    dirs = {folder for path in files for folder in ancestors(path)}.union(EMPTY_DIRS)
    return tuple(sorted(files.items())), tuple(sorted(dirs))


def make_state(seed: int = 0) -> Workspace:
    """The workspace of world ``seed``: a small Python project with data, notes and tests.

    The state is assembled with ``model_construct`` (no validation: a few microseconds per reset);
    the tests validate generated worlds against the model's invariants.
    """
    files, dirs = _template(seed)
    return Workspace.model_construct(seed=seed, files=dict(files), dirs=list(dirs), quota=Quota())
