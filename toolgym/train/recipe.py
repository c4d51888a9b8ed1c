"""The GLM-4.5 recipe in one call: evaluate, SFT cold start, evaluate, RL (GRPO), evaluate.

``run_recipe(RecipeConfig())`` is the README's main job: SmolLM2-135M on the easy Search lookup
curriculum, sized for a 2-core CPU. Each stage is an ordinary :class:`Trainer` run in its own
folder under ``out`` (``sft/``, ``rl/``), so every stage's metrics, checkpoints, samples and
learning curve are there to inspect; ``summary.json`` and ``recipe.png`` sum the stages up.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from toolgym.settings import ConfigError, load_settings
from toolgym.train.config import ALGO_TABLES, TrainConfig, table_name
from toolgym.train.freezing import check_freeze
from toolgym.train.plot import plot_recipe

SHARED_FIELDS = ("env", "model", "seed", "eval_tasks", "max_new_tokens", "max_tokens")
# Measured by bench/recipe_sweep.py: 30 more SFT steps of 8 lifted the 2-step cold start from 53% to
# 84-94% held-out on 3 seeds, and Dr. GRPO with a turn cost was the RL setting that then added most.
SFT_DEFAULTS: dict[str, Any] = {"steps": 32, "tasks_per_step": 8, "lr": 5e-5, "freeze_layers": 20}
RL_DEFAULTS: dict[str, Any] = {
    "algo": "grpo",
    "steps": 4,
    "tasks_per_step": 4,
    "group_size": 4,
    "lr": 3e-5,
    "freeze_layers": 20,
    "temperature": 0.7,
    "rewards": {"completion": 1.0, "step_match": 0.25, "num_turns": -0.1},
    "aggregation": "constant",  # Dr. GRPO: sum over tokens / a constant, unscaled advantages
    "grpo": {"scale_rewards": False},
}
STAGE_DEFAULTS = {"sft": SFT_DEFAULTS, "rl": RL_DEFAULTS}


class RecipeConfig(BaseModel):
    """Shared settings, plus the TrainConfig fields of each stage (``sft`` and ``rl``)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    env: str = Field(default="toolgym/SearchLookup-v0", description="Gymnasium id of the env.")
    model: str = Field(default="smollm2-135m", description="smollm2-135m or tiny.")
    out: Path = Field(default=Path("runs/recipe"), description="Run directory of the recipe.")
    seed: int = Field(default=0, ge=0, description="Seed of every stage.")
    eval_tasks: int = Field(
        default=64,
        ge=1,
        description="Held-out test tasks per evaluation (64: all of SearchLookup's).",
    )
    max_new_tokens: int = Field(default=64, ge=1, description="Token budget per assistant turn.")
    max_tokens: int = Field(default=1400, ge=16, description="Token budget per episode.")
    sft: dict[str, Any] = Field(
        default_factory=dict,
        description="TrainConfig fields of the SFT cold start, over SFT_DEFAULTS (algo is sft).",
    )
    rl: dict[str, Any] = Field(
        default_factory=dict,
        description="TrainConfig fields of the RL stage, over RL_DEFAULTS (starts from SFT).",
    )

    @field_validator("sft", "rl", mode="after")
    @classmethod
    def _over_defaults(cls, fields: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Given stage fields update that stage's defaults (``--set sft.steps=3`` keeps the lr).

        A default algorithm table (the RL stage's ``grpo``) is dropped when ``algo`` is changed.
        """
        defaults = STAGE_DEFAULTS[info.field_name or ""]
        own_table = table_name(str(fields.get("algo", defaults.get("algo"))))
        kept = {k: v for k, v in defaults.items() if k not in ALGO_TABLES or k == own_table}
        return kept | fields

    def stage_configs(self) -> tuple[TrainConfig, TrainConfig]:
        """The two validated TrainConfigs: SFT, then RL initialised from SFT's checkpoint."""
        shared = {name: getattr(self, name) for name in SHARED_FIELDS}
        sft = _stage(
            "sft", shared | {"group_size": 1} | self.sft | {"algo": "sft", "out": self.out / "sft"}
        )
        rl = _stage("rl", shared | self.rl | {"init": self.out / "sft", "out": self.out / "rl"})
        if rl.algo == "sft":
            raise ValueError(
                "recipe rl.algo: choose a learning-from-rollouts algorithm "
                "(grpo, rloo, reinforce, ppo, rest, online-em, dagger, dpo)"
            )
        return sft, rl


class RecipeResult(BaseModel):
    """Held-out success before training, after SFT and after RL, on the same test tasks."""

    env: str
    eval_tasks: int
    base: float
    sft: float
    rl: float
    rl_algo: str
    plot: Path
    seconds: dict[str, float]

    def table(self) -> str:
        """The three success rates as a small text table."""
        n = self.eval_tasks
        rows = [
            ("before training", self.base),
            ("after SFT", self.sft),
            (f"after SFT + {self.rl_algo.upper()}", self.rl),
        ]
        lines = [f"held-out success on {n} {self.env} test tasks (greedy):"]
        lines += [f"  {name:<22} {round(rate * n):>3}/{n}  {rate:6.1%}" for name, rate in rows]
        return "\n".join(lines)


def run_recipe(config: RecipeConfig, *, progress: bool = True) -> RecipeResult:
    """Run the three evaluations and two training stages; writes ``summary.json`` and the plot."""
    from toolgym.train.loop import Trainer

    sft_config, rl_config = config.stage_configs()
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    sft = Trainer(sft_config, progress=progress)
    check_freeze(sft.model, rl_config.freeze_layers)  # fail now, not after the SFT stage
    base = sft.evaluate()["eval_success"]
    seconds["base_eval"] = time.perf_counter() - start
    start = time.perf_counter()
    after_sft = sft.run()["eval_success"]
    seconds["sft"] = time.perf_counter() - start
    del sft
    start = time.perf_counter()
    after_rl = Trainer(rl_config, progress=progress).run()["eval_success"]
    seconds["rl"] = time.perf_counter() - start
    eval_tasks = min(config.eval_tasks, _test_task_count(config.env))
    plot = plot_recipe(
        config.out / "sft" / "metrics.jsonl",
        config.out / "rl" / "metrics.jsonl",
        (base, after_sft, after_rl),
        config.out / "recipe.png",
        eval_tasks,
        title=f"{config.model} on {config.env}",
    )
    result = RecipeResult(
        env=config.env,
        eval_tasks=eval_tasks,
        base=base,
        sft=after_sft,
        rl=after_rl,
        rl_algo=rl_config.algo,
        plot=plot,
        seconds=seconds,
    )
    (config.out / "summary.json").write_text(
        json.dumps(result.model_dump(mode="json"), indent=2) + "\n"
    )
    return result


def _stage(name: str, fields: dict[str, Any]) -> TrainConfig:
    """The TrainConfig of stage ``name``; a bad field is reported as ``recipe stage 'rl': ...``."""
    try:
        return load_settings(TrainConfig, flags=fields, flag_names=dict.fromkeys(fields, ""))
    except ConfigError as exc:
        raise ValueError(f"recipe stage {name!r}: {exc}") from None


def _test_task_count(env_id: str) -> int:
    import gymnasium as gym

    return len(gym.make(env_id, split="test").unwrapped.tasks)  # type: ignore[attr-defined]
