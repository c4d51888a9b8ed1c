import json
from pathlib import Path

from typer.testing import CliRunner

from toolgym.cli import app
from toolgym.content import bundled_root

runner = CliRunner()
GOOD = {"id": "c-9", "suite": "counters", "instruction": "Add an apple.",
        "gold_calls": [[{"name": "add", "arguments": {"name": "apples"}}]]}  # fmt: skip


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("list", "validate", "run", "generate", "schema"):
        assert command in result.output


def test_validate_reports_every_problem_with_file_line_and_field(tmp_path, counters_env_id):
    lines = [
        json.dumps(GOOD),
        "{not json",
        json.dumps({**GOOD, "id": "c-10", "instruction": ""}),
        json.dumps({**GOOD, "id": "c-11", "colour": "red"}),
        json.dumps({**GOOD, "id": "c-12", "gold_calls": [[{"name": "multiply", "arguments": {}}]]}),
        json.dumps(
            {**GOOD, "id": "c-13", "gold_calls": [[{"name": "add", "arguments": {"amount": 2}}]]}
        ),
        json.dumps(GOOD),  # duplicate id
        json.dumps(
            {
                **GOOD,
                "id": "c-14",
                "gold_calls": [[{"name": "get", "arguments": {"name": "kiwis"}}]],
            }
        ),
        json.dumps({**GOOD, "id": "c-15", "suite": "cooking"}),
        json.dumps({**GOOD, "id": "c-16", "gold_answer": "Added. Shall I proceed with more?"}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert f"{path}:2: (line): not valid JSON" in out
    assert f"{path}:3: instruction: String should have at least 1 character" in out
    assert f"{path}:4: colour: Extra inputs are not permitted" in out
    assert f"{path}:5: gold_calls[0][0].name: unknown tool 'multiply'" in out
    assert f"{path}:6: gold_calls[0][0].arguments: add: missing required argument 'name'" in out
    assert f"{path}:7: id: duplicate id 'c-9' (first on line 1)" in out
    assert f"{path}:8: gold_calls[0][0]: fails when replayed: no counter 'kiwis'" in out
    assert f"{path}:9: suite: no tool suite 'cooking'" in out
    assert f"{path}:10: gold_answer: the scripted user would keep talking" in out
    assert "10 task(s) checked: 9 invalid" in out


def test_validate_accepts_the_bundled_tasks():
    result = runner.invoke(app, ["validate", str(bundled_root() / "tasks")])
    assert result.exit_code == 0, result.output
    assert " 0 invalid" in result.output


def test_schema_file_is_up_to_date():
    schema = bundled_root() / "tasks" / "schema.json"
    result = runner.invoke(app, ["schema", "--check", "--out", str(schema)])
    assert result.exit_code == 0, result.output


def test_run_oracle_on_a_user_env(counters_env_id, tmp_path):
    out = tmp_path / "episodes.jsonl"
    result = runner.invoke(
        app, ["run", counters_env_id, "--split", "train", "--agent", "oracle", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "100.0%" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and all(r["components"]["completion"] == 1.0 for r in rows)


def test_run_rejects_unknown_policy(counters_env_id):
    result = runner.invoke(app, ["run", counters_env_id, "--agent", "genius"])
    assert result.exit_code != 0 and "(got 'genius')" in result.output


def test_list_shows_task_counts(counters_env_id):
    result = runner.invoke(app, ["list", "--json"])
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert rows[counters_env_id]["train"] == 3 and rows[counters_env_id]["test"] == 0


def test_generate_needs_a_generator(counters_env_id, tmp_path):
    result = runner.invoke(app, ["generate", "counters", "--out", str(Path(tmp_path) / "x.jsonl")])
    assert result.exit_code != 0 and "has no task generator" in result.output


def test_run_a_local_model_policy(counters_env_id):
    args = ["run", counters_env_id, "--split", "train", "-p", "hf", "--model", "tiny"]
    result = runner.invoke(app, [*args, "--episodes", "2"])
    assert result.exit_code == 0, result.output
    assert "hf:tiny" in result.output and "0.0%" in result.output  # random tiny solves nothing
