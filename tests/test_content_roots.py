"""Content of one's own outside the repo: --content, TOOLGYM_PATH, clear errors, the spec reference."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import pytest
from pydantic import BaseModel, Field
from typer.testing import CliRunner

from toolgym import content, registry
from toolgym.cli import app
from toolgym.content import add_content_root, bundled_root, content_roots, find_suite_dir
from toolgym.limits import Limits
from toolgym.rewards import EPISODE_REWARDS, JUDGE_REWARDS, STEP_REWARDS
from toolgym.spec_docs import END, START, env_spec_reference, model_table
from toolgym.users.config import UserConfig

runner = CliRunner()
README = (bundled_root() / "README.md").read_text(encoding="utf-8")

PANTRY = '''
"""The README's pantry suite, as a user would save it in tools/pantry/__init__.py."""
from pydantic import BaseModel

from toolgym import ToolError, ToolKind, ToolSuite, tool


class Pantry(BaseModel):
    stock: dict[str, int] = {}


@tool
def check(db: Pantry, item: str) -> int:
    """How many of an item are in stock.

    Args:
        item: Item name, e.g. 'eggs'.
    """
    if item not in db.stock:
        raise ToolError(f"unknown item {item!r}; known items: {sorted(db.stock)}")
    return db.stock[item]


@tool(kind=ToolKind.WRITE)
def order(db: Pantry, item: str, quantity: int) -> str:
    """Order more of an item.

    Args:
        item: Item name.
        quantity: How many to order.
    """
    db.stock[item] = db.stock.get(item, 0) + quantity
    return f"ordered {quantity} {item}"


