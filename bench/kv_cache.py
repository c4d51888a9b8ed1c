"""Cross-turn KV cache of ``HFPolicy``: multi-turn rollout speed with the cache off and on.

Streams grow as the Collector grows them: each round, one batched ``generate`` call over all
episodes, then each stream gets its generated tokens and an observation delta (the env's real
system prompt and task; a fixed tool-result message as the observation, since SmolLM2 greedy
answers often end an episode after one turn). Rows generate a fixed number of tokens (no stop
ids), so the raw ``model.generate`` baseline does the same work per round on the same prompts.

Reports generated tokens/s and prefill tokens per generated token, cache off vs on, side by side.
``--collector`` adds the real :class:`~toolgym.collector.Collector` on the env's test tasks (the
model's own answers, the env's own observations, the chat template's stop ids), cache off vs on,
with the mean turns per episode it reached: that is the trainer's rollout path itself.

Usage: python bench/kv_cache.py [--model smollm2-135m|tiny] [--batch 8] [--rounds 3]
       [--new-tokens 16] [--collector]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import torch

import toolgym  # noqa: F401
from toolgym.collector import Collector
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.env import TokenEnv

OBSERVATION = [{"role": "tool", "name": "list_events", "content": '{"events": [], "count": 0}'}]


def prompts(chat: ChatTokenizer, env_id: str, batch: int) -> list[list[int]]:
    """The first-turn token streams of ``batch`` episodes (tasks cycled)."""
    env = TokenEnv(gym.make(env_id, split="test"), chat, max_tokens=100_000)
    tasks = env.unwrapped.tasks
    streams = []
    for index in range(batch):
        env.reset(seed=index, options={"task_id": tasks[index % len(tasks)].id})
        streams.append(list(env.trajectory.token_ids))  # type: ignore[union-attr]
    return streams


def rollout(policy: HFPolicy, chat: ChatTokenizer, streams: list[list[int]], rounds: int) -> dict:
    """Play ``rounds`` turns; returns seconds, generated and prefill token counts."""
    delta = list(chat.observation_ids(OBSERVATION, chat.end_of_turn_id))
    start, generated, first = time.perf_counter(), 0, policy.prefill_tokens
    for _ in range(rounds):
        gens = policy.generate(streams)
        generated += sum(len(g.token_ids) for g in gens)
        streams = [s + list(g.token_ids) + delta for s, g in zip(streams, gens, strict=True)]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "generated": generated, "prefill": policy.prefill_tokens - first}


def raw_generate(model, tokenizer, streams: list[list[int]], new_tokens: int) -> dict:
    """One ``model.generate`` call on the first-turn prompts (batch, fixed length)."""
    width = max(map(len, streams))
    ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(p)) + p for p in streams])
    mask = (ids != tokenizer.pad_token_id).long()
    for row, stream in enumerate(streams):
        mask[row, width - len(stream) :] = 1
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            do_sample=True,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            top_p=1.0,
            top_k=0,
        )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "generated": (out.shape[1] - width) * len(streams), "prefill": 0}


def collector_rollout(model, chat: ChatTokenizer, env_id: str, batch: int, new_tokens: int,
                      kv: bool) -> dict:  # fmt: skip
    """The trainer's rollout path: ``Collector.collect`` over ``batch`` test tasks, one episode each."""
    config = SamplingConfig(temperature=0.0, max_new_tokens=new_tokens, seed=0, kv_cache=kv)
    policy = HFPolicy(model, chat.stop_ids, chat.tokenizer.pad_token_id, config)
    collector = Collector(lambda: gym.make(env_id, split="test"), chat, policy, progress=False)
    tasks = [task.id for task in gym.make(env_id, split="test").unwrapped.tasks][:batch]
    first = policy.prefill_tokens
    trajectories, stats = collector.collect(tasks)
    turns = sum(sum(s.role == "assistant" for s in t.segments) for t in trajectories)
    return {"seconds": stats.seconds["generate"], "generated": stats.generated_tokens,
            "prefill": policy.prefill_tokens - first, "turns": turns / len(trajectories),
            "tokens": [t.token_ids for t in trajectories]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", choices=["smollm2-135m", "tiny"])
    parser.add_argument("--env", default="toolgym/Calendar-v0")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--collector", action="store_true",
                        help="also time the real Collector (greedy, 128 new tokens a turn)")  # fmt: skip
    args = parser.parse_args()
    torch.manual_seed(0)
    model, tokenizer = models.load(args.model)
    chat = ChatTokenizer(tokenizer)
    streams = prompts(chat, args.env, args.batch)
    print(
        f"model {args.model}, {torch.get_num_threads()} threads, {args.env}, batch {args.batch}, "
        f"{args.rounds} rounds x {args.new_tokens} tokens, prompts {min(map(len, streams))}-"
        f"{max(map(len, streams))} tokens"
    )
    results = {}
    for name, kv in (("cache off", False), ("cache on", True)):
        config = SamplingConfig(max_new_tokens=args.new_tokens, seed=0, kv_cache=kv)
        policy = HFPolicy(model, stop_ids=(), pad_id=tokenizer.pad_token_id, config=config)
        results[name] = rollout(policy, chat, streams, args.rounds)
    results["model.generate (1 turn)"] = raw_generate(model, tokenizer, streams, args.new_tokens)
    print(f"{'':<24} {'tokens':>7} {'seconds':>8} {'tokens/s':>9} {'prefill/generated':>18}")
    for name, r in results.items():
        print(
            f"{name:<24} {r['generated']:>7} {r['seconds']:>8.2f} "
            f"{r['generated'] / r['seconds']:>9.1f} {r['prefill'] / r['generated']:>18.2f}"
        )
    off, on = results["cache off"], results["cache on"]
    speed = (on["generated"] / on["seconds"]) / (off["generated"] / off["seconds"])
    print(
        f"speed-up {speed:.2f}x, prefill per generated token down {off['prefill'] / on['prefill']:.2f}x"
    )
    if args.collector:
        collected = {kv: collector_rollout(model, chat, args.env, args.batch, 128, kv)
                     for kv in (False, True)}  # fmt: skip
        print(f"\nCollector.collect, {args.batch} test tasks, greedy (generate seconds only)")
        for kv, r in collected.items():
            print(
                f"cache {'on ' if kv else 'off'}: {r['generated']} tokens, {r['turns']:.2f} turns "
                f"per episode, {r['generated'] / r['seconds']:.1f} tokens/s, prefill/generated "
                f"{r['prefill'] / r['generated']:.2f}"
            )
        same = collected[False]["tokens"] == collected[True]["tokens"]
        off, on = collected[False], collected[True]
        print(
            f"speed-up {(on['generated'] / on['seconds']) / (off['generated'] / off['seconds']):.2f}x"
            f", identical greedy streams: {same}"
        )


if __name__ == "__main__":
    main()
