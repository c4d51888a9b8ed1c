"""The README's Python examples run as written."""

import re

import pytest

from toolgym.content import bundled_root

README = (bundled_root() / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files (runs/...) write them here
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {"__name__": "readme"})


def test_readme_states_the_two_commands_and_ci_runs_the_second():
    commands = re.findall(r"```bash\n(.*?)```", README, flags=re.S)[0]
    assert "bash scripts/setup.sh && .venv/bin/toolgym recipe" in commands
    test_command = "bash scripts/setup.sh && .venv/bin/python -m pytest -q"
    assert test_command in commands
    ci = (bundled_root() / ".ci" / "run").read_text()
    assert "bash scripts/setup.sh" in ci and ".venv/bin/python -m pytest -q" in ci