suite = ToolSuite(
    name="pantry",
    state_type=Pantry,
    tools=(check, order),
    make_state=lambda seed: Pantry(stock={"eggs": 2 + seed, "milk": 1}),
    instructions="You manage the user's pantry.",
)
'''

TASKS = [
    {
        "id": "pantry-1",
        "suite": "pantry",
        "instruction": "If I have fewer than 6 eggs, order a dozen.",
        "gold_calls": [
            [{"name": "check", "arguments": {"item": "eggs"}}],
            [{"name": "order", "arguments": {"item": "eggs", "quantity": 12}}],
        ],
        "required_outputs": ["12"],
    },
    {
        "id": "pantry-2",
        "suite": "pantry",
        "instruction": "How much milk do I have?",
        "gold_calls": [[{"name": "check", "arguments": {"item": "milk"}}]],
        "required_outputs": ["1"],
    },
]

SPEC = """
id = "mylab/Pantry-v0"
suite = "pantry"
description = "The README's pantry."
[tasks]
test = ["pantry/test.jsonl"]
"""


def make_root(folder: Path, spec: str = SPEC) -> Path:
    """A content root like a user's own: tools/pantry, tasks/pantry/test.jsonl, envs/pantry.toml."""
    (folder / "tools" / "pantry").mkdir(parents=True)
    (folder / "tools" / "pantry" / "__init__.py").write_text(textwrap.dedent(PANTRY))
    (folder / "tasks" / "pantry").mkdir(parents=True)
    (folder / "tasks" / "pantry" / "test.jsonl").write_text(
        "\n".join(json.dumps(t) for t in TASKS) + "\n"
    )
    (folder / "envs").mkdir()
    (folder / "envs" / "pantry.toml").write_text(spec)
    return folder


@pytest.fixture(autouse=True)
def isolated(monkeypatch):
    """Each test's roots and env ids are its own: the search path and registries are restored."""
    monkeypatch.setattr(content, "_extra_roots", list(content._extra_roots))
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))
    monkeypatch.delenv("TOOLGYM_PATH", raising=False)
    before = set(gym.registry)
    yield
    for env_id in set(gym.registry) - before:
        del gym.registry[env_id]


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path / "my_content")


# --content on the commands


def test_validate_with_content_finds_the_suite_of_a_task_file_elsewhere(root, tmp_path):
    draft = tmp_path / "draft.jsonl"  # not under the root: only --content can find its suite
    draft.write_text((root / "tasks" / "pantry" / "test.jsonl").read_text())
    assert runner.invoke(app, ["validate", str(draft)]).exit_code == 1
    result = runner.invoke(app, ["validate", "--content", str(root), str(draft)])
    assert result.exit_code == 0, result.output
    assert "2 task(s) checked: 0 invalid, 0 problem(s)." in result.output


def test_validate_content_dir_tasks(root):
    result = runner.invoke(app, ["validate", "--content", str(root), str(root / "tasks")])
    assert result.exit_code == 0, result.output
    assert "2 task(s) checked: 0 invalid" in result.output


def test_validate_finds_the_suite_in_the_task_files_own_root(root):
    result = runner.invoke(app, ["validate", str(root / "tasks")])
    assert result.exit_code == 0, result.output
    assert root not in content_roots()  # found through the file's own root, nothing was added


def test_validate_reports_a_missing_suite_in_full_once(tmp_path):
    draft = tmp_path / "draft.jsonl"
    draft.write_text("\n".join(json.dumps(t) for t in TASKS))
    result = runner.invoke(app, ["validate", str(draft)])
    assert result.exit_code == 1
    first, second = result.output.splitlines()[:2]
    assert first.startswith(f"{draft}:1: suite: no tool suite 'pantry': ") and "--content" in first
    assert second == f"{draft}:2: suite: no tool suite 'pantry' (in full at {draft}:1)"


def test_list_with_content_shows_the_user_env(root):
    assert "mylab/Pantry-v0" not in runner.invoke(app, ["list"]).output
    result = runner.invoke(app, ["list", "--content", str(root), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert rows["mylab/Pantry-v0"]["test"] == 2 and "toolgym/Calendar-v0" in rows


def test_run_with_content_plays_the_user_env(root):
    args = ["run", "--content", str(root), "mylab/Pantry-v0", "-p", "oracle"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert re.search(r"mylab/Pantry-v0\s+oracle\s+2\s+100.0%", result.output)


def test_eval_with_content_scores_the_oracle(root, tmp_path):
    out = tmp_path / "run"
    args = ["eval", "--content", str(root), "--env", "mylab/Pantry-v0", "--agent", "oracle"]
    result = runner.invoke(app, [*args, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env"] == "mylab/Pantry-v0"
    assert summary["success_rate"] == 1.0


def test_generate_with_content_finds_the_suite(root, tmp_path):
    args = ["generate", "pantry", "--out", str(tmp_path / "t.jsonl"), "--content", str(root)]
    result = runner.invoke(app, args)
    assert "suite 'pantry' has no task generator" in result.output  # found, but generator-less


def test_content_roots_are_searched_in_the_order_given(tmp_path):
    first, second = (make_root(tmp_path / n, SPEC.replace("Pantry", f"Pantry{n}")) for n in "AB")
    result = runner.invoke(app, ["list", "--content", str(first), "--content", str(second)])
    assert result.exit_code == 0, result.output
    roots = content_roots()
    assert roots.index(first) < roots.index(second) < roots.index(bundled_root())
    assert find_suite_dir("pantry") == first / "tools" / "pantry"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nowhere", "does not exist (expected a folder with tools/, envs/ or tasks/)"),
        ("file.txt", "is a file (expected a folder with tools/, envs/ or tasks/)"),
        ("empty", "is not a content root: it holds none of tools/, envs/, tasks/"),
        ("my_content/tasks", "holds none of tools/, envs/, tasks/; did you mean"),
    ],
)
def test_content_that_is_no_content_root_is_refused(root, tmp_path, name, expected):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    path = tmp_path / name
    result = runner.invoke(app, ["list", "--content", str(path)])
    assert result.exit_code == 2
    assert "error: --content: " in result.output and str(path.name) in result.output
    assert expected in result.output
    if name == "my_content/tasks":
        assert f"did you mean {root}?" in result.output


def test_two_roots_with_the_same_env_id_are_an_error(tmp_path):
    first, second = make_root(tmp_path / "a"), make_root(tmp_path / "b")
    result = runner.invoke(app, ["list", "--content", str(first), "--content", str(second)])
    assert result.exit_code == 2
    assert "'mylab/Pantry-v0' is already registered by" in result.output


COMMANDS_WITH_CONTENT = ["list", "validate", "run", "generate", "train", "recipe", "eval"]


@pytest.mark.parametrize("command", [*COMMANDS_WITH_CONTENT, "schema", "serve", "compare"])
def test_commands_that_read_content_take_content(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert ("--content" in result.output) == (command in COMMANDS_WITH_CONTENT)


# errors that name each content root once, and how to add one


def test_missing_suite_lists_each_root_once_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(content, "_extra_roots", [])  # roots other tests added are not this one's
    missing, user = tmp_path / "typo", make_root(tmp_path / "mine")
    monkeypatch.setenv("TOOLGYM_PATH", os.pathsep.join([str(missing), str(user)]))
    with pytest.raises(LookupError) as info:
        find_suite_dir("library", prefer=bundled_root())  # the bundled root is also a content root
    message = str(info.value)
    bundled = bundled_root().resolve()
    assert message.count(str(bundled)) == 1  # listed twice before
    searched = message.split("in order: ")[1].split("; ")[0]
    assert searched == (
        f"{bundled} (own root, bundled), {missing} (TOOLGYM_PATH, missing), {user} (TOOLGYM_PATH)"
    )
    for hint in ("--content DIR", f"TOOLGYM_PATH=DIR1{os.pathsep}DIR2", "add_content_root(DIR)"):
        assert hint in message


def test_added_roots_come_first_in_the_message(root, tmp_path):
    add_content_root(root)
    with pytest.raises(LookupError, match=re.escape(f"in order: {root} (added), ")):
        find_suite_dir("library")


@pytest.mark.parametrize("command", ["run", "eval"])
def test_an_unknown_env_id_names_the_roots_and_how_to_add_one(command, tmp_path):
    env_id = "mylab/Library-v0"
    args = ["run", env_id] if command == "run" else ["eval", "--env", env_id]
    result = runner.invoke(app, [*args, "--content", str(make_root(tmp_path / "mine"))])
    assert result.exit_code == 2  # a traceback (exit 1) before
    assert "error: Environment `Library` doesn't exist in namespace mylab." in result.output
    assert f"searched, in order: {tmp_path / 'mine'} (added), " in result.output
    assert "--content DIR" in result.output and "toolgym.register_envs(DIR)" in result.output


def test_generate_of_an_unknown_suite_is_an_error_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["generate", "library", "--out", str(tmp_path / "t.jsonl")])
    assert result.exit_code == 2
    assert "error: no tool suite 'library'" in result.output


# the env spec reference in the README


def readme_reference() -> str:
    return README.split(START)[1].split(END)[0].strip()


def test_readme_env_spec_reference_is_rendered_from_the_models():
    assert readme_reference() == env_spec_reference().strip(), (
        "README.md's env spec reference is out of date: replace the text between its "
        "env-spec-reference markers with the output of `toolgym schema --env-spec`"
    )


@pytest.mark.parametrize(
    ("section", "model"),
    [
        ("Top-level keys", registry.EnvSpec),
        ("`[generated]`", registry.Generated),
        ("`[limits]`", Limits),
        ("`[user]`", UserConfig),
    ],
)
def test_readme_lists_every_field_of_every_spec_model(section, model):
    table = readme_reference().split(f"### {section}\n")[1].split("\n### ")[0]
    keys = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert keys == [n for n, f in model.model_fields.items() if not f.exclude]


def test_readme_lists_every_reward_component():
    table = readme_reference().split("### `[rewards]`\n")[1]
    names = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert names == [*STEP_REWARDS, *EPISODE_REWARDS, *JUDGE_REWARDS]


def test_a_changed_default_or_new_field_changes_the_table():
    class Changed(Limits):
        max_turns: int = Field(default=99, ge=1, description="Assistant turns per episode.")
        max_tools: int = Field(default=5, ge=0, description="A new limit.")

    table = model_table(Changed)
    assert table != model_table(Limits)
    assert "| `max_turns` | `int >= 1` | `99` |" in table
    assert "| `max_tools` | `int >= 0` | `5` | A new limit. |" in table


def test_a_field_without_description_is_refused():
    class Bare(BaseModel):
        size: int = 3

    with pytest.raises(ValueError, match="Bare.size has no description"):
        model_table(Bare)


def test_schema_env_spec_prints_the_reference():
    result = runner.invoke(app, ["schema", "--env-spec"])
    assert result.exit_code == 0
    assert result.output == env_spec_reference()


# the README's worked example, run as a user would


@pytest.mark.slow
def test_readme_content_root_commands_run(tmp_path):
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    (block,) = [b for b in blocks if "--content my_content" in b]
    make_root(tmp_path / "my_content")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("TOOLGYM_PATH", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 task(s) checked: 0 invalid, 0 problem(s)." in done.stdout
    assert len(re.findall(r"^mylab/Pantry-v0 ", done.stdout, flags=re.M)) == 3  # list, run, list
    assert re.search(r"mylab/Pantry-v0\s+oracle\s+2\s+100.0%", done.stdout)
    assert (tmp_path / "runs" / "pantry" / "summary.json").is_file()
