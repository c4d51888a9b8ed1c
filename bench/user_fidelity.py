"""How faithfully a model plays the user: fact recall, stop signals and cost, per prompt template.

For every under-specified task (a task with hidden facts) of the chosen envs, an ``LLMUser`` is
asked each hidden fact's question, as the oracle asks it, then shown the task's gold answer:

- fact recall: the fraction of the fact's content words (the answer's words of 3+ characters,
  lowercased) found in the user's reply, averaged over facts; ``exact`` counts replies holding
  every content word;
- stop rate: the fraction of tasks whose user replied to the gold answer with the stop signal
  (``###STOP###``), i.e. ends the conversation on its own;
- cost: backend calls, generated tokens and seconds per call.

    python bench/user_fidelity.py                         # SmolLM2-135M, the bundled prompt
    python bench/user_fidelity.py --prompt my_prompt.md   # a template of your own
    python bench/user_fidelity.py --base-url http://127.0.0.1:8000/v1 --model smollm2-135m
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import gymnasium as gym

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.llm import models
from toolgym.policies import OpenAIConfig
from toolgym.users import STOP_SIGNAL, EndpointBackend, LLMUser, LocalBackend

ENVS = ["toolgym/Calendar-v0", "toolgym/Files-v0", "toolgym/Search-v0", "toolgym/Travel-v0"]


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9][a-z0-9@./:-]*[a-z0-9]", text.lower()) if len(w) >= 3}


def recall(answer: str, reply: str) -> float:
    wanted = content_words(answer)
    return len(wanted & content_words(reply)) / len(wanted) if wanted else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="local model, or endpoint model id")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible API root")
    parser.add_argument("--prompt", type=Path, default=None, help="user prompt template file")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--split", nargs="+", default=["train", "test"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write every exchange as JSONL")
    args = parser.parse_args()
    if args.base_url:
        backend = EndpointBackend(OpenAIConfig(base_url=args.base_url, model=args.model,
                                               temperature=args.temperature, max_tokens=args.max_tokens))  # fmt: skip
    else:
        model, tokenizer = models.load(args.model)
        backend = LocalBackend(model, tokenizer, name=args.model, temperature=args.temperature,
                               max_new_tokens=args.max_tokens)  # fmt: skip
    template = args.prompt.read_text(encoding="utf-8") if args.prompt else None
    user = LLMUser(backend, seed=args.seed, prompt_template=template)
    rows, start = [], time.perf_counter()
    for env_id in ENVS:
        for split in args.split:
            for task in gym.make(env_id, split=split).unwrapped.tasks:
                if not task.user.hidden:
                    continue
                user.start(task)
                facts = []
                for fact in task.user.hidden:
                    reply = user.reply(fact.question)
                    facts.append({"question": fact.question, "answer": fact.answer,
                                  "reply": reply.text, "recall": recall(fact.answer, reply.text or "")})  # fmt: skip
                ending = user.reply(task.gold_answer or "Done.")
                rows.append({"task": task.id, "facts": facts, "stopped": ending.stop,
                             "after_answer": ending.text})  # fmt: skip
    seconds = time.perf_counter() - start
    facts = [f for r in rows for f in r["facts"]]
    stats = user.stats
    print(
        f"user model {backend.fingerprint}; prompt {args.prompt or 'bundled (toolgym/users/prompts/user.md)'}"
    )
    print(f"tasks {len(rows)}, hidden facts {len(facts)}")
    print(f"fact recall  mean {sum(f['recall'] for f in facts) / len(facts):.2f}, "
          f"exact {sum(f['recall'] == 1.0 for f in facts)}/{len(facts)}")  # fmt: skip
    print(
        f"stop rate    {sum(r['stopped'] for r in rows)}/{len(rows)} tasks end with {STOP_SIGNAL}"
    )
    print(f"cost         {stats.calls} calls, {stats.completion_tokens / max(stats.calls, 1):.1f} "
          f"tokens/reply, {seconds / max(stats.calls, 1):.2f} s/call, {seconds:.0f} s in all")  # fmt: skip
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
