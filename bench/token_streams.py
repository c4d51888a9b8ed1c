"""Token-stream benchmarks, side by side in one run.

(a) render + tokenise cost of one turn's observation delta at turns 1, 10 and 50, next to the naive
    way (re-render and re-tokenise the whole conversation, then diff). Goal: flat.
(b) Collector tokens/s vs raw ``model.generate`` at the same batch size, prompts and lengths.
    Goal: >= 0.8x.
(c) Share of rollout wall time spent in the env (parse / validate / execute / rewards) and in
    rendering. Goal: env < 5%.

Usage: python bench/token_streams.py [--model smollm2-135m|tiny] [--batch 8] [--new-tokens 64]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import torch

import toolgym  # noqa: F401
from toolgym.collector import Collector
from toolgym.formats import get_format
from toolgym.llm import models
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tooling import ToolCall


def render_cost(
    chat: ChatTokenizer, turns: tuple[int, ...] = (1, 10, 50), repeats: int = 20
) -> None:
    env = gym.make(
        "toolgym/Search-v0", limits={"max_turns": max(turns) + 1, "max_invalid_streak": 99}
    ).unwrapped
    messages, _ = env.reset(seed=0, options={"task_id": env.tasks[0].id})
    history = list(messages)
    call = get_format("hermes").render_calls(
        [ToolCall(name="search", arguments={"query": "founder", "k": 3})]
    )
    stop = chat.end_of_turn_id
    print("(a) observation delta: microseconds per turn (median of", repeats, "runs)")
    print(f"{'turn':>6} {'history tokens':>15} {'delta (toolgym)':>16} {'full re-render':>15}")
    for turn in range(1, max(turns) + 1):
        new, *_ = env.step(call)
        history += [{"role": "assistant", "content": call}, *new]
        if turn not in turns:
            continue
        delta = _median_us(lambda new=new: chat.observation_ids(new, stop), repeats)
        full = _median_us(
            lambda history=history: chat.encode(chat.render(history, add_generation_prompt=True)),
            max(3, repeats // 4),
        )
        size = len(chat.encode(chat.render(history)))
        print(f"{turn:>6} {size:>15} {delta:>16.0f} {full:>15.0f}")


def _median_us(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def generate_speed(model, tokenizer, chat: ChatTokenizer, batch: int, new_tokens: int) -> None:
    make = lambda: gym.make("toolgym/Search-v0", split="test", limits={"max_turns": 1})  # noqa: E731
    tasks = [t.id for t in make().unwrapped.tasks[:batch]]
    config = SamplingConfig(max_new_tokens=new_tokens, seed=0)
    policy = HFPolicy(
        model, stop_ids=(), pad_id=tokenizer.pad_token_id, config=config
    )  # fixed lengths
    collector = Collector(make, chat, policy, max_tokens=100_000, progress=False)
    collector.collect(tasks[:1])  # warm-up
    trajectories, stats = collector.collect(tasks)
    prompts = [list(t.segments[0].token_ids) for t in trajectories]
    width = max(map(len, prompts))
    ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(p)) + p for p in prompts])
    mask = (
        torch.arange(width)[None] >= torch.tensor([width - len(p) for p in prompts])[:, None]
    ).long()
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
    raw_seconds = time.perf_counter() - start
    raw_tokens = (out.shape[1] - width) * len(prompts)
    raw_rate, ours = raw_tokens / raw_seconds, stats.tokens_per_second
    print(
        f"\n(b) batch {len(prompts)}, prompts {min(map(len, prompts))}-{width} tokens, {new_tokens} new tokens each"
    )
    print(
        f"    model.generate      {raw_tokens:>6} tokens in {raw_seconds:7.2f} s = {raw_rate:8.1f} tokens/s (no log-probs)"
    )
    print(
        f"    toolgym Collector   {stats.generated_tokens:>6} tokens in {stats.seconds['total']:7.2f} s = {ours:8.1f} tokens/s (with log-probs, env steps)"
    )
    print(f"    ratio               {ours / raw_rate:.2f}x")


def env_share(model, tokenizer, chat: ChatTokenizer, batch: int, new_tokens: int) -> None:
    print("\n(c) share of rollout wall time (multi-turn episodes, sampling with stop tokens)")
    for env_id in ("toolgym/Search-v0", "toolgym/Files-v0"):
        make = lambda env_id=env_id: gym.make(env_id, split="test", limits={"max_turns": 3})  # noqa: E731
        tasks = [t.id for t in make().unwrapped.tasks[:batch]]
        policy = HFPolicy(
            model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(max_new_tokens=new_tokens)
        )
        _, stats = Collector(make, chat, policy, max_tokens=100_000, progress=False).collect(tasks)
        total = stats.seconds["total"]
        shares = {k: stats.seconds[k] / total for k in ("generate", "env", "render")}
        print(
            f"    {env_id:<20} rounds {stats.rounds}  total {total:6.2f} s  "
            + "  ".join(f"{k} {v:6.2%}" for k, v in shares.items())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", choices=["smollm2-135m", "tiny"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(0)
    model, tokenizer = models.load(args.model)
    chat = ChatTokenizer(tokenizer)
    print(f"model {args.model}, {torch.get_num_threads()} threads\n")
    render_cost(chat)
    generate_speed(model, tokenizer, chat, args.batch, args.new_tokens)
    env_share(model, tokenizer, chat, args.batch, args.new_tokens)


if __name__ == "__main__":
    main()
