"""Reward audit: are correct trajectories paid and wrong ones that look right refused?

For every bundled task it plays correct alternatives (other valid orders, an inserted harmless
READ, respelled calls, a paraphrased answer, a mistake undone) and wrong look-alikes (another
record, a WRITE missing, an extra WRITE, a WRITE undone, swapped or contradicted facts, false
success / not-found claims, a guessed hidden fact, a wrong READ) through ``env.step``, then prints
false-positive and false-negative rates per env and component, and the share of (correct, wrong)
pairs of a task in which the correct one scores strictly higher on step_match and on ToolRL.

Usage: python bench/reward_audit.py [--env toolgym/Calendar-v0 ...] [--max-tasks N] [--json out.json]
Exit status 1 when a target of issue 14 is missed (see toolgym/audit/run.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

import toolgym  # noqa: F401  (registers the envs)
from toolgym.audit import audit_env, format_summary, summarize

ENVS = ["toolgym/Calendar-v0", "toolgym/Travel-v0", "toolgym/Search-v0", "toolgym/Files-v0"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", help="env id (repeat; default: the four suites)")
    parser.add_argument("--max-tasks", type=int, default=None, help="tasks per env (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write every played variant's outcome here")
    parser.add_argument("--examples", action="store_true", help="print failing examples")
    args = parser.parse_args()
    start, outcomes = time.perf_counter(), []
    for env_id in args.env or ENVS:
        outcomes += audit_env(env_id, max_tasks=args.max_tasks, seed=args.seed)
    summary = summarize(outcomes)
    print(format_summary(summary))
    if args.examples:
        for env_id, per_env in summary.rates.items():
            for name, r in per_env.items():
                for example in r.examples:
                    print(f"  {env_id} {name}: {example}")
    print(f"{len(outcomes)} trajectories in {time.perf_counter() - start:.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([dataclasses.asdict(o) for o in outcomes], fh, indent=1)
    return 0 if all(summary.passes().values()) else 1


if __name__ == "__main__":
    sys.exit(main())
