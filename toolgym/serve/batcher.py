"""``TokenBatcher``: micro-batches concurrent token-id requests into one ``HFPolicy`` call.

Requests that arrive less than ``window_s`` apart (or while a batch is running) and share
their sampling settings (temperature, top-p, stop ids) and model (the base or one LoRA adapter)
are generated together: one left-padded
batch, one prefill of the prefix they share, each row with its own token budget. This is what
makes one request per prefix over HTTP as fast as the collector's in-process batch. One
``HFPolicy`` is kept per sampling setting, so its state across calls (e.g. a cross-turn key/value
cache) serves the server too; each adapter has its own. A batch whose first request brings a seed reseeds that policy's
generator with it; otherwise the generator's stream continues. Generation holds the engine's
lock, so it never overlaps a chat-completions request on the same model.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.env import Generation

MAX_WAIT_WINDOWS = 20  # a batch waits at most this many windows for company
UNCAPPED = 1 << 30  # the per-row budgets of the requests are the only cap
JobKey = tuple[float, float, tuple[int, ...], str | None]


@dataclass(frozen=True)
class TokenJob:
    """One request: a prompt, its budget and its sampling settings."""

    prompt: tuple[int, ...]
    budget: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop_ids: tuple[int, ...] = ()
    seed: int | None = None
    adapter: str | None = None  # a loaded LoRA adapter's name (None: the base model)
    result: Future[Generation] = field(default_factory=Future, compare=False, repr=False)

    @property
    def key(self) -> JobKey:
        """Jobs with the same key can share a batch."""
        return self.temperature, self.top_p, self.stop_ids, self.adapter


class TokenBatcher:
    """A worker thread that generates queued jobs in batches."""

    def __init__(
        self,
        model: Any,
        pad_id: int,
        lock: threading.Lock,
        *,
        window_s: float = 0.005,
        max_batch: int = 64,
        adapters: Any = None,
    ) -> None:
        """Start nothing yet; the worker starts with the first job.

        Args:
            model: A transformers causal LM (eval mode).
            pad_id: Left-padding id.
            lock: Held while the model generates (shared with the chat engine).
            window_s: A batch closes once no job has arrived for this long (or after 20
                windows).
            max_batch: Most rows in one batch.
            adapters: The served LoRA adapters (:class:`~toolgym.serve.lora_routes.Adapters`),
                needed by jobs that name one.
        """
        self.model, self.pad_id, self.lock = model, pad_id, lock
        self.window_s, self.max_batch, self.adapters = window_s, max_batch, adapters
        self.batches = 0
        self._queue: queue.Queue[TokenJob] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._policies: dict[JobKey, HFPolicy] = {}

    async def generate(self, job: TokenJob) -> Generation:
        """Queue ``job`` and wait for its generation (raises what generation raised)."""
        self._ensure_worker()
        self._queue.put(job)
        return await asyncio.wrap_future(job.result)

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="toolgym-token-batcher", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            jobs = [self._queue.get()]
            deadline = time.monotonic() + MAX_WAIT_WINDOWS * self.window_s
            while len(jobs) < self.max_batch and time.monotonic() < deadline:
                try:  # gather until no request has come for a whole window
                    jobs.append(self._queue.get(timeout=self.window_s))
                except queue.Empty:
                    break
            groups: dict[JobKey, list[TokenJob]] = {}
            for job in jobs:
                groups.setdefault(job.key, []).append(job)
            for group in groups.values():
                self._run(group)

    def _run(self, jobs: Sequence[TokenJob]) -> None:
        first = jobs[0]
        try:
            policy = self._policy(first)
            if first.seed is not None:
                policy.generator.manual_seed(first.seed)
            with self.lock, self._model_of(first):
                generations = policy.generate(
                    [job.prompt for job in jobs], [job.budget for job in jobs]
                )
            self.batches += 1
        except Exception as exc:  # every waiting request gets the failure (HTTP 500)
            for job in jobs:
                job.result.set_exception(exc)
            return
        for job, generation in zip(jobs, generations, strict=True):
            job.result.set_result(generation)

    def _model_of(self, job: TokenJob) -> Any:
        """The context that generates with ``job``'s adapter (nothing for the base model)."""
        if job.adapter is None:
            return contextlib.nullcontext()
        return self.adapters.active(job.adapter)

    def _policy(self, job: TokenJob) -> HFPolicy:
        """The kept policy of ``job``'s sampling settings (budgets come per row)."""
        if job.key not in self._policies:
            config = SamplingConfig(job.temperature, job.top_p, max_new_tokens=UNCAPPED)
            self._policies[job.key] = HFPolicy(self.model, job.stop_ids, self.pad_id, config)
        return self._policies[job.key]
