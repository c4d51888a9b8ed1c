"""Generated tasks stay byte-identical: pinned hashes of the first 200 per suite and split.

A change to a template, the engine or a world that changes generated tasks must update these
pins on purpose (and say so: training runs and reports name generated task ids).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from toolgym.content import load_suite

# sha256 of "\n".join(task.model_dump_json()) of suite.generate_tasks(split, 200, 0). search,
# calendar and files are as before the generation engine existed; travel's split rule changed
# from blake2b to the engine's sha256 (the same candidates, some in the other split).
PINS = {
    ("search", "train"): "f744ca0e1fce82933cfe125f2183478f209afb8d4459a6555f6ee9ad819d9524",
    ("search", "test"): "a6dd460f36857a28e7e38d2e17740cf8650f1d1d64c86159da0cac6f408f284a",
    ("calendar", "train"): "b001d6acb7f0114794f609119e01cb560cc5d88016d0c945a5817f6e6cc56df5",
    ("calendar", "test"): "11ba72c5a83884c279a225f7b2bd5814fad5fa5f0655b708089bf138e4a1104e",
    ("files", "train"): "0be180500c7987169b6af1c77b57fd974df55308afcff4fbf50b5e6e82a02449",
    ("files", "test"): "3f98487996b3ce4e75f4c59da03465dceee99972e875ee457082d4a3c8454804",
    ("travel", "train"): "dfcc9caf239df4b4a46fbbbb144a91f26700f79022ee3d533dfc499fe8a8e9d9",
    ("travel", "test"): "519a42615fcd1ad787dba0b23971a245cf37b1c6ca2a4682c9c1cc573b43d438",
}


@pytest.mark.parametrize(("suite", "split"), sorted(PINS))
def test_first_200_generated_tasks_are_pinned(suite: str, split: str) -> None:
    tasks = list(load_suite(suite).generate_tasks(split, 200, 0))
    assert len(tasks) == 200
    text = "\n".join(task.model_dump_json() for task in tasks)
    assert hashlib.sha256(text.encode()).hexdigest() == PINS[suite, split]


MAKE = """
import sys
import gymnasium as gym
import toolgym
env = gym.make("toolgym/{name}-v0")
assert env.unwrapped.tasks
loaded = sorted(m for m in sys.modules if m.startswith("_toolgym_suites.") and ".generate" in m)
print(loaded)
"""


@pytest.mark.parametrize(
    "name", ["Search", "Calendar", "Files", "Travel", "SearchLookup", "CalendarLookup"]
)
def test_templates_are_imported_only_for_generated_tasks(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", MAKE.format(name=name)], capture_output=True, text=True, check=True
    )
    loaded = result.stdout.strip()
    templates = {"SearchLookup": "templates_facts", "CalendarLookup": "templates_read"}
    if name in templates:  # its spec has a [generated] table
        assert f"generate.{templates[name]}" in loaded
    else:
        assert loaded == "[]"
