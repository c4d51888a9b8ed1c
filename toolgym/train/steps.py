"""One optimisation step per algorithm, on a collated batch. The training loop calls these."""

from __future__ import annotations

from typing import Any

import torch

from toolgym.tokens.trajectory import Batch, token_logprobs
from toolgym.train.losses import sft_loss


def sft_step(
    model: Any, optimizer: torch.optim.Optimizer, batch: Batch, max_grad_norm: float = 1.0
) -> dict[str, float]:
    """Cross-entropy on the generated (assistant) tokens only; returns loss and grad norm."""
    model.train()
    loss = sft_loss(token_logprobs(model, batch), batch.loss_mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    return {"loss": loss.item(), "grad_norm": grad_norm.item()}
