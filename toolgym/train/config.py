"""The one typed training config: a TOML file, CLI overrides, validated with messages that say how to fix."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from toolgym.users.config import UserConfig

Aggregation = Literal["token_mean", "sequence_mean", "constant"]
Algo = Literal["sft", "grpo", "rloo", "reinforce", "ppo", "rest", "online-em", "dagger", "dpo"]
Schedule = Literal["constant", "linear", "cosine"]


class TrainConfig(BaseModel):
    """Everything a training run needs. ``toolgym train --help`` lists the same fields."""

    model_config = ConfigDict(extra="forbid")

    env: str = Field(default="toolgym/Search-v0", description="Gymnasium id of a toolgym env.")
    algo: Algo = Field(
        default="grpo",
        description="sft, grpo, rloo, reinforce, ppo, rest, online-em, dagger or dpo.",
    )
    rewards: dict[str, float] | None = Field(
        default=None,
        description="Reward weights by component (default: the env spec's, i.e. outcome only). "
        "Add process rewards with e.g. {completion = 1.0, step_match = 0.1, toolrl = 0.05}.",
    )
    model: str = Field(default="smollm2-135m", description="smollm2-135m or tiny.")
    user: UserConfig = Field(
        default_factory=UserConfig,
        description="Simulated user of training and evaluation episodes: scripted, or an LLM user "
        "(e.g. --set user.kind=llm --set user.cache=runs/users.sqlite; fields of UserConfig).",
    )
    init: Path | None = Field(default=None, description="Start from this run's latest checkpoint.")
    sft_data: Path | None = Field(
        default=None,
        description='SFT only: a JSONL of conversations ({"messages": [...], "tools"?: [...]}, '
        "OpenAI shape) to train on instead of the env's oracle trajectories.",
    )
    out: Path = Field(default=Path("runs/latest"), description="Run directory.")
    steps: int = Field(
        default=50, ge=1, description="Iterations: rollout (or data), then the algorithm's updates."
    )
    tasks_per_step: int = Field(default=4, ge=1, description="Tasks per step (GRPO groups).")
    group_size: int = Field(
        default=8, ge=1, description="Samples per task: GRPO/RLOO/DPO groups, ReST's K (1 for SFT)."
    )
    max_new_tokens: int = Field(default=128, ge=1, description="Token budget per assistant turn.")
    max_tokens: int = Field(default=4096, ge=16, description="Token budget per episode.")
    temperature: float = Field(default=1.0, gt=0, description="Sampling temperature.")
    top_p: float = Field(default=1.0, gt=0, le=1, description="Nucleus sampling mass.")
    freeze_layers: int = Field(
        default=0,
        ge=0,
        description="Freeze the token embeddings (and a tied output head) and the first N decoder "
        "layers: the backward pass stops above them (cheaper on CPU). 0 trains everything.",
    )
    gradient_checkpointing: bool = Field(
        default=False, description="Recompute activations in backward: less memory, more time."
    )
    lr: float = Field(default=1e-5, gt=0, description="AdamW learning rate.")
    weight_decay: float = Field(default=0.0, ge=0, description="AdamW weight decay.")
    schedule: Schedule = Field(
        default="constant", description="Learning-rate schedule after warmup."
    )
    warmup_steps: int = Field(default=0, ge=0, description="Linear warmup steps.")
    max_grad_norm: float = Field(default=1.0, gt=0, description="Gradient clipping norm.")
    epochs: int = Field(default=1, ge=1, description="Passes over each rollout batch (PPO's K).")
    minibatches: int = Field(default=1, ge=1, description="Minibatches per epoch.")
    eps_low: float = Field(default=0.2, ge=0, description="Ratio clip below: 1 - eps_low.")
    eps_high: float = Field(default=0.2, ge=0, description="Ratio clip above: 1 + eps_high.")
    beta: float = Field(default=0.0, ge=0, description="k3 KL weight; 0 skips the reference model.")
    entropy_coef: float = Field(default=0.0, ge=0, description="Entropy bonus weight.")
    aggregation: Aggregation = Field(default="token_mean", description="Loss reduction.")
    scale_rewards: bool = Field(
        default=True, description="GRPO: divide by the group std (off = Dr. GRPO)."
    )
    std_ddof: int = Field(default=1, ge=0, le=1, description="GRPO: std degrees of freedom.")
    gamma: float = Field(
        default=1.0, ge=0, le=1, description="PPO: discount over generated tokens."
    )
    lam: float = Field(default=0.95, ge=0, le=1, description="PPO: GAE lambda.")
    vf_coef: float = Field(default=0.5, ge=0, description="PPO: value-loss weight.")
    value_clip: float = Field(default=0.2, gt=0, description="PPO: value update clip range.")
    critic: Literal["shared", "separate"] = Field(
        default="shared", description="PPO: value head on the policy body or on a copy."
    )
    kl_in_reward: float = Field(
        default=0.0, ge=0, description="PPO: per-token KL-to-reference penalty in the reward."
    )
    whiten_advantages: bool = Field(
        default=True, description="PPO: normalise advantages over the batch."
    )
    rest_top_m: int | None = Field(
        default=None,
        ge=1,
        description="ReST: keep each task's m best samples with reward > 0 (unset: every success).",
    )
    em_t0: float = Field(default=0.0, ge=0, description="Online EM: stepsize (t + t0)^-alpha.")
    em_alpha: float = Field(
        default=0.6, gt=0.5, le=1, description="Online EM: stepsize exponent alpha."
    )
    em_eps: float = Field(default=1e-3, gt=0, description="Online EM: floor of M in G / M.")
    em_baseline: bool = Field(
        default=False, description="Online EM: subtract the moving average reward in G."
    )
    em_off_policy: bool = Field(
        default=False,
        description="Online EM: self-normalised importance weights pi/pi_old (for reused "
        "rollouts: epochs or minibatches > 1).",
    )
    em_clip: float | None = Field(
        default=None, gt=0, description="Online EM: cap each importance ratio at this."
    )
    dagger_batch: int = Field(
        default=8, ge=1, description="DAgger: labelled states per update over the aggregate."
    )
    dpo_beta: float = Field(default=0.1, gt=0, description="DPO: inverse temperature beta.")
    dpo_data: Path | None = Field(
        default=None,
        description='DPO: a JSONL of pairs ({"chosen": {"messages": [...]}, "rejected": {...}}) '
        "to train on instead of best-vs-worst pairs from rollout groups.",
    )
    stop_after_no_signal: int = Field(
        default=5,
        ge=0,
        description="Stop after N steps in a row without reward signal (every group's rewards "
        "equal: nothing to learn); each such step logs a warning. 0 never stops.",
    )
    eval_every: int = Field(
        default=0, ge=0, description="Evaluate on the test split every N steps (0 = end only)."
    )
    eval_temperature: float = Field(
        default=0.0, ge=0, description="Sampling temperature of evaluations (0 = greedy)."
    )
    eval_tasks: int = Field(default=16, ge=1, description="Test tasks per evaluation.")
    checkpoint_every: int = Field(default=10, ge=1, description="Save a checkpoint every N steps.")
    seed: int = Field(default=0, ge=0, description="Seed of everything random in the run.")

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.algo in ("grpo", "rloo") and self.group_size < 2:
            raise ValueError(f"algo={self.algo} compares samples of a task: set group_size >= 2")
        if self.algo == "dpo" and self.dpo_data is None and self.group_size < 2:
            raise ValueError("algo=dpo pairs samples of a task: set group_size >= 2 (or dpo_data)")
        if self.sft_data is not None and self.algo != "sft":
            raise ValueError(f"sft_data is read by algo='sft' only (algo={self.algo!r})")
        if self.dpo_data is not None and self.algo != "dpo":
            raise ValueError(f"dpo_data is read by algo='dpo' only (algo={self.algo!r})")
        if self.aggregation == "constant" and self.max_new_tokens <= 0:
            raise ValueError("aggregation='constant' divides by max_new_tokens: set it > 0")
        return self


def load_config(path: Path | None, overrides: dict[str, object]) -> TrainConfig:
    """A TOML file (optional) updated with CLI overrides; errors name the field and the file."""
    data: dict[str, object] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the config: {exc}") from None
    data = deep_merge(data, {k: v for k, v in overrides.items() if v is not None})
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        where = f"{path}: " if path else ""
        raise ValueError(f"{where}invalid training config: {problems(exc)}") from None


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``extra``; nested tables merge key by key (``[user]`` + ``user.seed``)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def problems(exc: ValidationError) -> str:
    """A pydantic error as one line: each bad field and what is wrong with it."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors()
    )
