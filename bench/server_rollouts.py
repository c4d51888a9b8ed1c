"""Collector tokens/s: ``ServerTokenPolicy`` over loopback ``toolgym serve`` vs in-process HFPolicy.

Both play the same episodes (``--tasks`` x ``--group`` = the batch, 8 by default) with the same
model and sampling; the server runs in a background thread of this process (uvicorn on 127.0.0.1)
and micro-batches the per-prefix requests. Prints one line per policy and the ratio.

    .venv/bin/python bench/server_rollouts.py --model smollm2-135m
"""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.llm.token_client import ServerTokenPolicy, TokenServerConfig
from toolgym.serve import background_server, create_app
from toolgym.tokens.chat import ChatTokenizer


def collector(chat: ChatTokenizer, policy: Any) -> Collector:
    """A collector of the benchmark's env."""
    make_env = lambda: gym.make("toolgym/Search-v0", split="test")  # noqa: E731
    return Collector(make_env, chat, policy, progress=False)


def best_rates(
    collectors: dict[str, Collector], tasks: list[str], group: int, repeats: int
) -> dict[str, float]:
    """Best collector tokens/s of each policy; one warm-up each, then the policies interleaved.

    Interleaving (a, b, c, a, b, c, ...) spreads the noise of a shared machine over all of them.
    """
    best = dict.fromkeys(collectors, 0.0)
    for each in collectors.values():
        each.collect(tasks, group, seed=99)  # warm-up: envs built, kernels and threads started
    for repeat in range(repeats):
        for name, each in collectors.items():
            rate = each.collect(tasks, group, seed=repeat)[1].tokens_per_second
            best[name] = max(best[name], rate)
    return best


def main() -> None:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="tiny", choices=["tiny", "smollm2-135m"])
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--group", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--temperature", type=float, default=0.0, help="0: identical streams")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model, tokenizer = models.load(args.model)
    chat = ChatTokenizer(tokenizer)
    env = gym.make("toolgym/Search-v0", split="test")
    tasks = [t.id for t in env.unwrapped.tasks[: args.tasks]]  # type: ignore[attr-defined]
    sampling = SamplingConfig(args.temperature, max_new_tokens=args.max_new_tokens)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    batch = args.tasks * args.group
    app = create_app(model, tokenizer, model_name=args.model)
    with background_server(app) as url:
        remotes = {
            protocol: ServerTokenPolicy(
                TokenServerConfig(
                    base_url=url.removesuffix("/v1"),
                    protocol=protocol,
                    model=args.model,
                    temperature=args.temperature,
                    max_new_tokens=args.max_new_tokens,
                ),
                chat.stop_ids,
            )
            for protocol in ("vllm", "sglang")
        }
        collectors = {"in-process": collector(chat, HFPolicy(model, chat.stop_ids, pad, sampling))}
        collectors |= {name: collector(chat, remote) for name, remote in remotes.items()}
        rates = best_rates(collectors, tasks, args.group, args.repeats)
        for remote in remotes.values():
            remote.close()
    local = rates.pop("in-process")
    print(f"{args.model}: in-process HFPolicy batch {batch}: {local:8.1f} tok/s")
    for name, rate in rates.items():
        print(
            f"{args.model}: server {name:<6} loopback batch {batch}: {rate:8.1f} tok/s "
            f"({rate / local:.2f}x in-process)"
        )


if __name__ == "__main__":
    main()
