"""PPO's critic: a scalar value head on the policy's body (shared) or on a separate copy of it.

``values[:, t]`` estimates the return from the state *before* token t, read off the hidden state
at t - 1, so values line up with log-probs (both are 0 at t = 0).
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import torch
from torch import Tensor, nn

from toolgym.tokens.scoring import last_hidden_states
from toolgym.tokens.trajectory import Batch

CriticKind = Literal["shared", "separate"]


class Critic(nn.Module):
    """A zero-initialised linear value head on a transformer body."""

    def __init__(self, policy: Any, kind: CriticKind = "shared") -> None:
        """Share ``policy``'s body, or train a separate copy of it."""
        super().__init__()
        self.kind = kind
        self.body = policy if kind == "shared" else copy.deepcopy(policy)
        self.head = nn.Linear(policy.config.hidden_size, 1, device=policy.device)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def values_from_hidden(self, hidden: Tensor) -> Tensor:
        """(B, T, H) last hidden states -> (B, T) values, shifted so value t sees tokens < t."""
        values = self.head(hidden.float()).squeeze(-1)
        return torch.cat([torch.zeros_like(values[:, :1]), values[:, :-1]], dim=1)

    def forward(self, batch: Batch) -> Tensor:
        """(B, T) values from the critic's own forward pass."""
        return self.values_from_hidden(last_hidden_states(self.body, batch))

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The head, plus the body when it is not the policy's."""
        return list(self.head.parameters()) + (
            list(self.body.parameters()) if self.kind == "separate" else []
        )
