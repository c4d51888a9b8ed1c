"""The one typed training config: a TOML file, CLI overrides, validated with messages that say how to fix.

``TrainConfig`` holds the settings every algorithm reads (model, sampling, optimizer, schedule,
the clipped policy-gradient terms shared by GRPO/RLOO/REINFORCE/PPO, evaluation) and one table per
algorithm with settings of its own (``ppo.clip_value``, ``dpo.beta``, ...). A table is named after
its algorithm (``-`` -> ``_``) and may be set only when that algorithm runs; a run's
``config.json`` holds the running algorithm's table only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from toolgym.settings import load_settings
from toolgym.tracking.config import LogConfig
from toolgym.users.config import UserConfig

Aggregation = Literal["token_mean", "sequence_mean", "constant"]
MICRO_BATCHED = ("sft", "dagger", "grpo", "rloo", "reinforce")  # algos that read micro_batch_size
Algo = Literal["sft", "grpo", "rloo", "reinforce", "ppo", "rest", "online-em", "dagger", "dpo"]
Schedule = Literal["constant", "linear", "cosine"]
Device = Literal["auto", "cpu", "cuda"]

# Flat field names of earlier configs -> where they live now (refused with this hint).
MOVED = {
    "sft_data": "sft.data",
    "scale_rewards": "grpo.scale_rewards",
    "std_ddof": "grpo.std_ddof",
    "gamma": "ppo.gamma",
    "lam": "ppo.lam",
    "vf_coef": "ppo.vf_coef",
    "value_clip": "ppo.clip_value",
    "critic": "ppo.critic",
    "kl_in_reward": "ppo.kl_in_reward",
    "whiten_advantages": "ppo.whiten_advantages",
    "rest_top_m": "rest.top_m",
    "em_t0": "online_em.t0",
    "em_alpha": "online_em.alpha",
    "em_eps": "online_em.eps",
    "em_baseline": "online_em.baseline",
    "em_off_policy": "online_em.off_policy",
    "em_clip": "online_em.clip",
    "dagger_batch": "dagger.batch",
    "dpo_beta": "dpo.beta",
    "dpo_data": "dpo.data",
}


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SFTConfig(_Table):
    """``algo=sft``: supervised fine-tuning on oracle trajectories or a file of conversations."""

    data: Path | None = Field(
        default=None,
        description='A JSONL of conversations ({"messages": [...], "tools"?: [...]}, OpenAI '
        "shape) to train on instead of the env's oracle trajectories; or trajectory rows (a "
        ".parquet file, a folder of them such as OUT/rollouts/, or a saved-trajectories .jsonl), "
        "whose token_ids and loss_mask train as they are (rows with success == true).",
    )
    min_reward: float | None = Field(
        default=None,
        description="Trajectory rows only: keep rows whose reward is at least this instead of "
        "the successful ones.",
    )


class GRPOConfig(_Table):
    """``algo=grpo``: how a group's rewards become advantages (RLOO and REINFORCE have no knobs)."""

    scale_rewards: bool = Field(
        default=True, description="Divide by the group std (off = Dr. GRPO)."
    )
    std_ddof: int = Field(default=1, ge=0, le=1, description="Group std degrees of freedom.")


class PPOConfig(_Table):
    """``algo=ppo``: GAE over generated tokens and a clipped critic."""

    gamma: float = Field(default=1.0, ge=0, le=1, description="Discount over generated tokens.")
    lam: float = Field(default=0.95, ge=0, le=1, description="GAE lambda.")
    vf_coef: float = Field(default=0.5, ge=0, description="Value-loss weight.")
    clip_value: float = Field(default=0.2, gt=0, description="Value update clip range.")
    critic: Literal["shared", "separate"] = Field(
        default="shared", description="Value head on the policy body or on a copy."
    )
    kl_in_reward: float = Field(
        default=0.0, ge=0, description="Per-token KL-to-reference penalty in the reward."
    )
    whiten_advantages: bool = Field(
        default=True, description="Normalise advantages over the batch."
    )


class ReSTConfig(_Table):
    """``algo=rest``: which of each task's samples are kept."""

    top_m: int | None = Field(
        default=None,
        ge=1,
        description="Keep each task's m best samples with reward > 0 (unset: every success).",
    )


