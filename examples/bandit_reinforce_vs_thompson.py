"""REINFORCE (with and without a baseline) vs Thompson sampling on a K-armed Bernoulli bandit.

A softmax policy over arms is trained by REINFORCE, once with the raw reward as the weight of
grad log pi(a) and once with a running-mean-reward baseline subtracted; Beta-Bernoulli Thompson
sampling is the Bayesian reference. Cumulative (pseudo-)regret sum_t (mu* - mu_{a_t}) is averaged
over seeds, with a mean +- std band. The claim: the baseline lowers REINFORCE's regret, and
Thompson sampling's regret grows logarithmically and ends lowest.
Run: ``python examples/bandit_reinforce_vs_thompson.py``.

The baseline is a running mean, not ``toolgym.train.advantages.reinforce_advantages``: that helper
subtracts the mean of the current batch, and with one pull per step per bandit the batch mean is the
reward itself, so its advantage would always be 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from toolgym.train.experiments import parse_dataclass, write_figures

HELP = {
    "arms": "number of arms K",
    "steps": "pulls per run T",
    "seeds": "independent bandits (arm means drawn per seed), run in parallel",
    "lr": "SGD learning rate of the REINFORCE softmax logits",
    "seed": "base random seed",
    "out": "folder for plot.png and figures.json",
}


@dataclass
class Args:
    """Experiment settings (each is a command-line flag; see ``HELP``)."""

    arms: int = 10
    steps: int = 2000
    seeds: int = 20
    lr: float = 0.1
    seed: int = 0
    out: str = "runs/examples/bandit_reinforce_vs_thompson"


def pull(means: Tensor, arms: Tensor, generator: torch.Generator) -> Tensor:
    """(S, K) arm means and (S,) chosen arms -> (S,) Bernoulli rewards."""
    chosen = means.gather(1, arms[:, None]).squeeze(1)
    return torch.bernoulli(chosen, generator=generator)


def reinforce_step(logits: Tensor, advantages: Tensor, arms: Tensor, lr: float) -> None:
    """One SGD step on -(A * log pi(a)) for each of the S bandits' (K,) logits, in place."""
    logprobs = torch.log_softmax(logits, dim=-1).gather(1, arms[:, None]).squeeze(1)  # (S,)
    pg_loss = -(advantages.detach() * logprobs).sum()
    (grad,) = torch.autograd.grad(pg_loss, logits)
    with torch.no_grad():
        logits -= lr * grad


def run_reinforce(means: Tensor, args: Args, baseline: bool) -> Tensor:
    """REINFORCE over T steps -> (S, T) per-step regret."""
    generator = torch.Generator().manual_seed(args.seed + 1)
    logits = torch.zeros_like(means, requires_grad=True)  # (S, K)
    running_mean = torch.zeros(means.shape[0])  # (S,) mean reward so far
    best = means.max(dim=1).values
    regrets = []
    for t in range(args.steps):
        probs = torch.softmax(logits.detach(), dim=-1)
        arms = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (S,)
        rewards = pull(means, arms, generator)
        advantages = rewards - running_mean if baseline else rewards
        reinforce_step(logits, advantages, arms, args.lr)
        running_mean += (rewards - running_mean) / (t + 1)
        regrets.append(best - means.gather(1, arms[:, None]).squeeze(1))
    return torch.stack(regrets, dim=1)


def run_thompson(means: Tensor, args: Args) -> Tensor:
    """Beta(1, 1)-prior Thompson sampling over T steps -> (S, T) per-step regret."""
    torch.manual_seed(args.seed + 2)
    generator = torch.Generator().manual_seed(args.seed + 2)
    successes = torch.ones_like(means)  # (S, K) Beta alpha
    failures = torch.ones_like(means)  # (S, K) Beta beta
    best = means.max(dim=1).values
    rows = torch.arange(means.shape[0])
    regrets = []
    for _ in range(args.steps):
        arms = torch.distributions.Beta(successes, failures).sample().argmax(dim=1)  # (S,)
        rewards = pull(means, arms, generator)
        successes[rows, arms] += rewards
        failures[rows, arms] += 1.0 - rewards
        regrets.append(best - means.gather(1, arms[:, None]).squeeze(1))
    return torch.stack(regrets, dim=1)


def uniform_regret(means: Tensor, steps: int) -> Tensor:
    """(S,) expected cumulative regret of choosing arms uniformly at random for ``steps`` steps."""
    return steps * (means.max(dim=1).values - means.mean(dim=1))


def plot(curves: dict[str, Tensor], path: Path) -> None:
    """Mean cumulative regret with a mean +- std band, one curve per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, cumulative in curves.items():
        mean, std = cumulative.mean(dim=0), cumulative.std(dim=0)
        steps = range(1, cumulative.shape[1] + 1)
        ax.plot(steps, mean, label=name)
        ax.fill_between(steps, mean - std, mean + std, alpha=0.2)
    ax.set(xlabel="step", ylabel="cumulative regret", title="Bernoulli bandit, mean +- std")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(args: Args, means: Tensor | None = None) -> dict[str, dict[str, float]]:
    """Run the three methods, write plot.png and figures.json to ``args.out``, return figures.

    Args:
        args: Experiment settings.
        means: Optional (S, K) arm means; drawn uniformly in [0, 1) from ``args.seed`` if None.
    """
    torch.set_num_threads(1)
    if means is None:
        means = torch.rand(
            args.seeds, args.arms, generator=torch.Generator().manual_seed(args.seed)
        )
    per_step = {
        "REINFORCE": run_reinforce(means, args, baseline=False),
        "REINFORCE + baseline": run_reinforce(means, args, baseline=True),
        "Thompson": run_thompson(means, args),
    }
    curves = {name: regret.cumsum(dim=1) for name, regret in per_step.items()}
    figures = {
        name: {
            "final_regret_mean": float(c[:, -1].mean()),
            "final_regret_std": float(c[:, -1].std()),
        }
        for name, c in curves.items()
    }
    uniform = uniform_regret(means, args.steps)
    figures["uniform (expected)"] = {
        "final_regret_mean": float(uniform.mean()),
        "final_regret_std": float(uniform.std()),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(curves, out / "plot.png")
    write_figures(out, args, figures)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(parse_dataclass(Args, HELP, (__doc__ or "").splitlines()[0], None)),
                     indent=2))  # fmt: skip
