"""Ray rollout workers (``rollout.backend="ray"``): ``rollout.workers`` actors play a step's episodes.

Each :class:`RolloutWorker` owns its envs and a token policy: a client of ``rollout.server_url``
when one is given (the learner pushes its weights to that server), else its own copy of the model,
synced by version: after each update the learner puts its trainable tensors (every tensor the
first time and for a replacement worker) in Ray's object store once and every worker loads them
before it plays again.

:meth:`RayCollector.collect` has the same signature and result as
:meth:`toolgym.collector.Collector.collect`: the tasks are split into contiguous blocks (whole
groups), one per worker, with the env seeds one collector would use (``seed`` + the block's first
task), and the blocks' trajectories come back in task order with the stats merged. A block's
sampling is seeded from the run seed and its env seed alone, so re-playing it replays the same
episodes.

A worker that dies (its process killed, out of memory) or does not answer within
``rollout.worker_timeout`` (playing its block; starting and loading weights get
:data:`START_TIMEOUT_S`) is killed and replaced by a fresh actor that gets the current weights and
re-plays the block, up to ``rollout.worker_retries`` times; after that the block's episodes are
dropped for this step (``worker_dropped_episodes``). Replacements are counted in
``worker_restarts``. Only a step whose every block was dropped fails. An exception raised by the
episode code itself is a bug, not a lost worker: it propagates with its traceback.

ray is an optional dependency (``pip install toolgym[ray]``), imported only by this module, which
only ``rollout.backend="ray"`` imports.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from toolgym.collector import RolloutStats
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.trajectory import Trajectory
from toolgym.train import lora
from toolgym.train.algos import ALGORITHMS
from toolgym.train.config import TrainConfig
from toolgym.train.distributed import task_block
from toolgym.train.run_env import make_env, policy_as_user
from toolgym.train.server_rollouts import server_policy

logger = logging.getLogger("toolgym")

INSTALL_HINT = "rollout.backend='ray' needs ray: pip install toolgym[ray]"

START_TIMEOUT_S = 600.0
"""How long a worker may take to start (imports, model load) or to load weights."""


def _ray() -> Any:
    """The ray module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return ray


def block_sampling_seed(run_seed: int, env_seed: int) -> int:
    """The sampling seed of the block whose first task's env seed is ``env_seed``."""
    return int(np.random.SeedSequence([run_seed, env_seed]).generate_state(1)[0])


class RolloutWorker:
    """One rollout actor's state: the run's envs, a token policy and (without a server) a model."""

    def __init__(self, config: TrainConfig, threads: int = 1) -> None:
        """Build what the learner builds for rollouts, in this process.

        The model is loaded as the learner loads it (``init``, then the LoRA adapters); the
        learner's first :meth:`load` overwrites its tensors anyway.
        """
        import toolgym  # noqa: F401  (registers the envs in this process)

        torch.set_num_threads(threads)
        self.config, self.version = config, -1
        self.model: Any = None
        if config.rollout.server_url is not None and config.user.model != "policy":
            tokenizer = models.load_tokenizer(config.model)  # type: ignore[arg-type]
        else:
            self.model, tokenizer = models.load(config.model, seed=config.seed)  # type: ignore[arg-type]
            if config.init is not None:
                lora.load_weights(self.model, config.init)
        user_backend = policy_as_user(config, self.model, tokenizer)
        self.chat = ChatTokenizer(tokenizer)
        policy: Any
        if config.rollout.server_url is not None:
            self.model = None  # the server generates; the copy served the user only
            policy = server_policy(config, self.chat.stop_ids)
        else:
            lora.apply(self.model, config.lora)  # the same parameter names as the learner's
            self.model.requires_grad_(False)
            sampling = SamplingConfig(config.temperature, config.top_p, config.max_new_tokens)
            policy = HFPolicy(self.model, self.chat.stop_ids, tokenizer.pad_token_id, sampling)
        self.policy = policy
        algorithm = ALGORITHMS[config.algo](config)
        self.collector = algorithm.collector(
            lambda: make_env(config, "train", user_backend), self.chat, policy
        )

    def ready(self) -> int:
        """This worker's process id (answered once the constructor has run)."""
        return os.getpid()

    def load(self, state: dict[str, torch.Tensor], version: int) -> int:
        """Copy ``state`` (some or all of the model's tensors) into the model; returns ``version``.

        Raises:
            KeyError: ``state`` names a tensor the model does not have.
        """
        unexpected = self.model.load_state_dict(state, strict=False).unexpected_keys
        if unexpected:
            raise KeyError(f"weights the worker's model does not have: {unexpected[:5]}")
        self.version = version
        return version

    def collect(
        self, task_ids: Sequence[str], group_size: int, seed: int
    ) -> tuple[list[Trajectory], RolloutStats]:
        """Play ``group_size`` episodes of each task, sampling seeded by the run and ``seed``."""
        if isinstance(self.policy, HFPolicy):
            self.policy.generator.manual_seed(block_sampling_seed(self.config.seed, seed))
        trajectories, stats = self.collector.collect(task_ids, group_size, seed=seed)
        for trajectory in trajectories:
            trajectory.policy_version = self.version
        return trajectories, stats