class OnlineEMConfig(_Table):
    """``algo=online-em``: the Robbins-Monro stepsizes and the importance weights."""

    t0: float = Field(default=0.0, ge=0, description="Stepsize (t + t0)^-alpha.")
    alpha: float = Field(default=0.6, gt=0.5, le=1, description="Stepsize exponent alpha.")
    eps: float = Field(default=1e-3, gt=0, description="Floor of M in G / M.")
    baseline: bool = Field(default=False, description="Subtract the moving average reward in G.")
    off_policy: bool = Field(
        default=False,
        description="Self-normalised importance weights pi/pi_old (for reused rollouts: "
        "epochs or minibatches > 1).",
    )
    clip: float | None = Field(default=None, gt=0, description="Cap each importance ratio at this.")


class DAggerConfig(_Table):
    """``algo=dagger``: fitting the aggregate of expert-labelled states."""

    batch: int = Field(
        default=8, ge=1, description="Labelled states per update over the aggregate."
    )


class DPOConfig(_Table):
    """``algo=dpo``: the preference loss and where its pairs come from."""

    beta: float = Field(default=0.1, gt=0, description="Inverse temperature beta.")
    data: Path | None = Field(
        default=None,
        description='A JSONL of pairs ({"chosen": {"messages": [...]}, "rejected": {...}}) to '
        "train on instead of best-vs-worst pairs from rollout groups; or trajectory rows (as "
        "sft.data): each group's highest- over lowest-reward row, where they differ.",
    )


LORA_TARGET = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoRAConfig(_Table):
    """LoRA adapters (peft; ``pip install toolgym[lora]``) instead of full fine-tuning."""

    r: int = Field(
        default=0,
        ge=0,
        description="Adapter rank; 0 trains every weight (no LoRA). With r > 0 only the adapters "
        "(and PPO's critic head) train and the reference is the model with its adapter off.",
    )
    alpha: float = Field(
        default=16.0, gt=0, description="Adapter scale numerator: updates scale by alpha / r."
    )
    dropout: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Dropout on the adapter input while training (0 keeps training log-probs "
        "equal to the sampler's).",
    )
    target: list[str] = Field(
        default_factory=lambda: list(LORA_TARGET),
        min_length=1,
        description="Names of the linear modules that get adapters (default: the attention and "
        "MLP projections of Llama-style models such as SmolLM2).",
    )


class TrainLogConfig(LogConfig):
    """``log`` of a training run: the trackers, and whether rollouts are saved as rows."""

    save_rollouts: bool = Field(
        default=False,
        description="Write each step's training episodes as trajectory rows to "
        "OUT/rollouts/step-NNNNNN.parquet (pip install toolgym[datasets]); sft.data and "
        "dpo.data read them back.",
    )


RolloutBackend = Literal["local", "server", "ray"]


