"""Environment throughput with the oracle policy: steps/s, per-step phase split, reset time.

Usage: python bench/env_throughput.py [--repeats 5] [--format hermes]

For every bundled env, plays the oracle on every task of both splits ``repeats`` times and reports
the median and p90 microseconds per step (whole ``step`` call) and per phase (parse / validate /
execute / render+reward), the median reset time, and steps per second. Goals: median step < 1 ms,
reset < 5 ms on the CI CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym

import toolgym  # noqa: F401
from toolgym.policies import OraclePolicy
from toolgym.registry import registered_specs

PHASES = ("parse", "validate", "execute", "render")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_env(env_id: str, repeats: int, tool_format: str) -> dict[str, float]:
    step_us: list[float] = []
    phase_us: dict[str, list[float]] = {p: [] for p in PHASES}
    reset_us: list[float] = []
    total_steps, total_time = 0, 0.0
    for split in ("train", "test"):
        env = gym.make(env_id, split=split, format=tool_format).unwrapped
        for _ in range(repeats):
            for task in env.tasks:
                start = time.perf_counter()
                env.reset(seed=0, options={"task_id": task.id})
                reset_us.append((time.perf_counter() - start) * 1e6)
                policy = OraclePolicy()
                policy.reset(env, task)
                done = False
                while not done:
                    action = policy.act([])
                    before = dict(env.timings)
                    start = time.perf_counter()
                    _, _, terminated, truncated, _ = env.step(action)
                    elapsed = time.perf_counter() - start
                    step_us.append(elapsed * 1e6)
                    for phase in PHASES:
                        phase_us[phase].append((env.timings[phase] - before.get(phase, 0.0)) * 1e6)
                    total_steps, total_time = total_steps + 1, total_time + elapsed
                    done = terminated or truncated
    row = {"steps": total_steps, "steps_per_s": total_steps / total_time}
    row |= {"step_p50_us": statistics.median(step_us), "step_p90_us": quantile(step_us, 0.9)}
    row |= {f"{p}_p50_us": statistics.median(v) for p, v in phase_us.items()}
    row |= {"reset_p50_us": statistics.median(reset_us), "reset_p90_us": quantile(reset_us, 0.9)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--format", default="hermes", choices=["hermes", "glm"])
    args = parser.parse_args()
    columns = [
        "steps",
        "steps_per_s",
        "step_p50_us",
        "step_p90_us",
        *(f"{p}_p50_us" for p in PHASES),
        "reset_p50_us",
        "reset_p90_us",
    ]
    print(f"{'env':<22}" + "".join(f"{c:>14}" for c in columns))
    for env_id in sorted(i for i in registered_specs() if i.startswith("toolgym/")):
        row = bench_env(env_id, args.repeats, args.format)
        print(f"{env_id:<22}" + "".join(f"{row[c]:>14.1f}" for c in columns))


if __name__ == "__main__":
    main()
