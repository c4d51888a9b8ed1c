"""Shared fixtures: a tiny "counters" suite authored as user content in a temporary folder."""

import json
import os
import textwrap

import pytest
from hypothesis import settings

import toolgym
from toolgym.llm import models

# CI must be deterministic (a random new example must not block a landing); local runs explore.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SUITE = '''
"""A counter service: the smallest useful suite."""
from pydantic import BaseModel

from toolgym import ToolError, ToolKind, ToolSuite, tool


class Counters(BaseModel):
    values: dict[str, int] = {}


@tool
def get(db: Counters, name: str) -> int:
    """Read a counter.

    Args:
        name: Counter name.
    """
    if name not in db.values:
        raise ToolError(f"no counter {name!r}; counters: {sorted(db.values)}")
    return db.values[name]


@tool(kind=ToolKind.WRITE)
def add(db: Counters, name: str, amount: int = 1) -> int:
    """Add to a counter, creating it at 0 first if needed.

    Args:
        name: Counter name.
        amount: How much to add.
    """
    db.values[name] = db.values.get(name, 0) + amount
    return db.values[name]


suite = ToolSuite(
    name="counters",
    state_type=Counters,
    tools=(get, add),
    make_state=lambda seed: Counters(values={"apples": 3 + seed}),
    instructions="You keep counters for the user.",
)
'''

TASKS = [
    {
        "id": "c-1",
        "suite": "counters",
        "instruction": "How many apples?",
        "gold_calls": [[{"name": "get", "arguments": {"name": "apples"}}]],
        "required_outputs": ["3"],
    },
    {
        "id": "c-2",
        "suite": "counters",
        "instruction": "Add 2 apples.",
        "gold_calls": [[{"name": "add", "arguments": {"name": "apples", "amount": 2}}]],
    },
    {
        "id": "c-3",
        "suite": "counters",
        "instruction": "Add some pears.",
        "user": {
            "hidden": [{"keywords": ["how many"], "question": "How many pears?", "answer": "Five."}]
        },
        "gold_calls": [[{"name": "add", "arguments": {"name": "pears", "amount": 5}}]],
    },
]

SPEC = """
id = "mylab/Counters-v0"
suite = "counters"
[tasks]
train = ["counters/tasks.jsonl"]
[rewards]
completion = 1.0
format = 0.1
"""


@pytest.fixture(scope="session")
def counters_root(tmp_path_factory):
    """A content root outside the repo with tools/, tasks/ and envs/ for the counters suite."""
    root = tmp_path_factory.mktemp("my_content")
    (root / "tools" / "counters").mkdir(parents=True)
    (root / "tools" / "counters" / "__init__.py").write_text(textwrap.dedent(SUITE))
    (root / "tasks" / "counters").mkdir(parents=True)
    (root / "tasks" / "counters" / "tasks.jsonl").write_text(
        "\n".join(json.dumps(t) for t in TASKS)
    )
    (root / "envs").mkdir()
    (root / "envs" / "counters.toml").write_text(SPEC)
    return root


@pytest.fixture(scope="session")
def counters_env_id(counters_root):
    toolgym.register_envs(counters_root)
    return "mylab/Counters-v0"


@pytest.fixture(scope="session")
def tiny():
    """A tiny random model, its tokenizer and the ChatML ChatTokenizer."""
    from toolgym.tokens.chat import ChatTokenizer

    model, tokenizer = models.load("tiny")
    return model, tokenizer, ChatTokenizer(tokenizer)


@pytest.fixture(scope="session")
def tiny_model():
    """(model, tokenizer) of the tiny random model, a copy of its own for the serve tests."""
    return models.load("tiny")
