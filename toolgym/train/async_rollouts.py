"""Asynchronous rollouts: step t+1's episodes are generated while step t trains.

:class:`AsyncCollector` wraps a collector whose policy runs elsewhere (an inference server:
``rollout.backend="server"``, ``rollout.asynchronous=true``). Each ``collect`` returns the
episodes prefetched for exactly these tasks and seed if there are any, then starts collecting the
next step's (``next_request``) in a background thread, so generation overlaps the learner's update.
Those episodes are sampled by the weights the server held when they started (the server takes the
new weights mid-way; each token's behaviour log-prob is stored with it, so the clipped ratio
corrects for the lag). A prefetch more than ``max_off_policy_steps`` updates older than the
current weights is dropped (its episodes counted in ``stale_episodes``) and the step collects
afresh; so is one made for other tasks (``async_misses``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from toolgym.tokens.trajectory import Trajectory

Request = tuple[tuple[str, ...], int, int]  # tasks, group size, seed


@dataclass
class _Prefetch:
    request: Request
    version: int
    result: Future[tuple[list[Trajectory], Any]]


class AsyncCollector:
    """A collector that collects the next step's episodes while the current step trains."""

    def __init__(
        self,
        inner: Any,
        next_request: Callable[[], tuple[Sequence[str], int, int] | None],
        version: Callable[[], int],
        max_off_policy_steps: int = 1,
    ) -> None:
        """Wrap ``inner`` (a :class:`~toolgym.collector.Collector`).

        Args:
            inner: Plays the episodes; only the background thread calls it once prefetching runs.
            next_request: ``(tasks, group_size, seed)`` of the next step's rollout, or None at the
                end of the run.
            version: The version of the weights generating now (updates so far).
            max_off_policy_steps: Oldest prefetch used, in updates behind ``version()``.
        """
        self.inner, self.next_request, self.version = inner, next_request, version
        self.max_off_policy_steps = max_off_policy_steps
        self.counts = {"stale_episodes": 0, "async_hits": 0, "async_misses": 0}
        self._pending: _Prefetch | None = None

    def collect(
        self, task_ids: Sequence[str], group_size: int = 1, seed: int = 0
    ) -> tuple[list[Trajectory], Any]:
        """The episodes of ``task_ids`` (prefetched if they were), then prefetch the next step's."""
        request = (tuple(task_ids), group_size, seed)
        pending, self._pending = self._pending, None
        result = None
        if pending is not None:
            collected = pending.result.result()  # waits for the prefetch to finish
            lag = self.version() - pending.version
            if pending.request != request:
                self.counts["async_misses"] += 1
            elif lag > self.max_off_policy_steps:
                self.counts["stale_episodes"] += len(collected[0])
            else:
                self.counts["async_hits"] += 1
                for trajectory in collected[0]:
                    trajectory.policy_version = pending.version
                result = collected
        if result is None:
            version = self.version()
            result = self.inner.collect(task_ids, group_size, seed=seed)
            for trajectory in result[0]:
                trajectory.policy_version = version
        self._start_next()
        return result

    def close(self) -> None:
        """Wait for a prefetch in flight (its episodes are discarded)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result.exception()

    def _start_next(self) -> None:
        upcoming = self.next_request()
        if upcoming is None:
            return
        tasks, group_size, seed = upcoming
        future: Future[tuple[list[Trajectory], Any]] = Future()
        self._pending = _Prefetch((tuple(tasks), group_size, seed), self.version(), future)

        def work() -> None:
            try:
                future.set_result(self.inner.collect(tasks, group_size, seed=seed))
            except BaseException as exc:  # the step that takes it raises it
                future.set_exception(exc)

        threading.Thread(target=work, name="toolgym-prefetch", daemon=True).start()
