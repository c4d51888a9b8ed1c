"""Masking matters (Search-R1): GRPO's loss on generated tokens only vs on every token.

Search-R1 (Jin et al., 2025) masks retrieved passages out of the policy loss and reports that
training on them too hurts. The same holds one level up for any tool environment: the system
prompt, the tool schemas and every tool result are text the policy did not write. This runs one
GRPO setup twice from the same SFT cold start of SmolLM2-135M on toolgym/SearchLookup-v0:

- generated only: toolgym's ``loss_mask`` (1 exactly on the tokens the policy sampled);
- every token: the loss mask replaced by the attention mask, so each episode's advantage also
  pushes up (or down) the log-probability of the prompt and of the search results. The
  behaviour log-probs of those tokens are scored under the rollout's policy, so the clipped
  ratio starts at 1 there as on generated tokens.

Plot: training success against rollouts (band over seeds); table: held-out success after
training, and the last step's entropy of the generated tokens (a collapse shows there first).
Run: ``python examples/masking_matters.py``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import torch

from toolgym.tokens.scoring import score
from toolgym.tokens.trajectory import Batch
from toolgym.train.experiments import GRPO_SETTINGS_HELP as HELP
from toolgym.train.experiments import GRPOSettings, parse_dataclass, run_experiment, write_figures
from toolgym.train.loop import Trainer
from toolgym.train.rollouts import Rollout


@dataclass
class Args(GRPOSettings):
    """Plain GRPO (``GRPOSettings``); each field is a flag."""

    out: str = "runs/examples/masking_matters"


def every_token_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Train on every real token that has a prediction: all but each row's first token."""
    mask = attention_mask.clone()
    mask[:, 0] = 0
    return mask


def row_chunks(batch: Batch, size: int) -> list[Batch]:
    """``batch`` split into consecutive batches of at most ``size`` rows (same width)."""
    fields = [f.name for f in dataclasses.fields(Batch)]
    return [
        Batch(*(getattr(batch, name)[start : start + size] for name in fields))
        for start in range(0, len(batch.input_ids), size)
    ]


class EveryTokenTrainer(Trainer):
    """A Trainer whose rollouts put the whole episode, prompt and tool results too, in the loss."""

    def rollout(self, tasks: list[str], *, score_reference: bool = True) -> Rollout:
        """The usual rollout, its loss mask widened to every token, with their behaviour log-probs."""
        rollout = super().rollout(tasks, score_reference=score_reference)
        batch = dataclasses.replace(
            rollout.batch, loss_mask=every_token_mask(rollout.batch.attention_mask)
        )
        with torch.no_grad():  # behaviour log-probs of every token, 4 rows at a time (memory)
            old = torch.cat([
                score(self.model, rows, self.config.temperature).logprobs
                for rows in row_chunks(batch, 4)
            ])  # fmt: skip
        return dataclasses.replace(rollout, batch=dataclasses.replace(batch, old_logprobs=old))


VARIANTS: dict[str, dict[str, Any]] = {"generated only": {}, "every token": {}}
TRAINERS = {"every token": EveryTokenTrainer}


def main(args: Args) -> dict[str, Any]:
    """Start point, both variants on every seed; plot.png and figures.json in ``args.out``."""
    title = f"Loss mask: {args.model} on {args.env}"
    figures = run_experiment(VARIANTS, args, title=title, trainer_classes=TRAINERS)
    write_figures(args.out, args, figures)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(parse_dataclass(Args, HELP, (__doc__ or "").splitlines()[0], None)),
                     indent=2))  # fmt: skip
