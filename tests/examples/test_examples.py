"""Smoke and math tests of the CleanRL-style examples under examples/."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from toolgym.train.experiments import slug
from toolgym.train.losses import k3_kl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def k3_example() -> ModuleType:
    return load("minimal_reinforce_k3")


@pytest.fixture(scope="module")
def bandit() -> ModuleType:
    return load("bandit_reinforce_vs_thompson")


def all_finite(figures: dict[str, dict[str, float]]) -> bool:
    return all(math.isfinite(v) for row in figures.values() for v in row.values())


GRPO_EXAMPLES = ["grpo_baselines", "masking_matters", "toolrl_rewards"]


@pytest.mark.parametrize(
    "name", ["minimal_reinforce_k3", "bandit_reinforce_vs_thompson", *GRPO_EXAMPLES]
)
def test_help_exits_zero(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--out" in done.stdout


def test_k3_tiny_run_writes_plot_and_json(k3_example: ModuleType, tmp_path: Path) -> None:
    args = k3_example.Args(steps=3, batch=8, seq_len=4, warm_steps=2, out=str(tmp_path))
    figures = k3_example.main(args)
    assert (tmp_path / "plot.png").stat().st_size > 0
    saved = json.loads((tmp_path / "figures.json").read_text())["figures"]
    assert saved == figures
    assert set(figures) == {"beta=0.0", "beta=0.05", "beta=0.2"}
    assert all_finite(figures)


def test_k3_reward_is_target_fraction(k3_example: ModuleType) -> None:
    sequences = torch.tensor([[0, 1, 1, 2, 3], [0, 2, 2, 2, 2]])  # start token, then 4 tokens
    assert k3_example.reward(sequences).tolist() == [0.5, 0.0]


def test_k3_beta_zero_kl_contributes_no_gradient(k3_example: ModuleType) -> None:
    torch.manual_seed(0)
    policy = k3_example.TinyLM(vocab=5, hidden=8)
    reference = k3_example.TinyLM(vocab=5, hidden=8).requires_grad_(False)  # differs from policy
    sequences = k3_example.sample(policy, batch=6, seq_len=4)

    def grads(beta: float, term: str) -> list[torch.Tensor]:
        policy.zero_grad()
        k3_example.rl_losses(policy, reference, sequences, beta)[term].backward()
        return [p.grad.clone() for p in policy.parameters()]

    pg_only, beta_zero = grads(0.0, "pg_loss"), grads(0.0, "loss")
    assert all(torch.equal(a, b) for a, b in zip(pg_only, beta_zero, strict=True))
    beta_one = grads(1.0, "loss")
    assert any(not torch.allclose(a, b) for a, b in zip(pg_only, beta_one, strict=True))


def test_k3_kl_matches_toolgym_and_the_formula(k3_example: ModuleType) -> None:
    torch.manual_seed(1)
    policy = k3_example.TinyLM(vocab=5, hidden=8)
    reference = k3_example.TinyLM(vocab=5, hidden=8)
    sequences = k3_example.sample(policy, batch=4, seq_len=3)
    logprobs = k3_example.token_logprobs(policy, sequences).detach()
    ref_logprobs = k3_example.token_logprobs(reference, sequences).detach()
    log_ratio = logprobs - ref_logprobs
    by_hand = (log_ratio + torch.exp(-log_ratio) - 1).mean()  # the tutorial's k3 form
    got = k3_example.rl_losses(policy, reference, sequences, beta=0.0)["kl"]
    assert torch.allclose(got, by_hand, atol=1e-6)
    assert torch.allclose(got, k3_kl(logprobs, ref_logprobs).mean(), atol=1e-6)


def test_bandit_tiny_run_writes_plot_and_json(bandit: ModuleType, tmp_path: Path) -> None:
    args = bandit.Args(arms=3, steps=20, seeds=2, out=str(tmp_path))
    figures = bandit.main(args)
    assert (tmp_path / "plot.png").stat().st_size > 0
    assert json.loads((tmp_path / "figures.json").read_text())["figures"] == figures
    assert set(figures) == {"REINFORCE", "REINFORCE + baseline", "Thompson", "uniform (expected)"}
    assert all_finite(figures)


def test_bandit_uniform_regret_hand_computed(bandit: ModuleType) -> None:
    means = torch.tensor([[0.9, 0.1, 0.2], [0.5, 0.5, 0.5]])
    # gap to the best arm, averaged over arms: (0 + 0.8 + 0.7) / 3 = 0.5 per step; 0 when all equal
    assert torch.allclose(bandit.uniform_regret(means, 10), torch.tensor([5.0, 0.0]))


def test_thompson_beats_uniform_on_easy_bandit(bandit: ModuleType, tmp_path: Path) -> None:
    means = torch.tensor([[0.9, 0.1, 0.1, 0.1, 0.1]]).repeat(2, 1)  # uniform regret: 0.64 / step
    args = bandit.Args(arms=5, steps=300, seeds=2, out=str(tmp_path))
    thompson = bandit.run_thompson(means, args).sum(dim=1)
    assert (thompson < 0.25 * bandit.uniform_regret(means, args.steps)).all()


def test_reinforce_step_moves_toward_rewarded_arm(bandit: ModuleType) -> None:
    logits = torch.zeros(1, 2, requires_grad=True)
    # grad of log softmax at arm 0 with equal logits is (1 - 0.5, -0.5); lr * A = 0.1 * 2
    bandit.reinforce_step(logits, torch.tensor([2.0]), torch.tensor([0]), lr=0.1)
    assert torch.allclose(logits.detach(), torch.tensor([[0.1, -0.1]]))


# the GRPO examples (3-5): toolgym's Trainer on a toolgym suite, here with the tiny random model

TINY = {"model": "tiny", "freeze_layers": 0, "steps": 2, "eval_tasks": 2, "max_new_tokens": 6,
        "seeds": [0]}  # fmt: skip


@pytest.mark.parametrize("name", GRPO_EXAMPLES)
def test_grpo_example_tiny_run_writes_plot_and_json(name: str, tmp_path: Path) -> None:
    example = load(name)
    figures = example.main(example.Args(**TINY, out=str(tmp_path)))
    assert (tmp_path / "plot.png").stat().st_size > 1000
    assert json.loads((tmp_path / "figures.json").read_text())["figures"] == figures
    assert list(figures["variants"]) == list(example.VARIANTS)
    for name, row in figures["variants"].items():
        assert row["seeds"] == 1 and 0.0 <= row["held_out_mean"] <= 1.0, name
        run = tmp_path / slug(name) / "seed-0"
        saved = json.loads((run / "config.json").read_text())
        assert saved["init"] == str(tmp_path / "start") and saved["algo"] == "grpo"


def test_grpo_baselines_variants_are_the_three_advantages() -> None:
    from toolgym.train.algos.pg import ADVANTAGES
    from toolgym.train.config import TrainConfig

    example = load("grpo_baselines")
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0])  # mean 0.25, sample std 0.5
    expected = {
        "mean/std (GRPO)": ([1.5, -0.5, -0.5, -0.5], "sequence_mean"),
        "mean only": ([0.75, -0.25, -0.25, -0.25], "sequence_mean"),
        "Dr. GRPO": ([0.75, -0.25, -0.25, -0.25], "constant"),
    }
    assert list(example.VARIANTS) == list(expected)
    for name, fields in example.VARIANTS.items():
        config = TrainConfig(algo="grpo", group_size=4, **fields)
        advantages, aggregation = expected[name]
        got = ADVANTAGES["grpo"](rewards, config)
        assert torch.allclose(got, torch.tensor(advantages), atol=1e-5), name
        assert config.aggregation == aggregation


def test_every_token_trainer_trains_on_observations_with_their_behaviour_logprobs(
    tmp_path: Path,
) -> None:
    from toolgym.train.config import TrainConfig
    from toolgym.train.loop import Trainer

    example = load("masking_matters")
    fields = {"env": "toolgym/SearchLookup-v0", "model": "tiny", "algo": "grpo",
              "tasks_per_step": 2, "group_size": 2, "max_new_tokens": 6, "eval_tasks": 1}  # fmt: skip
    plain = Trainer(TrainConfig(**fields, out=tmp_path / "a"), progress=False)
    tasks = plain.train_tasks[:2]
    usual = plain.rollout(tasks)
    every = example.EveryTokenTrainer(TrainConfig(**fields, out=tmp_path / "b"), progress=False)
    widened = every.rollout(tasks)
    batch, base = widened.batch, usual.batch
    assert torch.equal(batch.input_ids, base.input_ids)  # same seed: the same episodes
    expected_mask = base.attention_mask.clone()
    expected_mask[:, 0] = 0
    assert torch.equal(batch.loss_mask, expected_mask)
    assert batch.loss_mask.sum() > 3 * base.loss_mask.sum()  # prompt and tool results too
    generated = base.loss_mask.bool()
    assert torch.allclose(batch.old_logprobs[generated], base.old_logprobs[generated], atol=1e-4)
    observed = batch.loss_mask.bool() & ~generated
    assert (batch.old_logprobs[observed] < 0).all()  # scored, not left at 0
    assert torch.equal(widened.rewards, usual.rewards)


def test_toolrl_variants_name_registered_components() -> None:
    from toolgym.rewards.registry import EPISODE_REWARDS, STEP_REWARDS

    example = load("toolrl_rewards")
    for fields in example.VARIANTS.values():
        assert set(fields["rewards"]) <= set(STEP_REWARDS) | set(EPISODE_REWARDS)
    assert example.VARIANTS["fine + length bonus"]["rewards"] == {"toolrl": 1.0, "length": 1.0}


def test_row_chunks_split_a_batch_into_rows_of_the_same_width() -> None:
    from toolgym.tokens.trajectory import Batch

    example = load("masking_matters")
    batch = Batch(*(torch.arange(5 * 3).reshape(5, 3) + k for k in range(7)))
    chunks = example.row_chunks(batch, 2)
    assert [len(c.input_ids) for c in chunks] == [2, 2, 1]
    for name in ("input_ids", "loss_mask", "turn_rewards"):
        joined = torch.cat([getattr(c, name) for c in chunks])
        assert torch.equal(joined, getattr(batch, name)), name
