"""Minimal REINFORCE with a k3 KL penalty on a tiny GRU language model (CPU, under a minute).

A GRU LM is warm-started by supervised learning on a fixed corpus in which the target token is
rare, then trained with REINFORCE to emit the target token more often. A frozen copy of the warm
start is the reference; the k3 estimator of KL(pi || pi_ref) (Schulman, 2020) is added with weight
beta. The claim: as beta grows the policy stays nearer the reference (lower KL) and the reward
rises more slowly. Run: ``python examples/minimal_reinforce_k3.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from toolgym.train.experiments import parse_dataclass, write_figures
from toolgym.train.losses import k3_kl

HELP = {
    "betas": "KL weights to compare; one run per beta from the same warm start and seed",
    "steps": "RL steps per beta",
    "batch": "sequences sampled per RL step",
    "seq_len": "tokens per sequence after the start token",
    "vocab": "vocabulary size; token 0 is the start token, token 1 the rewarded target",
    "hidden": "GRU hidden size",
    "lr": "Adam learning rate for RL",
    "warm_steps": "supervised warm-start steps on the fixed corpus",
    "seed": "random seed of the corpus, the warm start and every RL run",
    "out": "folder for plot.png and figures.json",
}


@dataclass
class Args:
    """Experiment settings (each is a command-line flag; see ``HELP``)."""

    betas: list[float] = field(default_factory=lambda: [0.0, 0.05, 0.2])
    steps: int = 150
    batch: int = 64
    seq_len: int = 12
    vocab: int = 8
    hidden: int = 32
    lr: float = 3e-3
    warm_steps: int = 200
    seed: int = 0
    out: str = "runs/examples/minimal_reinforce_k3"


TARGET = 1


class TinyLM(nn.Module):
    """Embedding -> GRU -> linear head over ``vocab`` tokens."""

    def __init__(self, vocab: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens: Tensor) -> Tensor:
        """(B, T) token ids -> (B, T, vocab) next-token logits."""
        hidden_states, _ = self.gru(self.embed(tokens))
        return self.head(hidden_states)


def token_logprobs(model: nn.Module, sequences: Tensor) -> Tensor:
    """(B, T+1) sequences starting with the start token -> (B, T) log-prob of each next token."""
    logits = model(sequences[:, :-1])
    return torch.log_softmax(logits, dim=-1).gather(-1, sequences[:, 1:, None]).squeeze(-1)


@torch.no_grad()
def sample(model: nn.Module, batch: int, seq_len: int) -> Tensor:
    """Sample (B, T+1) sequences token by token, each starting with the start token 0."""
    sequences = torch.zeros(batch, 1, dtype=torch.long)
    for _ in range(seq_len):
        logits = model(sequences)[:, -1]
        next_token = torch.multinomial(torch.softmax(logits, dim=-1), 1)
        sequences = torch.cat([sequences, next_token], dim=1)
    return sequences


def reward(sequences: Tensor) -> Tensor:
    """(B, T+1) -> (B,) fraction of generated tokens that are the target token."""
    return (sequences[:, 1:] == TARGET).float().mean(dim=1)


def make_corpus(args: Args, generator: torch.Generator) -> Tensor:
    """A fixed corpus of (512, T+1) sequences where the target token has probability 0.05."""
    probs = torch.full((args.vocab,), 0.95 / (args.vocab - 2))
    probs[0], probs[TARGET] = 0.0, 0.05
    body = torch.multinomial(probs, 512 * args.seq_len, replacement=True, generator=generator)
    return torch.cat([torch.zeros(512, 1, dtype=torch.long), body.view(512, -1)], dim=1)


def warm_start(args: Args) -> TinyLM:
    """Fit a TinyLM to the fixed corpus by maximum likelihood."""
    generator = torch.Generator().manual_seed(args.seed)
    corpus = make_corpus(args, generator)
    torch.manual_seed(args.seed)
    model = TinyLM(args.vocab, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(args.warm_steps):
        loss = -token_logprobs(model, corpus).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def rl_losses(
    policy: nn.Module, ref: nn.Module, sequences: Tensor, beta: float
) -> dict[str, Tensor]:
    """REINFORCE loss with a normalised advantage plus beta * k3 KL to the reference."""
    logprobs = token_logprobs(policy, sequences)  # (B, T)
    with torch.no_grad():
        ref_logprobs = token_logprobs(ref, sequences)  # (B, T)
    rewards = reward(sequences)  # (B,)
    advantages = (rewards - rewards.mean()) / (rewards.std() + 1e-6)  # (B,)
    pg_loss = -(advantages.detach()[:, None] * logprobs).mean()
    kl = k3_kl(logprobs, ref_logprobs).mean()
    return {"loss": pg_loss + beta * kl, "pg_loss": pg_loss, "kl": kl, "reward": rewards.mean()}


def train_one(args: Args, reference: TinyLM, beta: float) -> dict[str, list[float]]:
    """RL from the warm start with one beta; returns the per-step reward and KL."""
    torch.manual_seed(args.seed)
    policy = copy.deepcopy(reference).requires_grad_(True)
    optimizer = torch.optim.Adam(policy.parameters(), lr=args.lr)
    history: dict[str, list[float]] = {"reward": [], "kl": []}
    for _ in range(args.steps):
        sequences = sample(policy, args.batch, args.seq_len)
        losses = rl_losses(policy, reference, sequences, beta)
        optimizer.zero_grad()
        losses["loss"].backward()
        nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()
        history["reward"].append(float(losses["reward"].detach()))
        history["kl"].append(float(losses["kl"].detach()))
    return history


def plot(histories: dict[float, dict[str, list[float]]], path: Path) -> None:
    """Two panels, reward and KL per step, one line per beta."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for beta, history in histories.items():
        for ax, key in zip(axes, ("reward", "kl"), strict=True):
            ax.plot(history[key], label=f"beta={beta}")
    axes[0].set(title="reward (fraction of target token)", xlabel="step")
    axes[1].set(title="k3 KL(pi || pi_ref) per token", xlabel="step")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(args: Args) -> dict[str, dict[str, float]]:
    """Run every beta, write plot.png and figures.json to ``args.out``, return the figures."""
    torch.set_num_threads(1)
    reference = warm_start(args).requires_grad_(False)
    histories = {beta: train_one(args, reference, beta) for beta in args.betas}
    tail = max(1, args.steps // 10)
    figures = {
        f"beta={beta}": {
            "final_reward": sum(h["reward"][-tail:]) / tail,
            "mean_kl": sum(h["kl"]) / len(h["kl"]),
            "final_kl": sum(h["kl"][-tail:]) / tail,
        }
        for beta, h in histories.items()
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(histories, out / "plot.png")
    write_figures(out, args, figures)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(parse_dataclass(Args, HELP, (__doc__ or "").splitlines()[0], None)),
                     indent=2))  # fmt: skip