class RolloutConfig(_Table):
    """Where training rollouts are generated: the learner's own model, or an inference server."""

    backend: RolloutBackend = Field(
        default="local",
        description="local: the learner's own model (HFPolicy, cross-turn KV cache); server: an "
        "inference server given token ids (SGLang, vLLM or `toolgym serve`), its weights "
        "updated after each step; ray: `workers` Ray actors play the episodes, each with its "
        "own model copy synced after each update, or as clients of server_url when given "
        "(pip install toolgym[ray]).",
    )
    server_url: str | None = Field(
        default=None,
        description="backend=server (or ray): the server's root, e.g. http://localhost:30000.",
    )
    protocol: Literal["vllm", "sglang"] = Field(
        default="sglang", description="The server's token-id protocol (`toolgym serve` has both)."
    )
    server_model: str = Field(
        default="default", description="The model name the server serves (vLLM's `model`)."
    )
    lora_name: str = Field(
        default="toolgym-policy",
        description="lora.r > 0 on a vLLM server: the name the trainer loads its adapter under "
        "(/v1/load_lora_adapter) and its rollouts ask for.",
    )
    max_concurrency: int = Field(default=64, ge=1, description="Server requests in flight at once.")
    weight_sync: Literal["disk", "none"] = Field(
        default="disk",
        description="disk: after each update save the weights under OUT/weights/ and have the "
        "server load them (full weights: SGLang /update_weights_from_disk; a LoRA adapter: vLLM "
        "/v1/load_lora_adapter; `toolgym serve` has both); none: the server keeps its weights "
        "(off-policy: for debugging).",
    )
    asynchronous: bool = Field(
        default=False,
        description="backend=server: generate step t+1's episodes while step t trains (they lag "
        "the learner by an update; the clipped ratio uses their stored behaviour log-probs).",
    )
    max_off_policy_steps: int = Field(
        default=1,
        ge=0,
        description="asynchronous: a prefetch more updates behind than this is dropped (counted "
        "in stale_episodes) and the step collects afresh.",
    )
    workers: int = Field(default=2, ge=1, description="backend=ray: rollout actors.")
    worker_cpus: float = Field(
        default=1.0, gt=0, description="backend=ray: CPUs Ray reserves for each worker."
    )
    worker_timeout: float = Field(
        default=600.0,
        gt=0,
        description="backend=ray: seconds a worker may take to play its block of a step; one "
        "that takes longer is killed and replaced.",
    )
    worker_retries: int = Field(
        default=1,
        ge=0,
        description="backend=ray: re-runs of a dead or hung worker's block (on its replacement) "
        "before its episodes are dropped (counted in worker_dropped_episodes).",
    )
    ray_address: str | None = Field(
        default=None,
        description="backend=ray: the cluster to join ('auto', 'ray://host:10001'); None "
        "starts a local Ray instance (or uses the one this process already started).",
    )

    @property
    def uses_server(self) -> bool:
        """Whether an inference server generates the episodes (backend server, or ray on one)."""
        return self.backend == "server" or (self.backend == "ray" and self.server_url is not None)


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
    device: Device = Field(
        default="auto",
        description="Where the learner trains: cpu, cuda (cuda:LOCAL_RANK under torchrun), or auto "
        "(the GPU when torch sees one).",
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
    micro_batch_size: int | None = Field(
        default=None,
        ge=1,
        description="Rows per forward/backward pass (gradient accumulation): a minibatch is "
        "computed in passes of at most N rows, longest first, each cut to its longest row, and "
        "their summed gradients make one optimizer step: the same update, with the activations of "
        f"N rows at a time. None: one pass. algo {', '.join(MICRO_BATCHED)} only.",
    )
    eps_low: float = Field(default=0.2, ge=0, description="Ratio clip below: 1 - eps_low.")
    eps_high: float = Field(default=0.2, ge=0, description="Ratio clip above: 1 + eps_high.")
    beta: float = Field(default=0.0, ge=0, description="k3 KL weight; 0 skips the reference model.")
    entropy_coef: float = Field(default=0.0, ge=0, description="Entropy bonus weight.")
    aggregation: Aggregation = Field(default="token_mean", description="Loss reduction.")
    sft: SFTConfig = Field(default_factory=SFTConfig, description="algo=sft only: its settings.")
    grpo: GRPOConfig = Field(
        default_factory=GRPOConfig, description="algo=grpo only: its settings."
    )
    ppo: PPOConfig = Field(default_factory=PPOConfig, description="algo=ppo only: its settings.")
    rest: ReSTConfig = Field(
        default_factory=ReSTConfig, description="algo=rest only: its settings."
    )
    online_em: OnlineEMConfig = Field(
        default_factory=OnlineEMConfig, description="algo=online-em only: its settings."
    )
    dagger: DAggerConfig = Field(
        default_factory=DAggerConfig, description="algo=dagger only: its settings."
    )
    dpo: DPOConfig = Field(default_factory=DPOConfig, description="algo=dpo only: its settings.")
    lora: LoRAConfig = Field(
        default_factory=LoRAConfig,
        description="LoRA adapters (e.g. --set lora.r=16 --set lora.alpha=32); r=0: full weights.",
    )
    rollout: RolloutConfig = Field(
        default_factory=RolloutConfig,
        description="Where training rollouts are generated (e.g. --set rollout.backend=server "
        "--set rollout.server_url=http://localhost:30000).",
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
    log: TrainLogConfig = Field(
        default_factory=TrainLogConfig,
        description="Experiment trackers besides metrics.jsonl (e.g. --set log.to=tensorboard), "
        "and rollouts saved as rows (--set log.save_rollouts=true).",
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_moved_and_foreign_tables(cls, data: Any) -> Any:
        """Refuse the old flat names (naming the new one) and tables of algorithms not running."""
        if not isinstance(data, Mapping):
            return data
        for old, new in MOVED.items():
            if old in data:
                raise ValueError(f"{old} moved: set {new}")
        algo = data.get("algo", cls.model_fields["algo"].default)
        for table in ALGO_TABLES:
            if table in data and table != table_name(str(algo)):
                raise ValueError(f"{table} is read by algo={table.replace('_', '-')!r} only "
                                 f"(algo={algo!r})")  # fmt: skip
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.algo in ("grpo", "rloo") and self.group_size < 2:
            raise ValueError(f"algo={self.algo} compares samples of a task: set group_size >= 2")
        if self.algo == "dpo" and self.dpo.data is None and self.group_size < 2:
            raise ValueError("algo=dpo pairs samples of a task: set group_size >= 2 (or dpo.data)")
        if self.micro_batch_size is not None and self.algo not in MICRO_BATCHED:
            raise ValueError(f"micro_batch_size is read by algo {', '.join(MICRO_BATCHED)} only "
                             f"(algo={self.algo!r}): remove it")  # fmt: skip
        if self.aggregation == "constant" and self.max_new_tokens <= 0:
            raise ValueError("aggregation='constant' divides by max_new_tokens: set it > 0")
        if self.lora.r and self.freeze_layers:
            raise ValueError(
                "freeze_layers and lora.r > 0 do not combine (LoRA already freezes every base "
                "weight): set freeze_layers=0, and lora.target to choose what trains"
            )
        rollout = self.rollout
        if rollout.backend == "server" and rollout.server_url is None:
            raise ValueError("rollout.backend='server' needs rollout.server_url (e.g. "
                             "--set rollout.server_url=http://localhost:30000)")  # fmt: skip
        if rollout.asynchronous and not rollout.uses_server:
            raise ValueError("rollout.asynchronous overlaps server generation with training: "
                             "set rollout.backend='server' (or 'ray' with rollout.server_url)")  # fmt: skip
        if rollout.uses_server:
            if rollout.weight_sync == "disk" and rollout.protocol == "vllm" and not self.lora.r:
                raise ValueError("vLLM's server has no route that loads full weights from disk: "
                                 "use rollout.protocol='sglang' (SGLang or `toolgym serve`), "
                                 "LoRA (lora.r > 0: vLLM loads adapters), or "
                                 "rollout.weight_sync='none'")  # fmt: skip
            if rollout.weight_sync == "disk" and rollout.protocol == "sglang" and self.lora.r:
                raise ValueError("with lora.r > 0 the trainer pushes its adapter through vLLM's "
                                 "/v1/load_lora_adapter: set rollout.protocol='vllm' (vLLM or "
                                 "`toolgym serve`)")  # fmt: skip
        return self

    @model_serializer(mode="wrap")
    def _running_table_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dumps (``config.json``) keep the running algorithm's table only, so they validate again."""
        data: dict[str, Any] = handler(self)
        for table in ALGO_TABLES:
            if table != table_name(self.algo):
                data.pop(table, None)
        return data


ALGO_TABLES = ("sft", "grpo", "ppo", "rest", "online_em", "dagger", "dpo")


def table_name(algo: str) -> str:
    """The TrainConfig table of ``algo``'s own settings (``online-em`` -> ``online_em``)."""
    return algo.replace("-", "_")


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """A TOML file (optional) under ``overrides`` (nested dicts or dotted keys; None: not given).

    Raises:
        ValueError: naming the file or the override each bad value came from, the field and the
            fix (:func:`toolgym.settings.load_settings`, as the command line reports it).
    """
    names = {key: f"override {key}" for key in overrides or {}}
    return load_settings(TrainConfig, path, flags=overrides, flag_names=names)
