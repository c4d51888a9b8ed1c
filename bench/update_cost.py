"""What one update costs, and what skipping flat groups and micro-batches change.

Side by side in one run, on the same batch, each setting's gradient checked against the update
computed over every row in one pass:

1. Flat groups. A group whose rewards are all equal has advantage 0 on every token; without a KL
   or entropy term its rows add nothing to the loss or the gradient, and ``policy_step`` leaves
   them out of the forward and backward pass (``pg.rows_with_gradient``). Timed for a share of
   flat groups from 0 to 1, against the loss over every row.
2. Micro-batches (``micro_batch_size``): the rows in passes of at most N rows, longest first,
   each cut to its longest row, gradients summed before the one step; no flat group.
3. The same for an SFT step (``sft_step``) on one episode per task, without activation
   checkpointing, as the recipe's SFT stage trains.

The batch: oracle episodes of ``--env``'s first ``--groups`` train tasks, ``--group-size`` copies
of each (the rows of a group), SmolLM2 with the bottom ``--freeze-layers`` layers frozen and
activation checkpointing, as ``bench/recipe_calendar_lookup.toml``'s RL stage trains.

    python bench/update_cost.py --groups 2 --group-size 2   # CalendarLookup on SmolLM2: ~10 min
    python bench/update_cost.py                        # 4 groups of 4, the recipe's RL batch
    python bench/update_cost.py --model tiny --env toolgym/SearchLookup-v0   # a smoke run
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time

import gymnasium as gym
import torch

import toolgym  # noqa: F401
from toolgym.llm import models
from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.scoring import score
from toolgym.tokens.trajectory import collate
from toolgym.train.algos.base import apply_gradients
from toolgym.train.algos.pg import PolicyLossConfig, policy_loss, policy_step
from toolgym.train.algos.sft import sft_step
from toolgym.train.data import oracle_trajectories
from toolgym.train.freezing import freeze_bottom


def full_step(model, optimizer, batch, advantages, config) -> None:
    """The update over every row (the flat ones included)."""
    model.train()
    scores = score(model, batch, config.temperature, entropy=True)
    loss, _ = policy_loss(scores.logprobs, scores.entropy, batch, advantages, config, None)
    apply_gradients(optimizer, loss, max_grad_norm=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m", choices=["smollm2-135m", "tiny"])
    parser.add_argument("--env", default="toolgym/CalendarLookup-v0")
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--freeze-layers", type=int, default=20)
    parser.add_argument(
        "--flat", type=int, nargs="*", help="flat-group counts to time (default: all; none: skip)"
    )
    parser.add_argument("--micro-batch-sizes", type=int, nargs="*", default=[1, 2],
                        help="micro_batch_size values to time (none: skip that table)")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=1, help="timed updates per setting (best)")
    args = parser.parse_args()

    torch.manual_seed(0)
    model, tokenizer = models.load(args.model)
    freeze_bottom(model, min(args.freeze_layers, len(model.base_model.layers) - 1))
    getattr(model, "activation_checkpointing_enable", model.gradient_checkpointing_enable)(
        {"use_reentrant": False}
    )
    chat = ChatTokenizer(tokenizer)
    task_ids = [t.id for t in gym.make(args.env).unwrapped.tasks[: args.groups]]
    episodes = oracle_trajectories(lambda: gym.make(args.env), chat, task_ids, max_tokens=4096)
    rows = [t for t in episodes for _ in range(args.group_size)]
    batch = collate(rows, tokenizer.pad_token_id)
    with torch.no_grad():  # on-policy: the behaviour log-probs are the model's own
        batch = dataclasses.replace(batch, old_logprobs=score(model.eval(), batch).logprobs)
    config = PolicyLossConfig()
    print(f"{args.env}: {args.groups} groups of {args.group_size}, "
          f"{int(batch.attention_mask.sum())} tokens, {int(batch.loss_mask.sum())} trained, "
          f"episodes of {[len(t) for t in episodes]} tokens")  # fmt: skip
    warm = copy.deepcopy(model)  # first-call costs (allocations, checkpointing set-up) not timed
    full_step(warm, torch.optim.SGD(warm.parameters(), lr=0.0), batch, batch.loss_mask, config)
    flat_groups_table(model, batch, config, args)
    micro_batch_table(model, batch, config, args)
    getattr(model, "activation_checkpointing_disable", model.gradient_checkpointing_disable)()
    sft_table(model, collate(episodes, tokenizer.pad_token_id), args)


def flat_groups_table(model, batch, config, args) -> None:
    """Skipping flat groups against the loss over every row, for 0 to all groups flat."""
    print("| flat groups | policy_step s (skips them) | every row s | ratio | same gradient |")
    print("|---|---|---|---|---|")
    for flat in args.flat if args.flat is not None else range(args.groups + 1):
        per_row = torch.cat([moving(args.group_size) * (g >= flat) for g in range(args.groups)])
        advantages = per_row[:, None] * batch.loss_mask
        seconds, same = time_both(model, (batch, advantages, config), policy_step, full_step, args)
        print_row(f"{flat}/{args.groups}", seconds, same)


def micro_batch_table(model, batch, config, args) -> None:
    """policy_step in passes of each micro_batch_size against one pass; no group flat."""
    print("\n| micro_batch_size | policy_step s | one pass s | ratio | same gradient |")
    print("|---|---|---|---|---|")
    advantages = moving(args.group_size).repeat(args.groups)[:, None] * batch.loss_mask
    for size in args.micro_batch_sizes:

        def in_passes(model, optimizer, batch, advantages, config, size=size):
            policy_step(model, optimizer, batch, advantages, config, micro_batch_size=size)

        seconds, same = time_both(model, (batch, advantages, config), in_passes, full_step, args)
        print_row(str(size), seconds, same)


def sft_table(model, batch, args) -> None:
    """sft_step in passes of each micro_batch_size against one pass."""
    print(f"\nSFT on {len(batch.input_ids)} episodes, no activation checkpointing")
    print("| micro_batch_size | sft_step s | one pass s | ratio | same gradient |")
    print("|---|---|---|---|---|")
    for size in args.micro_batch_sizes:

        def in_passes(model, optimizer, batch, size=size):
            sft_step(model, optimizer, batch, micro_batch_size=size)

        seconds, same = time_both(model, (batch,), in_passes, sft_step, args)
        print_row(str(size), seconds, same)


def moving(group_size: int) -> torch.Tensor:
    """One group's advantages with signal: +1, -1, ... (0 for an odd last row)."""
    return torch.tensor([1.0, -1.0] * (group_size // 2) + [0.0] * (group_size % 2))


def print_row(setting: str, seconds: list[float], same: bool) -> None:
    print(f"| {setting} | {seconds[0]:.2f} | {seconds[1]:.2f} | "
          f"{seconds[1] / seconds[0]:.2f}x | {same} |")  # fmt: skip


def time_both(model, inputs, first, second, args):
    """Best-of-``--repeats`` seconds of two updates (alternated) and whether their gradients agree."""
    seconds, grads = [float("inf")] * 2, [None, None]
    for _ in range(args.repeats):  # alternate, so drift on a shared machine hits both
        for i, step in enumerate((first, second)):
            trial = copy.deepcopy(model)
            trained = [p for p in trial.parameters() if p.requires_grad]
            optimizer = torch.optim.SGD(trained, lr=0.0)  # keeps the weights and the gradient
            start = time.perf_counter()
            step(trial, optimizer, *inputs)
            seconds[i] = min(seconds[i], time.perf_counter() - start)
            grads[i] = [p.grad for p in trained]
    same = all(torch.allclose(a, b, atol=1e-6, rtol=1e-4)
               for a, b in zip(grads[0], grads[1], strict=True))  # fmt: skip
    return seconds, same


if __name__ == "__main__":
    main()
