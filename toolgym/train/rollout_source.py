"""Where a run's training episodes are generated (``rollout.backend``), and how its weights get there.

- ``local``: the learner's own :class:`~toolgym.llm.sampler.HFPolicy` (cross-turn KV cache).
- ``server``: an inference server given token ids (``server_rollouts.py``); after each update
  :class:`~toolgym.train.server_rollouts.WeightPusher` has it load the new weights.
- ``ray``: :class:`~toolgym.train.ray_rollouts.RayCollector`'s actors, each a client of
  ``server_url`` when given (the weights pushed to the server as above), else holding its own
  model copy that is synced after each update.

With ``rollout.asynchronous`` the collector is wrapped in
:class:`~toolgym.train.async_rollouts.AsyncCollector`. :class:`RolloutSource` keeps the version
of the weights that generate now (the updates behind them), which every trajectory records.
Evaluations always use the learner's own policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from toolgym.tokens.chat import ChatTokenizer
from toolgym.train.async_rollouts import AsyncCollector
from toolgym.train.config import TrainConfig
from toolgym.train.server_rollouts import WeightPusher, adapter_sync, server_policy


class RolloutSource:
    """The collector of a run's training episodes and the sync of its weights."""

    def __init__(
        self,
        config: TrainConfig,
        make_collector: Callable[[Any], Any],
        chat: ChatTokenizer,
        policy: Any,
        next_request: Callable[[], tuple[Sequence[str], int, int] | None],
    ) -> None:
        """Build the collector ``config.rollout`` asks for.

        Args:
            config: The run's config.
            make_collector: The algorithm's collector around a token policy.
            chat: The learner's tokenizer (its stop ids).
            policy: The learner's own policy (``backend="local"``).
            next_request: The next step's ``(tasks, group_size, seed)`` (asynchronous only).
        """
        rollout = self.rollout = config.rollout
        self.version = 0
        self.weights: WeightPusher | None = None
        self.workers: Any = None  # the RayCollector
        collector: Any
        if rollout.backend == "ray":
            from toolgym.train.ray_rollouts import RayCollector  # ray: imported only when asked

            collector = self.workers = RayCollector(config)
        elif rollout.backend == "server":
            collector = make_collector(server_policy(config, chat.stop_ids))
        else:
            collector = make_collector(policy)
        if rollout.uses_server and rollout.weight_sync == "disk":
            assert rollout.server_url is not None
            adapter = rollout.lora_name if adapter_sync(config) else None
            self.weights = WeightPusher(rollout.server_url, config.out, adapter_name=adapter)
        if rollout.asynchronous:
            collector = AsyncCollector(collector, next_request, lambda: self.version,
                                       rollout.max_off_policy_steps)  # fmt: skip
        self.collector = collector

    def after_update(self, model: Any, step: int, adapter: Any = None) -> None:
        """The weights after ``step`` updates now generate (pushed to the server or the workers).

        Args:
            model: The learner's transformers model.
            step: Updates so far.
            adapter: The PeftModel around it in a LoRA run (what goes to a vLLM server).
        """
        if self.weights is not None:
            self.weights.push(model if self.weights.adapter_name is None else adapter, step)
        elif self.workers is not None and not self.rollout.uses_server:
            self.workers.sync(model, step)
        elif self.rollout.uses_server:
            return  # weight_sync="none": the server keeps the weights it started with
        self.version = step

    @property
    def counts(self) -> dict[str, int]:
        """Episodes dropped or replayed by the asynchronous prefetch and the Ray workers."""
        counts: dict[str, int] = {}
        for part in (self.collector, self.workers):
            counts |= getattr(part, "counts", {})
        return counts

    def close(self) -> None:
        """Wait for a prefetch in flight; stop the Ray workers."""
        if isinstance(self.collector, AsyncCollector):
            self.collector.close()
        if self.workers is not None:
            self.workers.close()
