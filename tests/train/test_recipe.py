"""The recipe: evaluate, SFT, evaluate, RL, evaluate; stage configs merge over their defaults."""

import json
from pathlib import Path

from typer.testing import CliRunner

from toolgym.cli import app
from toolgym.train.config import TrainConfig
from toolgym.train.recipe import RL_DEFAULTS, SFT_DEFAULTS, RecipeConfig

runner = CliRunner()


def rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_stage_fields_update_the_stage_defaults():
    sft, rl = RecipeConfig(out=Path("r"), sft={"steps": 3}, rl={"lr": 1e-6}).stage_configs()
    assert (sft.algo, sft.steps, sft.lr) == ("sft", 3, SFT_DEFAULTS["lr"])
    assert sft.tasks_per_step == SFT_DEFAULTS["tasks_per_step"] and sft.out == Path("r/sft")
    assert (rl.algo, rl.lr, rl.steps) == ("grpo", 1e-6, RL_DEFAULTS["steps"])
    assert rl.freeze_layers == RL_DEFAULTS["freeze_layers"] and rl.init == Path("r/sft")
    default_sft, default_rl = RecipeConfig().stage_configs()
    assert default_sft.steps == SFT_DEFAULTS["steps"]
    assert default_rl.grpo.scale_rewards is RL_DEFAULTS["grpo"]["scale_rewards"] is False


def test_another_rl_algo_drops_the_default_grpo_table_and_keeps_the_rest():
    _, rl = RecipeConfig(rl={"algo": "rloo"}).stage_configs()
    assert (rl.algo, rl.aggregation, rl.rewards) == ("rloo", "constant", RL_DEFAULTS["rewards"])
    _, rl = RecipeConfig(rl={"grpo": {"scale_rewards": True}}).stage_configs()
    assert rl.grpo.scale_rewards and rl.aggregation == RL_DEFAULTS["aggregation"]


def test_recipe_cli_runs_three_evaluations_and_two_stages(tmp_path):
    out = tmp_path / "recipe"
    args = ["recipe", "--model", "tiny", "--out", str(out), "--no-progress", "--set", "env=toolgym/Search-v0",
            "--set", "eval_tasks=2", "--set", "max_new_tokens=6", "--set", "max_tokens=4096",
            "--set", "sft.steps=2", "--set", "sft.tasks_per_step=2", "--set", "sft.lr=1e-3", "--set", "sft.freeze_layers=0",
            "--set", "rl.steps=2", "--set", "rl.tasks_per_step=2", "--set", "rl.group_size=2", "--set", "rl.freeze_layers=1"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "held-out success on 2 toolgym/Search-v0 test tasks" in result.output
    assert f"plot: {out / 'recipe.png'}" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["eval_tasks"] == 2 and {"base", "sft", "rl"} <= summary.keys()
    assert (out / "recipe.png").read_bytes()[:4] == b"\x89PNG"
    rl_config = json.loads((out / "rl" / "config.json").read_text())
    assert rl_config["init"] == str(out / "sft") and rl_config["algo"] == "grpo"
    assert [r["step"] for r in rows(out / "sft") if not r.get("final")] == [1, 2]
    assert rows(out / "rl")[-1]["final"] and rows(out / "rl")[-1]["eval_success"] == summary["rl"]


def test_recipe_errors_name_the_stage_and_field(tmp_path):
    result = runner.invoke(app, ["recipe", "--set", "sft.stepz=3"])
    assert result.exit_code == 2 and "stage 'sft': stepz: Extra inputs" in result.output
    result = runner.invoke(app, ["recipe", "--set", "rl.algo=sft"])
    assert (
        result.exit_code == 2
        and "rl.algo: choose a learning-from-rollouts algorithm" in result.output
    )


def test_recipe_checks_freeze_layers_before_training(tmp_path):
    args = ["recipe", "--model", "tiny", "--out", str(tmp_path), "--no-progress"]
    result = runner.invoke(app, args)  # the RL default freezes 20 layers; tiny has 2
    assert isinstance(result.exception, ValueError)
    assert "freeze_layers=20, but the model has 2 decoder layers" in str(result.exception)
    assert not (tmp_path / "sft" / "checkpoints").exists()  # failed before the SFT stage


def test_calendar_curriculum_config_fits_its_longest_oracle_episode_and_turn():
    """bench/recipe_calendar_lookup.toml: valid; max_tokens and max_new_tokens never cut the oracle."""
    import functools

    import gymnasium as gym

    from toolgym.llm.models import load_tokenizer
    from toolgym.settings import load_settings
    from toolgym.tokens.chat import ChatTokenizer
    from toolgym.train.algos.sft import turn_budget_warning
    from toolgym.train.data import oracle_trajectories

    config = load_settings(RecipeConfig, Path("bench/recipe_calendar_lookup.toml"))
    sft, rl = config.stage_configs()
    assert sft.env == rl.env == "toolgym/CalendarLookup-v0" and rl.algo == "grpo"
    assert rl.gradient_checkpointing
    chat = ChatTokenizer(load_tokenizer("smollm2-135m"))
    episodes = [
        episode
        for split in ("train", "test")
        for episode in oracle_trajectories(
            functools.partial(gym.make, config.env, split=split), chat
        )
    ]
    longest = max(len(episode.token_ids) for episode in episodes)
    assert 1000 < longest <= config.max_tokens, longest
    assert turn_budget_warning(episodes, 64) is not None  # SearchLookup's budget is far too small
    assert turn_budget_warning(episodes, config.max_new_tokens) is None


def test_calendar_more_sft_comparator_continues_the_recipes_sft_stage():
    """bench/calendar_lookup_more_sft.toml trains like the recipe's SFT stage, from its checkpoint."""
    from toolgym.settings import load_settings

    recipe = load_settings(RecipeConfig, Path("bench/recipe_calendar_lookup.toml"))
    sft, _ = recipe.stage_configs()
    more = load_settings(TrainConfig, Path("bench/calendar_lookup_more_sft.toml"))
    assert more.algo == "sft" and more.init == sft.out
    assert more.seed == recipe.seed + 1000  # a fresh task order, as recipe_sweep's stage two
    same = ("env", "tasks_per_step", "lr", "freeze_layers", "max_new_tokens", "max_tokens",
            "eval_tasks", "gradient_checkpointing")  # fmt: skip
    assert {f: getattr(more, f) for f in same} == {f: getattr(sft, f) for f in same}
