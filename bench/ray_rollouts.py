"""Collector tokens/s of Ray rollout workers against the in-process collector, and the sync cost.

The same episodes (``--tasks`` x ``--group``, Search-v0 test tasks, sampling at the training
temperature) are played by the learner's own ``Collector`` and by ``RayCollector`` with 1 and
with ``--workers`` workers on a local Ray instance, interleaved (``server_rollouts.best_rates``).
The in-process collector uses all of this machine's torch threads; the workers split them. Then
the time of one weight sync (every tensor, as after a worker restart; and the trainable tensors,
as after each update) is reported.

    .venv/bin/python bench/ray_rollouts.py --model smollm2-135m
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import torch
from server_rollouts import best_rates

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.chat import ChatTokenizer
from toolgym.train.config import TrainConfig
from toolgym.train.ray_rollouts import RayCollector, model_tensors


def main() -> None:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", choices=["tiny", "smollm2-135m"])
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--group", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import ray

    cpus = os.cpu_count() or 1
    # Both pools (x1 and x``--workers``) stay up for the interleaved timing, each reserving every
    # core; they never generate at the same time, so Ray is told of twice the cores.
    ray.init(num_cpus=2 * cpus, include_dashboard=False, log_to_driver=False)
    model, tokenizer = models.load(args.model)
    chat = ChatTokenizer(tokenizer)
    fields = {"env": "toolgym/Search-v0", "model": args.model,
              "max_new_tokens": args.max_new_tokens}  # fmt: skip
    env = gym.make("toolgym/Search-v0", split="train")
    tasks = [t.id for t in env.unwrapped.tasks[: args.tasks]]  # type: ignore[attr-defined]
    config = TrainConfig(**fields)
    sampling = SamplingConfig(config.temperature, config.top_p, args.max_new_tokens)
    local = Collector(lambda: gym.make("toolgym/Search-v0", split="train"), chat,
                      HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, sampling),
                      progress=False)  # fmt: skip
    collectors: dict[str, object] = {"in-process": local}
    pools = {}
    for workers in sorted({1, args.workers}):
        rollout = {"backend": "ray", "workers": workers, "worker_cpus": cpus / workers}
        pool = pools[workers] = RayCollector(TrainConfig(**fields, rollout=rollout))
        pool.sync(model, 0)
        collectors[f"ray x{workers}"] = pool
    rates = best_rates(collectors, tasks, args.group, args.repeats)  # type: ignore[arg-type]
    base = rates.pop("in-process")
    batch = args.tasks * args.group
    print(f"{args.model}: in-process collector batch {batch} ({torch.get_num_threads()} threads): "
          f"{base:8.1f} tok/s")  # fmt: skip
    for name, rate in rates.items():
        print(f"{args.model}: {name:<7} batch {batch}: {rate:8.1f} tok/s ({rate / base:.2f}x)")
    pool = pools[args.workers]
    for every in (True, False):
        pool.model = None if every else model  # the first sync sends every tensor
        start = time.perf_counter()
        pool.sync(model, 1)
        count = len(model_tensors(model, every=every))
        print(f"{args.model}: sync to {args.workers} workers, "
              f"{'every' if every else 'trainable'} tensor ({count}): "
              f"{time.perf_counter() - start:.2f} s")  # fmt: skip
    for each in pools.values():
        each.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
