"""Fuzz benchmark: hostile assistant messages against every registered toolgym env, both formats.

Usage: python bench/fuzz.py [--actions 1000000] [--workers N] [--seed 0] [--envs ID ...]
                            [--max-seconds S] [--json out.json]

Each worker builds its own envs (``gym.make(id, format=...)`` for hermes and glm) and plays a
deterministic slice of the actions (seeded by ``--seed`` and the worker's index), spread evenly
over the (env, format) pairs: reset with a random seed (and half the time a random task id), step
until the episode ends, reset again. Actions come from ``bench/fuzz_cases.py``: random text,
``action_space.sample()``, the gold next message, mutated gold calls, hostile strings, numbers
and raw JSON in values and keys, many call blocks, broken tags, oversize and megabyte actions,
plain-text answers. It reports, per (env, format), per kind of action, and in total:

- exceptions escaping ``env.reset`` / ``env.step`` / ``env.expert_message``, a ``state_hash``
  of the env's state that fails (once per episode), or a step past ``--step-timeout`` (counted
  as ``StepTimeout``): the count, and each distinct one (type and innermost project frame) with
  a one-line repro of its first occurrence;
- corruptions: a turn that made no call, or whose every call was refused, yet changed the state
  hash (envs without a ``state``, e.g. BFCL, are checked for exceptions only);
- the slowest steps (``env.step`` only), steps/s, each worker's peak RSS (``ru_maxrss``), the
  largest rise of that peak during one step (every step), and the largest tracemalloc peak of
  one step over a ``--mem-sample`` share of steps (those steps are left out of the timings).

Exit status 1 when any exception escaped, any corruption was seen, or a worker died.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from fuzz_cases import Action, EnvContext, make_action, pick_kind
from fuzz_report import Recorder, Where, format_report, merge, signature

import toolgym  # noqa: F401  (registers the envs)
from toolgym.spaces import random_text
from toolgym.suite import state_hash

FORMATS = ("hermes", "glm")
Combo = tuple[str, str]  # (env id, format)


class StepTimeout(BaseException):
    """A step ran past ``--step-timeout`` (a BaseException: the env's ``except Exception`` misses it)."""


@dataclass(frozen=True)
class Config:
    """One fuzz run's settings (see ``--help``)."""

    actions: int = 1_000_000
    workers: int = 1
    seed: int = 0
    envs: tuple[str, ...] = ()
    max_seconds: float | None = None
    step_timeout: float = 60.0
    mem_sample: float = 0.01
    top: int = 10
    start_method: str = "fork"
    gc_freeze: bool = True


def env_ids(config: Config) -> list[str]:
    """The env ids to fuzz: ``--envs`` or every registered ``toolgym/`` id."""
    return list(config.envs) or sorted(e for e in gym.registry if e.startswith("toolgym/"))


def maxrss_kib() -> int:
    """This process's peak resident set size in KiB (Linux units)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise StepTimeout in this block after ``seconds`` (main thread only; 0 = no limit)."""
    armed = seconds > 0 and threading.current_thread() is threading.main_thread()
    if armed:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _on_alarm(signum: int, frame: Any) -> None:
    raise StepTimeout("step ran past --step-timeout")


def build(combo: Combo, rng: np.random.Generator) -> EnvContext:
    """A fresh env for ``combo`` with a seeded action space."""
    env = gym.make(combo[0], format=combo[1]).unwrapped
    env.action_space.seed(int(rng.integers(2**31)))
    return EnvContext.build(env)


def next_action(ctx: EnvContext, rng: np.random.Generator, rec: Recorder, where: Where) -> Action:
    """One generated action; a generator failure is recorded and replaced by random text."""
    kind = pick_kind(rng)
    try:
        return make_action(ctx, rng, kind)
    except Exception as exc:
        if kind == "expert":  # env.expert_message raised: an env failure
            rec.exception("expert_message", exc, where, None)
        else:
            key = signature(kind, exc)
            rec.data["generator_errors"][key] = rec.data["generator_errors"].get(key, 0) + 1
        return Action("random_text", "fallback", random_text(rng))


def hash_of(env: Any, rec: Recorder, where: Where, action: Action | None) -> str | None:
    """``state_hash(env.state)``; a failure is recorded (kind ``state_hash``) and gives None."""
    try:
        return state_hash(env.state)
    except Exception as exc:
        rec.exception("state_hash", exc, where, action)
        return None


def play_step(
    ctx: EnvContext, rng: np.random.Generator, rec: Recorder, where: Where, before: str | None,
    config: Config,
) -> tuple[bool, str | None]:  # fmt: skip
    """One step and its checks. ``before`` is the state hash (None: not checked).

    Returns whether the episode is over, and the state hash after the step (None: unchecked).
    """
    env = ctx.env
    action = next_action(ctx, rng, rec, where)
    episode = getattr(env, "episode", None)
    turns = len(episode.turns) if episode is not None else 0
    traced = bool(rng.random() < config.mem_sample)
    rss, failed = maxrss_kib(), False
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        with deadline(config.step_timeout):
            _, _, terminated, truncated, _ = env.step(action.text)
    except (Exception, StepTimeout) as exc:
        rec.exception("step", exc, where, action)
        failed = terminated = truncated = True
    seconds = time.perf_counter() - start
    if traced:
        rec.worst("traced_step", tracemalloc.get_traced_memory()[1] // 1024, where, action)
        tracemalloc.stop()
    rec.worst("rss_step", maxrss_kib() - rss, where, action)
    rec.step(where, action, None if traced else seconds)
    after = hash_of(env, rec, where, action) if before is not None and not failed else None
    episode = getattr(env, "episode", None)
    if after is not None and after != before and episode is not None and len(episode.turns) > turns:
        if all(not outcome.ok for outcome in episode.turns[-1].outcomes):
            rec.corruption(where, action)
    where.prior.append(action)
    where.turn += 1
    return bool(terminated or truncated), after


def play_episode(
    combo: Combo, envs: dict[Combo, EnvContext], rng: np.random.Generator, rec: Recorder,
    budget: dict[Combo, int], config: Config,
) -> None:  # fmt: skip
    """Reset ``combo``'s env and step it until the episode ends or the combo's budget is spent."""
    ctx = envs.get(combo) or envs.setdefault(combo, build(combo, rng))
    seed = int(rng.integers(2**31))
    task_id = str(ctx.env.tasks[int(rng.integers(len(ctx.env.tasks)))].id)
    where = Where(combo[0], combo[1], seed, task_id, by_id=bool(rng.random() < 0.5))
    rec.row("rows", f"{combo[0]} {combo[1]}")["episodes"] += 1
    try:
        with deadline(config.step_timeout):
            ctx.env.reset(seed=seed, options={"task_id": task_id} if where.by_id else None)
    except (Exception, StepTimeout) as exc:
        rec.exception("reset", exc, where, None)
        budget[combo] -= 1  # a failed reset uses one action, so a broken env cannot loop forever
        envs.pop(combo, None)  # and it is built afresh next time
        return
    where.task_id = str(ctx.env.task.id)
    state = hash_of(ctx.env, rec, where, None) if hasattr(ctx.env, "state") else None
    while budget[combo] > 0:
        budget[combo] -= 1
        done, state = play_step(ctx, rng, rec, where, state, config)
        if done:
            return


def run_worker(config: Config, worker: int) -> dict[str, Any]:
    """Play worker ``worker``'s deterministic slice of the actions; its counters."""
    rng = np.random.default_rng([config.seed, worker])
    rec = Recorder(worker, config.top)
    combos = [(e, f) for e in env_ids(config) for f in FORMATS]
    share = config.actions // config.workers + int(worker < config.actions % config.workers)
    shift = worker % len(combos)  # the remainders fall on different combos in each worker
    combos = combos[shift:] + combos[:shift]
    budget = {c: share // len(combos) + int(i < share % len(combos)) for i, c in enumerate(combos)}
    envs: dict[Combo, EnvContext] = {combo: build(combo, rng) for combo in combos}
    if config.gc_freeze:  # what a long-lived trainer would do once its envs are built
        gc.collect()
        gc.freeze()
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, _on_alarm) if on_main else None
    start = time.perf_counter()
    try:
        while any(b > 0 for b in budget.values()):
            if config.max_seconds is not None and time.perf_counter() - start > config.max_seconds:
                rec.data["stopped_early"] = True
                break
            play_episode(max(combos, key=budget.__getitem__), envs, rng, rec, budget, config)
    finally:
        if on_main:
            signal.signal(signal.SIGALRM, previous)
    rec.data["workers"].append(
        {"worker": worker, "actions": rec.index, "wall_s": time.perf_counter() - start,
         "peak_rss_mib": maxrss_kib() / 1024}
    )  # fmt: skip
    return rec.data


def run_fuzz(config: Config) -> dict[str, Any]:
    """Run the fuzz (in this process when ``workers`` is 1) and return the merged report."""
    start, crashed = time.perf_counter(), ""
    if config.workers <= 1:
        parts = [run_worker(config, 0)]
    else:
        context = multiprocessing.get_context(config.start_method)
        with ProcessPoolExecutor(config.workers, mp_context=context) as pool:
            futures = [pool.submit(run_worker, config, w) for w in range(config.workers)]
            parts = []
            for future in futures:
                try:
                    parts.append(future.result())
                except BrokenProcessPool as exc:
                    crashed = f"a worker died: {exc}"
    report = merge(parts, config.top)
    wall = time.perf_counter() - start
    rows = report["rows"].values()
    timed, step_s = sum(r["timed_steps"] for r in rows), sum(r["step_s"] for r in rows)
    report |= {
        "config": asdict(config),
        "wall_s": wall,
        "actions": sum(r["actions"] for r in rows),
        "actions_per_s": sum(r["actions"] for r in rows) / wall if wall else 0.0,
        "steps_per_s_in_step": timed / step_s if step_s else 0.0,
        "exceptions_total": sum(r["exceptions"] + r["hash_failures"] for r in rows),
        "corruptions_total": sum(r["corruptions"] for r in rows),
        "peak_rss_mib": max((w["peak_rss_mib"] for w in report["workers"]), default=0.0),
        "worker_crash": crashed,
    }
    bad = report["exceptions_total"] or report["corruptions_total"] or crashed
    report["exit_code"] = 1 if bad else 0
    return report


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run, print the tables, write ``--json``; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--envs", nargs="+", default=[], help="env ids (default: all toolgym/)")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop each worker then")
    parser.add_argument("--step-timeout", type=float, default=60.0, help="seconds; 0 = none")
    parser.add_argument("--mem-sample", type=float, default=0.01, help="share of traced steps")
    parser.add_argument("--top", type=int, default=10, help="slowest steps and examples kept")
    parser.add_argument("--start-method", default="fork", choices=["fork", "forkserver", "spawn"])
    parser.add_argument(
        "--no-gc-freeze", dest="gc_freeze", action="store_false",
        help="keep the built envs in the cyclic GC's reach (its full collections then pause "
        "ordinary steps for 0.1 s and more)",
    )  # fmt: skip
    parser.add_argument("--json", help="write the whole report here")
    args = parser.parse_args(argv)
    config = Config(
        args.actions, max(1, args.workers), args.seed, tuple(args.envs), args.max_seconds,
        args.step_timeout, args.mem_sample, args.top, args.start_method, args.gc_freeze,
    )  # fmt: skip
    report = run_fuzz(config)
    print(format_report(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
    return int(report["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
