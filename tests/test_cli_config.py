"""Config-first commands: --help from the model, defaults < --config < --set < options, errors."""

import json

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from toolgym.cli import (
    CompareConfig,
    GenerateConfig,
    ListConfig,
    SchemaConfig,
    ServeConfig,
    ValidateConfig,
    app,
)
from toolgym.cli_run import RunConfig
from toolgym.cli_user import ready_user
from toolgym.eval.run import EvalConfig
from toolgym.policies.factory import AgentConfig, AgentOptions
from toolgym.settings import ConfigError, load_settings, parse_sets
from toolgym.train.config import TrainConfig
from toolgym.train.recipe import RecipeConfig
from toolgym.users.config import UserConfig

runner = CliRunner()
COMMANDS = {
    "list": ListConfig,
    "validate": ValidateConfig,
    "run": RunConfig,
    "generate": GenerateConfig,
    "schema": SchemaConfig,
    "train": TrainConfig,
    "recipe": RecipeConfig,
    "eval": EvalConfig,
    "compare": CompareConfig,
    "serve": ServeConfig,
}


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field of a model, nested models' fields dotted."""
    found = []
    for name, field in model.model_fields.items():
        annotations = (field.annotation, *getattr(field.annotation, "__args__", ()))
        sub = [a for a in annotations if isinstance(a, type) and issubclass(a, BaseModel)]
        found += keys(sub[0], f"{prefix}{name}.") if sub else [prefix + name]
    return found


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_lists_every_field_of_its_model_in_help(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "--config" in result.output and "--set" in result.output
    for key in keys(COMMANDS[command]):
        assert f"  {key}: " in result.output, key
    description = COMMANDS[command].model_fields[keys(COMMANDS[command])[0].split(".")[0]]
    assert (description.description or "").split(" (")[0][:40] in result.output


def test_help_shows_type_choices_and_default():
    result = runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "200"})
    assert '  agent: "hf" | "openai" | "oracle" | "random", default "oracle"' in result.output
    assert "  k: int >= 1, <= 64, default 1" in result.output
    assert '  user.cache_mode: "record" | "replay", default "record"' in result.output
    assert "Read content from DIR first" in result.output  # the command's own options keep help


def test_defaults_then_file_then_set_then_options(tmp_path):
    config = tmp_path / "eval.toml"
    config.write_text('env = "from/file"\nk = 2\nseed = 1\n[user]\nkind = "llm"\n')
    assert load_settings(EvalConfig, None, [], {"env": "e"}).k == 1
    assert load_settings(EvalConfig, config).k == 2
    assert load_settings(EvalConfig, config, ["k=3"]).k == 3
    settings = load_settings(EvalConfig, config, ["k=3", "user.seed=5"], {"k": 4, "model": None})
    assert (settings.k, settings.seed, settings.env, settings.model) == (4, 1, "from/file", None)
    assert (settings.user.kind, settings.user.seed) == ("llm", 5)  # nested: merged key by key


def test_precedence_on_the_command_line(tmp_path):
    config = tmp_path / "schema.toml"
    config.write_text(f'out = "{tmp_path / "file.json"}"\n')
    base = ["schema", "--config", str(config)]
    assert runner.invoke(app, base).exit_code == 0
    assert (tmp_path / "file.json").is_file()
    runner.invoke(app, [*base, "--set", f"out={tmp_path / 'set.json'}"])
    assert (tmp_path / "set.json").is_file()
    option = [*base, "--set", f"out={tmp_path / 'set2.json'}", "--out", str(tmp_path / "opt.json")]
    result = runner.invoke(app, option)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "opt.json").is_file() and not (tmp_path / "set2.json").exists()


def test_nested_set_and_toml_values():
    parsed = parse_sets(["user.kind=llm", "user.seed=3", "lr=1e-5", "rewards={completion = 1.0}"])
    assert parsed == {
        "user": {"kind": "llm", "seed": 3},
        "lr": 1e-5,
        "rewards": {"completion": 1.0},
    }
    assert parse_sets(["out=runs/a", "name='quoted'", "flag=true"]) == {
        "out": "runs/a",
        "name": "quoted",
        "flag": True,
    }
    settings = load_settings(TrainConfig, None, ["user.kind=llm", "user.cache=runs/u.sqlite"])
    assert settings.user.kind == "llm" and str(settings.user.cache) == "runs/u.sqlite"
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_sets(["steps"])


def test_a_bad_key_names_the_source_the_field_and_the_fix(tmp_path):
    result = runner.invoke(app, ["train", "--set", "stepz=3"])
    assert result.exit_code == 2
    assert "--set: stepz: Extra inputs are not permitted: did you mean 'steps'?" in result.output
    assert "`toolgym train --help` lists every field" in result.output
    config = tmp_path / "c.toml"
    config.write_text('[user]\nmodle = "tiny"\n')
    result = runner.invoke(app, ["eval", "--env", "toolgym/Search-v0", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}: user.modle: Extra inputs are not permitted: did you mean 'user.model'?" in (
        result.output
    )
    result = runner.invoke(app, ["eval", "--env", "toolgym/Search-v0", "--k", "100"])
    assert result.exit_code == 2 and "--k: k: Input should be less than or equal to 64" in (
        result.output
    )
    result = runner.invoke(app, ["serve", "--set", "tool_format=xml"])
    assert result.exit_code == 2 and "tool_format: Input should be" in result.output
    assert "(got 'xml')" in result.output


def test_an_unreadable_config_file_is_an_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("k = [")
    result = runner.invoke(app, ["eval", "--env", "x", "--config", str(bad)])
    assert result.exit_code == 2 and f"error: {bad}: cannot read the config" in result.output


def test_run_and_eval_share_one_agent_vocabulary(counters_env_id, tmp_path):
    assert set(AgentOptions.model_fields) < set(RunConfig.model_fields)
    assert set(AgentConfig.model_fields) <= set(EvalConfig.model_fields)
    assert RunConfig.model_fields["agents"].annotation.__args__[0] is (
        EvalConfig.model_fields["agent"].annotation
    )
    played = runner.invoke(app, ["run", counters_env_id, "--split", "train", "-p", "oracle"])
    assert played.exit_code == 0, played.output
    assert "100.0%" in played.output
    out = tmp_path / "eval"
    args = ["eval", "--env", counters_env_id, "--split", "train", "-p", "oracle"]
    evaluated = runner.invoke(app, [*args, "--out", str(out), "--no-progress"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads((out / "summary.json").read_text())["success_rate"] == 1.0


def test_the_user_takes_the_commands_seed_unless_user_seed_is_set():
    assert ready_user(UserConfig(), 7).seed == 7
    assert (
        ready_user(load_settings(EvalConfig, None, ["user.seed=2"], {"env": "e"}).user, 7).seed == 2
    )
