"""The training loop: each step, the configured algorithm's update (``algos/``) -> schedule -> log.

The trainer keeps the run's plumbing (model, environments, collectors, evaluation, checkpoints,
logs, the reward-signal watch) and composes the algorithm of ``config.algo`` from
``algos.ALGORITHMS``, which says what it needs (a reference, a critic, its optimizer, its data).
``Trainer(config).run()`` writes a run directory: ``config.json``, ``metrics.jsonl`` (one line per
step, evaluations included), atomic checkpoints, ``learning_curve.png``. Everything random comes
from ``config.seed``; ``Trainer(config, resume=True)`` continues a killed run exactly.
With ``lora.r > 0`` only LoRA adapters train (``lora.py``); a finished run exports ``merged/``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
import logging
import math
import time
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.runlog import run_log
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Trajectory, collate
from toolgym.tracking import Trackers, open_trackers
from toolgym.train import checkpoint, lora
from toolgym.train import distributed as ddp
from toolgym.train.algos import ALGORITHMS
from toolgym.train.config import TrainConfig
from toolgym.train.freezing import freeze_bottom
from toolgym.train.plot import plot_learning_curve
from toolgym.train.rollout_source import RolloutSource
from toolgym.train.rollouts import (
    NoRewardSignal,
    Rollout,
    broken_counts,
    no_signal_advice,
    solved_advice,
    success_rate,
    without_broken_groups,
)
from toolgym.train.run_env import make_env, policy_as_user
from toolgym.trajectory_rows import ROLLOUTS, call_parser, remove_steps_after, save_rollouts

logger = logging.getLogger("toolgym")


class Trainer:
    """One training run (see the module docstring); satisfies the algorithms' ``Run``."""

    def __init__(self, config: TrainConfig, *, resume: bool = False, progress: bool = True) -> None:
        """Load the model, environments and optimizer; with ``resume`` restore the run's latest checkpoint."""
        self.config, self.progress = config, progress
        ddp.setup()  # under torchrun: join the learners (``distributed.py``)
        ddp.check_supported(config)
        torch.manual_seed(config.seed)
        self.model, self.tokenizer = models.load(config.model, seed=config.seed)  # type: ignore[arg-type]
        self.device = ddp.learner_device(config.device)
        self.model.to(self.device)  # the sampler, reference and critic follow the model's device
        if config.init is not None:
            lora.load_weights(self.model, config.init)  # a LoRA run's adapter merged in
        freeze_bottom(self.model, config.freeze_layers)
        if config.gradient_checkpointing:
            enable = getattr(  # the newer transformers name, else the older one
                self.model,
                "activation_checkpointing_enable",
                self.model.gradient_checkpointing_enable,
            )
            enable({"use_reentrant": False})
        self.chat = ChatTokenizer(self.tokenizer)
        self.user_backend = policy_as_user(config, self.model, self.tokenizer)
        self.lora = lora.apply(self.model, config.lora)  # the PeftModel, or None (full weights)
        ddp.sync_parameters(self.model)
        self.algorithm = ALGORITHMS[config.algo](config)
        self.reference = self._reference() if self.algorithm.needs.reference else None
        self.algorithm.build(self.model)
        ddp.sync_tensors(self.algorithm.parameters())  # PPO's critic head starts as rank 0's
        self.optimizer = self.algorithm.optimizer(self.model)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.policy = self._make_policy()
        self.rollouts = RolloutSource(
            config,
            lambda policy: self.algorithm.collector(lambda: self.env("train"), self.chat, policy),
            self.chat,
            self.policy,
            self._next_request,
        )
        self.collector = self.rollouts.collector
        self.eval_collector = Collector(lambda: self.env("test"), self.chat, self.policy,
                                        max_tokens=config.max_tokens, progress=False)  # fmt: skip
        self.train_tasks = self.algorithm.prepare(self) or self._env_tasks("train")
        self.episodes = 0  # env episodes consumed so far: rollouts and oracle demonstrations
        self.test_tasks = self._env_tasks("test")[: config.eval_tasks]
        self.order = np.random.default_rng(config.seed).permutation(len(self.train_tasks)).tolist()
        self.step, self.task_position = 0, 0
        self.flat_steps = 0  # steps in a row without reward signal
        self.out = config.out
        self.out.mkdir(parents=True, exist_ok=True)
        if resume:
            self._restore()
        elif ddp.is_main():
            (self.out / "metrics.jsonl").write_text("")
        if ddp.is_main():  # rank 0 alone writes the run directory
            (self.out / "config.json").write_text(config.model_dump_json(indent=2))
        self.trackers = (  # log.to: TensorBoard / wandb / MLflow get what metrics.jsonl gets
            open_trackers(config.log, self.out, config.model_dump(mode="json"),
                          self.step if resume else None)  # fmt: skip
            if ddp.is_main()
            else Trackers({})
        )
        self._after_update()  # a server or Ray workers start from the learner's weights

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        """Train to ``config.steps``, evaluating and checkpointing on the way; returns the final metrics.

        Warnings and errors (env errors with their tracebacks, steps without reward signal) also
        go to ``out/run.log``.
        """
        with run_log(self.out / "run.log") if ddp.is_main() else contextlib.nullcontext():
            try:
                return self._run()
            finally:
                self.rollouts.close()
                self.trackers.close()

    def _run(self) -> dict[str, Any]:
        bar = tqdm(
            range(self.step, self.config.steps),
            desc=f"{self.config.algo}",
            disable=not self.progress,
            initial=self.step,
            total=self.config.steps,
        )
        final: dict[str, Any] | None = None
        for _ in bar:
            try:
                metrics = self.train_step()
            except NoRewardSignal as stop:
                self._log({"step": self.step, "stopped": str(stop)})
                self._save()
                bar.close()
                raise
            final = None
            if self.config.eval_every and self.step % self.config.eval_every == 0:
                final = self.evaluate()
                metrics |= final
            self._log(metrics)
            shown = {k: metrics[k] for k in ("reward_mean", "loss") if k in metrics}
            bar.set_postfix({k.removesuffix("_mean"): f"{v:.3f}" for k, v in shown.items()})
            if self.step % self.config.checkpoint_every == 0 or self.step == self.config.steps:
                self._save()
        final = final or self.evaluate()
        self._log({"step": self.step, "final": True, **final})
        if ddp.is_main():
            plot_learning_curve(self.out / "metrics.jsonl", self.out / "learning_curve.png",
                                title=f"{self.config.algo} on {self.config.env}")  # fmt: skip
            self.trackers.log_image("learning_curve", self.out / "learning_curve.png", self.step)
        if (
            self.lora is not None and ddp.is_main()
        ):  # the run is over: merge the adapter, save a plain model
            lora.export(self.lora, self.tokenizer, self.out / "merged")
        return final

    def train_step(self) -> dict[str, Any]:
        """One iteration of the configured algorithm (``algos/``): its tasks, then its update."""
        start = time.perf_counter()
        tasks = self._next_tasks()
        metrics = self.algorithm.update(self, tasks)
        # An iteration without an update (ReST kept nothing, DPO found no pair) still advances
        # the schedule, which counts iterations; torch warns about that order.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step")
            self.scheduler.step()
        self.step += 1
        self._after_update()
        metrics = {
            "step": self.step,
            "lr": self.scheduler.get_last_lr()[0],
            **metrics,
            "episodes": self.episodes,
            "seconds": time.perf_counter() - start,
        }
        metrics |= self.rollouts.counts
        self._watch_signal(metrics)
        return metrics

    def _watch_signal(self, metrics: dict[str, Any]) -> None:
        """Warn on a step without reward signal; stop after ``stop_after_no_signal`` in a row.

        A flat step where every episode succeeded (the tasks are solved) is warned about but
        never stops the run: only runs that cannot learn are stopped.
        """
        if self.algorithm.has_signal(metrics):
            self.flat_steps = 0
            metrics["no_signal"] = 0.0
            return
        metrics["no_signal"] = 1.0
        if metrics.get("success", 0.0) >= 1.0:
            logger.warning("step %d: %s", self.step, solved_advice(metrics))
            return
        self.flat_steps += 1
        advice = no_signal_advice(self.flat_steps, metrics)
        logger.warning("step %d: %s", self.step, advice)
        limit = self.config.stop_after_no_signal
        if limit and self.flat_steps >= limit:
            self._log(metrics)
            raise NoRewardSignal(f"stopped at step {self.step}: {advice}")

    def evaluate(self) -> dict[str, Any]:
        """Success rate on the first ``eval_tasks`` test tasks (one sample each, at ``eval_temperature``).

        Under torchrun rank 0 plays them and every rank gets its result.
        """
        return ddp.broadcast(self._evaluate() if ddp.is_main() else {})

    def _evaluate(self) -> dict[str, Any]:
        self.model.eval()
        state, sampling = self.policy.generator.get_state(), self.policy.config
        self.policy.config = dataclasses.replace(sampling, temperature=self.config.eval_temperature)
        self.policy.generator.manual_seed(self.config.seed + 10_000)
        trajectories, _ = self.eval_collector.collect(
            self.test_tasks, group_size=1, seed=self.config.seed
        )
        self.policy.generator.set_state(state)
        self.policy.config = sampling
        self._save_samples(trajectories)
        broken = broken_counts(trajectories)
        return {
            "eval_success": success_rate(trajectories),
            "eval_tasks": len(trajectories) - sum(broken.values()),
            "eval_user_errors": broken["user_error"],
            "eval_env_errors": broken["env_error"],
        }

    def _save_samples(self, trajectories: list[Trajectory]) -> None:
        """Every evaluation episode, decoded (the text a person reads): ``samples/step-NNNNNN.jsonl``."""
        folder = self.out / "samples"
        folder.mkdir(exist_ok=True)
        lines, rows = [], []
        for traj in trajectories:
            turns = [
                self.tokenizer.decode(list(s.token_ids))
                for s in traj.segments
                if s.role == "assistant"
            ]
            row = {
                "task_id": traj.task_id,
                "success": success_rate([traj]),
                "reward": traj.total_reward,
                "end_reason": traj.end_reason,
                "assistant_turns": turns,
            }
            lines.append(json.dumps(row, ensure_ascii=False))
            rows.append(row | {"assistant_turns": "\n---\n".join(turns)})
        self.trackers.log_table("eval_samples", rows, self.step)
        (folder / f"step-{self.step:06d}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )

    def rollout(self, tasks: list[str], *, score_reference: bool = True) -> Rollout:
        """Sample ``group_size`` episodes per task with the current policy; score the reference."""
        self.model.eval()
        collected, stats = self._collect(tasks, self._rollout_seed(self.step))
        if not self.config.rollout.asynchronous:  # the prefetch stamps its own versions
            for trajectory in collected:
                trajectory.policy_version = self.rollouts.version
        if self.config.log.save_rollouts and ddp.is_main():  # OUT/rollouts/step-NNNNNN.parquet
            save_rollouts(self.out / ROLLOUTS, self.step + 1, collected, env=self.config.env,
                          algo=self.config.algo, model=self.config.model, tokenizer=self.tokenizer,
                          group_size=self.config.group_size, seed=self._rollout_seed(self.step),
                          parse=self._row_parser)  # fmt: skip
        self.episodes += len(collected)
        trajectories = without_broken_groups(collected, self.config.group_size)
        broken = broken_counts(collected)
        if not trajectories:
            raise RuntimeError(
                f"step {self.step + 1}: every group held an episode that ended in user_error "
                f"({broken['user_error']}: the user simulator's model failed after its retries) "
                f"or env_error ({broken['env_error']}: an exception escaped the env, traceback "
                "in the log); fix the cause, then --resume"
            )
        batch = collate(trajectories, self.tokenizer.pad_token_id, self.device)
        reference = None
        if self.reference is not None and score_reference:
            with torch.no_grad():
                reference = lora.reference_logprobs(self.reference, batch, self.config.temperature)
        rewards = torch.tensor([t.total_reward for t in trajectories], device=self.device)
        dropped = len(collected) - len(trajectories)
        return Rollout(
            trajectories, stats, batch, rewards, reference, time.perf_counter(), dropped, broken
        )

    # ------------------------------------------------------ rollout seams
    def _make_policy(self) -> Any:
        """The learner's own token policy: evaluations, and training rollouts when ``backend="local"``."""
        config = self.config
        seed = config.seed + 1_000_003 * ddp.rank()  # each learner samples its own episodes
        sampling = SamplingConfig(config.temperature, config.top_p, config.max_new_tokens, seed)
        return HFPolicy(self.model, self.chat.stop_ids, self.tokenizer.pad_token_id, sampling)

    def _next_request(self) -> tuple[list[str], int, int] | None:
        """The next step's rollout request (tasks, group size, seed), or None after the last."""
        if self.step + 1 >= self.config.steps:
            return None
        count, order = self.config.tasks_per_step, self.order
        positions = range(self.task_position, self.task_position + count)
        tasks = [self.train_tasks[order[p % len(order)]] for p in positions]
        return tasks, self.config.group_size, self._rollout_seed(self.step + 1)

    def _rollout_seed(self, step: int) -> int:
        return self.config.seed * 1_000_003 + step

    def _collect(self, tasks: list[str], seed: int) -> tuple[list[Trajectory], Any]:
        """``group_size`` episodes per task, grouped task by task, and the rollout stats.

        Under torchrun each rank plays its block of tasks (env seeds as one process's), then
        every rank gets all of them in order.
        """
        start, stop = ddp.task_block(len(tasks))
        part = self.collector.collect(tasks[start:stop], self.config.group_size, seed=seed + start)
        return ddp.gather_rollouts(*part)

    def _after_update(self) -> None:
        """Called once per step after the optimizer update: the server or workers get the weights."""
        self.rollouts.after_update(self.model, self.step, self.lora)

    # ------------------------------------------------------------- plumbing
    def env(self, split: str) -> gym.Env:
        """A fresh text-level env of the configured id: its user simulator and reward weights."""
        return make_env(self.config, split, self.user_backend)

    @functools.cached_property
    def _row_parser(self) -> Any:
        """Reads the calls of the rollout rows' assistant messages (the env's tool format)."""
        return call_parser(self.env("train").unwrapped)

    def _env_tasks(self, split: str) -> list[str]:
        return [t.id for t in self.env(split).unwrapped.tasks]  # type: ignore[attr-defined]

    def _next_tasks(self) -> list[str]:
        tasks = []
        for _ in range(self.config.tasks_per_step):
            tasks.append(self.train_tasks[self.order[self.task_position % len(self.order)]])
            self.task_position += 1
        return tasks

    def _lr_factor(self, step: int) -> float:
        config = self.config
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        if config.schedule == "linear":
            return max(0.0, 1.0 - progress)
        if config.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
        return 1.0

    def _reference(self) -> Any:
        """A frozen copy of the starting policy; with LoRA the model with its adapter off."""
        if self.lora is not None:
            return lora.DisabledAdapter(self.lora)  # the base itself: no second copy
        reference = copy.deepcopy(self.model).eval()
        for parameter in reference.parameters():
            parameter.requires_grad_(False)
        return reference

    def _log(self, metrics: dict[str, Any]) -> None:
        if not ddp.is_main():
            return
        with (self.out / "metrics.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(metrics) + "\n")
        self.trackers.log_metrics(metrics)

    def _save(self) -> None:
        rngs = ddp.rng_states(self.policy.generator)  # every rank's, under torchrun
        if not ddp.is_main():
            return
        checkpoint.save(
            self.out,
            self.step,
            {
                **lora.model_state(self.model, self.lora, self.config.init),  # or the adapter
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "sampling_rng": self.policy.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "step": self.step,
                "task_position": self.task_position,
                "episodes": self.episodes,
                **self.algorithm.state(),  # PPO's critic, DAgger's aggregate
                **rngs,
            },
        )

    def _restore(self) -> None:
        state = checkpoint.load_latest(self.out)
        if state is None:
            raise FileNotFoundError(f"{self.out} has no checkpoint to resume from")
        lora.restore(self.model, self.lora, state)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.policy.generator.set_state(state["sampling_rng"])
        torch.set_rng_state(state["torch_rng"])
        self.algorithm.restore(state)
        self.step, self.task_position = state["step"], state["task_position"]
        self.episodes = state.get("episodes", 0)  # absent from checkpoints of older runs
        ddp.restore_rngs(self.policy.generator, state)
        if ddp.is_main():
            checkpoint.truncate_metrics(self.out / "metrics.jsonl", self.step)
            remove_steps_after(self.out / ROLLOUTS, self.step)  # redone steps write theirs again