def model_tensors(model: Any, *, every: bool) -> dict[str, torch.Tensor]:
    """The tensors a worker needs to hold ``model``'s weights: all, or the trainable ones."""
    if every:
        return {name: t.detach().cpu() for name, t in model.state_dict().items()}  # workers: CPU
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


@dataclass
class _Job:
    worker: int
    tasks: list[str]
    seed: int
    ref: Any
    deadline: float
    attempts: int = 0


class RayCollector:
    """Plays a step's episodes on ``rollout.workers`` Ray actors (see the module docstring)."""

    def __init__(self, config: TrainConfig) -> None:
        """Start the workers (and a local Ray instance if none is running and no address is set).

        Raises:
            ImportError: ray is not installed.
            ValueError: the cluster has fewer CPUs than the workers ask for.
        """
        ray = self.ray = _ray()
        rollout = self.rollout = config.rollout
        self.config = config
        self.owns_ray = not ray.is_initialized()
        if self.owns_ray:
            ray.init(address=rollout.ray_address, include_dashboard=False)
        wanted, cpus = rollout.workers * rollout.worker_cpus, ray.cluster_resources().get("CPU", 0)
        if wanted > cpus:
            raise ValueError(
                f"rollout.workers={rollout.workers} x rollout.worker_cpus={rollout.worker_cpus} "
                f"needs {wanted:g} CPUs and the Ray cluster has {cpus:g}: lower either"
            )
        self.actor_class = ray.remote(num_cpus=rollout.worker_cpus, max_restarts=0)(RolloutWorker)
        self.threads = max(1, int(rollout.worker_cpus))
        self.workers = [self._spawn() for _ in range(rollout.workers)]
        ray.get([w.ready.remote() for w in self.workers], timeout=START_TIMEOUT_S)
        self.model: Any = None
        self.version = 0
        self.counts = {"worker_restarts": 0, "worker_dropped_episodes": 0}

    # ---------------------------------------------------------------- weights
    def sync(self, model: Any, version: int) -> None:
        """Every worker holds ``model``'s weights as of ``version`` updates before this returns."""
        first, self.model = self.model is None, model
        state = self.ray.put(model_tensors(model, every=first))
        loads = {i: w.load.remote(state, version) for i, w in enumerate(self.workers)}
        self.version = version
        for index, ref in loads.items():
            try:
                self.ray.get(ref, timeout=START_TIMEOUT_S)
            except self._lost_worker_errors() as exc:
                logger.warning("rollout worker %d lost while loading weights (%s): replacing it",
                               index, type(exc).__name__)  # fmt: skip
                self._replace(index)

    # ---------------------------------------------------------------- episodes
    def collect(
        self, task_ids: Sequence[str], group_size: int = 1, seed: int = 0
    ) -> tuple[list[Trajectory], RolloutStats]:
        """Play ``group_size`` episodes of each task on the workers; grouped task by task."""
        tasks = list(task_ids)
        jobs = []
        for index in range(len(self.workers)):
            start, stop = task_block(len(tasks), len(self.workers), index)
            if stop > start:
                jobs.append(self._submit(_Job(index, tasks[start:stop], seed + start, None, 0.0),
                                         group_size))  # fmt: skip
        results: dict[int, tuple[list[Trajectory], RolloutStats]] = {}
        pending = list(jobs)
        while pending:
            timeout = max(0.0, min(job.deadline for job in pending) - time.monotonic())
            ready, _ = self.ray.wait([job.ref for job in pending], num_returns=1, timeout=timeout)
            still = []
            for job in pending:
                if job.ref in ready:
                    try:
                        results[job.worker] = self.ray.get(job.ref)
                        continue
                    except self._lost_worker_errors() as exc:
                        reason = type(exc).__name__
                elif time.monotonic() >= job.deadline:
                    reason = f"no answer in {self.rollout.worker_timeout:g} s"
                else:
                    still.append(job)
                    continue
                if self._retry(job, reason, group_size):
                    still.append(job)
            pending = still
        if not results:
            raise RuntimeError(
                f"every rollout worker failed on its block of the step {self.rollout.worker_retries + 1} "
                "time(s) (dead or over rollout.worker_timeout); see the log's warnings"
            )
        parts = [results[job.worker] for job in jobs if job.worker in results]
        trajectories = [t for part, _ in parts for t in part]
        return trajectories, RolloutStats.merged([stats for _, stats in parts])

    def close(self) -> None:
        """Stop the workers (and the local Ray instance this collector started)."""
        for worker in self.workers:
            self.ray.kill(worker, no_restart=True)
        self.workers = []
        if self.owns_ray:
            self.ray.shutdown()

    # ---------------------------------------------------------------- plumbing
    def _spawn(self) -> Any:
        return self.actor_class.remote(self.config, self.threads)

    def _submit(self, job: _Job, group_size: int) -> _Job:
        job.ref = self.workers[job.worker].collect.remote(job.tasks, group_size, job.seed)
        job.deadline = time.monotonic() + self.rollout.worker_timeout
        return job

    def _retry(self, job: _Job, reason: str, group_size: int) -> bool:
        """Replace the job's worker; re-submit the job, or drop it when out of retries."""
        job.attempts += 1
        retry = job.attempts <= self.rollout.worker_retries
        logger.warning("rollout worker %d lost its block of %d task(s) (%s): replacing it; %s",
                       job.worker, len(job.tasks), reason,
                       "re-playing the block" if retry else "its episodes are dropped")  # fmt: skip
        self._replace(job.worker)
        if not retry:
            self.counts["worker_dropped_episodes"] += len(job.tasks) * group_size
            return False
        self._submit(job, group_size)
        return True

    def _replace(self, index: int) -> None:
        """Kill worker ``index`` and start a fresh one holding the current weights."""
        self.ray.kill(self.workers[index], no_restart=True)
        worker = self.workers[index] = self._spawn()
        self.counts["worker_restarts"] += 1
        self.ray.get(worker.ready.remote(), timeout=START_TIMEOUT_S)
        if self.model is not None and not self.rollout.uses_server:
            state = self.ray.put(model_tensors(self.model, every=True))
            self.ray.get(worker.load.remote(state, self.version), timeout=START_TIMEOUT_S)

    def _lost_worker_errors(self) -> tuple[type[BaseException], ...]:
        """The errors that mean a worker is gone, not that the episode code raised."""
        errors = self.ray.exceptions
        return (errors.RayActorError, errors.WorkerCrashedError, errors.OutOfMemoryError,
                errors.GetTimeoutError, errors.ObjectLostError)  # fmt: skip
