"""TrainConfig's per-algorithm tables: nested settings, moved flat names, tables of other algos."""

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from toolgym.cli import app
from toolgym.train.config import MOVED, TrainConfig, load_config

runner = CliRunner()


def test_dotted_overrides_and_toml_tables_reach_the_algorithm_table(tmp_path):
    config = load_config(None, {"algo": "ppo", "ppo": {"clip_value": 0.3}})
    assert config.ppo.clip_value == 0.3 and config.ppo.gamma == 1.0
    path = tmp_path / "c.toml"
    path.write_text('algo = "online-em"\n[online_em]\nalpha = 0.7\n')
    merged = load_config(path, {"online_em": {"baseline": True}})
    assert merged.online_em.alpha == 0.7 and merged.online_em.baseline
    result = runner.invoke(
        app, ["train", "--algo", "ppo", "--set", "ppo.clip_value=-1", "--no-progress"]
    )
    assert (
        result.exit_code == 2 and "ppo.clip_value: Input should be greater than 0" in result.output
    )


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_flat_names_are_refused_naming_the_new_one(old, tmp_path):
    message = f"{old} moved: set {MOVED[old]}"
    with pytest.raises(ValidationError, match=message):
        TrainConfig.model_validate({"algo": MOVED[old].split(".")[0].replace("_", "-"), old: 1})
    path = tmp_path / "c.toml"
    path.write_text(f"{old} = 1\n")
    with pytest.raises(ValueError, match=message):
        load_config(path, {})


def test_an_old_name_from_the_command_line_is_refused():
    result = runner.invoke(
        app, ["train", "--algo", "ppo", "--set", "value_clip=0.3", "--no-progress"]
    )
    assert result.exit_code == 2 and "value_clip moved: set ppo.clip_value" in result.output
    # a whole-config refusal blames no single option (not the last one given, --algo here)
    assert "error: config: value_clip moved" in result.output and "Value error" not in result.output


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ppo": {"gamma": 0.9}}, "ppo is read by algo='ppo' only \\(algo='grpo'\\)"),
        ({"algo": "rloo", "grpo": {"scale_rewards": False}}, "grpo is read by algo='grpo' only"),
        ({"algo": "ppo", "online_em": {}}, "online_em is read by algo='online-em' only"),
        ({"algo": "sft", "dagger": {"batch": 2}}, "dagger is read by algo='dagger' only"),
    ],
)
def test_a_table_of_another_algorithm_is_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        TrainConfig.model_validate(fields)


@pytest.mark.parametrize("algo", ["grpo", "ppo", "online-em", "dpo"])
def test_a_dump_holds_the_running_table_only_and_validates_again(algo):
    config = TrainConfig(algo=algo, lr=3e-4)
    dumped = json.loads(config.model_dump_json())
    tables = {"sft", "grpo", "ppo", "rest", "online_em", "dagger", "dpo"} & set(dumped)
    assert tables == {algo.replace("-", "_")}
    assert TrainConfig.model_validate_json(config.model_dump_json()) == config


def test_ray_rollouts_parse_and_share_the_server_rules_when_on_a_server():
    config = load_config(None, {"rollout.backend": "ray", "rollout.workers": 3, "lora.r": 4})
    assert (config.rollout.workers, config.rollout.uses_server) == (3, False)  # model copies
    on_server = {"rollout.backend": "ray", "rollout.server_url": "http://h"}
    assert load_config(None, {**on_server, "rollout.asynchronous": True}).rollout.uses_server
    with pytest.raises(ValueError, match="set rollout.protocol='vllm'"):
        load_config(None, {**on_server, "lora.r": 4})
    lora_on_vllm = {**on_server, "lora.r": 4, "rollout.protocol": "vllm"}
    assert load_config(None, lora_on_vllm).rollout.lora_name == "toolgym-policy"
    with pytest.raises(ValueError, match="use rollout.protocol"):
        load_config(None, {**on_server, "rollout.protocol": "vllm"})
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        load_config(None, {"rollout.backend": "ray", "rollout.workers": 0})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "needs rollout.server_url"),
        ({"rollout.server_url": "http://h", "rollout.protocol": "vllm"}, "use rollout.protocol"),
        ({"rollout.server_url": "http://h", "lora.r": 4}, "set rollout.protocol='vllm'"),
    ],
)
def test_server_rollouts_that_cannot_sync_weights_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_config(None, {"rollout.backend": "server", **overrides})
    assert load_config(None, {"rollout.backend": "server", "rollout.server_url": "http://h"})


def test_asynchronous_rollouts_need_a_server():
    with pytest.raises(ValueError, match="set rollout.backend='server'"):
        load_config(None, {"rollout.asynchronous": True})
    with pytest.raises(ValueError, match="or 'ray' with rollout.server_url"):
        load_config(None, {"rollout.asynchronous": True, "rollout.backend": "ray"})
