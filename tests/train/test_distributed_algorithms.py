"""RLOO, REINFORCE, ReST, PPO, online EM, DPO and DAgger under torchrun: 2 gloo learners equal one process.

Each test trains with ``torchrun --nproc_per_node 2`` (``ddp_launch.py``: rank 0 records every
step's gathered rollout), replays those rollouts in one process, and compares the parameters
(within 1e-5) and every logged diagnostic (rel 1e-4): the minibatch's values, not a rank's.
The runs play ``ddp_launch.TOY``, where rewards differ within a group. Minibatch counts are
chosen so that in some minibatches rank 1 has no rows of its own and steps with weight 0.
"""

from __future__ import annotations

import pickle

import pytest
from ddp_launch import TOY_RUN, assert_same_parameters, assert_same_run, replay, train_two_ranks

from toolgym.train import checkpoint
from toolgym.train.config import TrainConfig

PPO_KEYS = ("loss", "policy_loss", "value_loss", "kl", "entropy", "approx_kl", "clipfrac",
            "explained_variance", "grad_norm", "reward_mean")  # fmt: skip
EM_KEYS = ("loss", "approx_kl", "em_t", "em_M", "em_baseline", "em_weight_max", "reward_mean")


def run_both(tmp_path, monkeypatch, **settings):
    """The 2-rank run and its one-process replay of ``TOY_RUN | settings``."""
    config = TrainConfig(**(TOY_RUN | settings), out=tmp_path / "run")
    out = train_two_ranks(tmp_path, config)
    return config, out, replay(out, config, tmp_path, monkeypatch)


# ------------------------------------------------------------------------ policy gradient


@pytest.mark.parametrize(("algo", "micro_batch_size"), [("rloo", None), ("reinforce", 1)])
def test_policy_gradient_two_ranks_equal_one_process(tmp_path, monkeypatch, algo, micro_batch_size):
    """Leave-one-out or batch-mean baselines on the gathered rollout, KL and entropy terms,
    8 minibatches of 12 rows (GRPO's own test is in test_distributed.py); REINFORCE computes
    each rank's rows one at a time (micro-batches), the one process too."""
    config, out, single = run_both(tmp_path, monkeypatch, algo=algo, minibatches=8, beta=0.05,
                                   entropy_coef=0.01, micro_batch_size=micro_batch_size)  # fmt: skip
    keys = ("loss", "kl", "entropy", "approx_kl", "clipfrac", "grad_norm", "reward_mean")
    logged = assert_same_run(out, single, config, keys)
    assert all(r["zero_variance_groups"] < 1 for r in logged)


def test_grpo_skipping_flat_groups_two_ranks_equal_one_process(tmp_path, monkeypatch):
    """No KL or entropy term: rows of flat groups are skipped on each rank (2 minibatches of 12
    rows, so a rank of a flat group keeps one row at weight 0): the weights, loss and gradient
    norm are still one process's (test_grpo.py checks one process against the full batch)."""
    config, out, single = run_both(tmp_path, monkeypatch, algo="grpo", minibatches=2)
    logged = assert_same_run(out, single, config, ("loss", "grad_norm", "reward_mean"))
    assert logged[1]["rows_skipped"] > 0 and all(r["zero_variance_groups"] < 1 for r in logged)


# ---------------------------------------------------------------------------------- rest


def test_rest_two_ranks_equal_one_process(tmp_path, monkeypatch):
    """9 kept rows of rewards 1.5 and 0.5 (weights r_i / sum_j r_j differ) in minibatches of 5
    and 4; with each rank's own weights instead the runs end 6.8e-4 apart."""
    config, out, single = run_both(tmp_path, monkeypatch, algo="rest", minibatches=2,
                                   rest={"top_m": 3})  # fmt: skip
    logged = assert_same_run(out, single, config, ("loss", "nll_per_token", "grad_norm", "kept"))
    assert [r["kept"] for r in logged] == [9, 9]
    trajectories, _ = pickle.loads((out / "rollout-1.pkl").read_bytes())
    kept_rewards = {t.total_reward for t in trajectories}
    assert kept_rewards == {0.5, 1.5}  # 3 of a group of 4 keeps a 0.5 beside the 1.5s


# ----------------------------------------------------------------------------------- ppo


def assert_same_critic(out, single) -> None:
    """Rank 0's checkpointed critic (head, and body when separate) equals the one process's."""
    two, one = checkpoint.load_latest(out), checkpoint.load_latest(single.out)
    assert two is not None and one is not None
    assert_same_parameters(two["critic"]["head"], one["critic"]["head"])
    assert one["critic"]["head"]["weight"].abs().sum() > 0  # the critic trained
    if one["critic"]["body"] is not None:
        assert_same_parameters(two["critic"]["body"], one["critic"]["body"])


def test_ppo_shared_critic_two_ranks_equal_one_process(tmp_path, monkeypatch):
    """Sequence-mean policy loss (row weights) + token-mean value loss (token weights), KL in
    the reward and the loss, whitened advantages; 8 minibatches of 12 rows (2, 2, 2, 2, 1, 1,
    1, 1). Without the token weight on the value loss this test fails."""
    config, out, single = run_both(
        tmp_path, monkeypatch, algo="ppo", minibatches=8, beta=0.05, entropy_coef=0.01,
        aggregation="sequence_mean", ppo={"kl_in_reward": 0.02},
    )  # fmt: skip
    logged = assert_same_run(out, single, config, PPO_KEYS)
    assert all(r["zero_variance_groups"] < 1 for r in logged)
    assert_same_critic(out, single)


def test_ppo_separate_critic_two_ranks_equal_one_process(tmp_path, monkeypatch):
    """A critic on its own copy of the body, 2 epochs x 2 minibatches, token-mean loss."""
    config, out, single = run_both(tmp_path, monkeypatch, algo="ppo", epochs=2, minibatches=2,
                                   ppo={"critic": "separate", "vf_coef": 1.0})  # fmt: skip
    assert_same_run(out, single, config, PPO_KEYS)
    assert_same_critic(out, single)


# ----------------------------------------------------------------------------- online EM


@pytest.mark.parametrize("off_policy", [False, True], ids=["on-policy", "importance-weighted"])
def test_online_em_two_ranks_equal_one_process(tmp_path, monkeypatch, off_policy):
    """Weights 1/B, or self-normalised importance weights over the whole minibatch (gathered);
    2 epochs x 8 minibatches, so the second epoch's ratios differ from 1 and rank 1 holds no
    rows in half the minibatches. G, M and t end equal in the optimizer's state too."""
    config, out, single = run_both(
        tmp_path, monkeypatch, algo="online-em", epochs=2, minibatches=8, lr=1e-2,
        online_em={"off_policy": off_policy, "clip": 2.0, "baseline": True},
    )  # fmt: skip
    logged = assert_same_run(out, single, config, EM_KEYS)
    assert [r["em_t"] for r in logged] == [16.0, 32.0]
    if off_policy:
        assert any(r["em_weight_max"] > 1 / 2 + 1e-6 for r in logged)  # not uniform
    two, one = checkpoint.load_latest(out), checkpoint.load_latest(single.out)
    assert two is not None and one is not None
    states = two["optimizer"]["state"], one["optimizer"]["state"]
    assert states[0].keys() == states[1].keys()
    assert_same_parameters({str(k): v["G"] for k, v in states[0].items()},
                           {str(k): v["G"] for k, v in states[1].items()})  # fmt: skip


# ----------------------------------------------------------------------------------- dpo


def test_dpo_two_ranks_equal_one_process(tmp_path, monkeypatch):
    """Best-vs-worst pairs of the gathered groups, in 2 minibatches (so 1 pair alone on rank 0
    when a step has 3); margin and accuracy are the minibatch's pair means."""
    config, out, single = run_both(tmp_path, monkeypatch, algo="dpo", minibatches=2)
    logged = assert_same_run(out, single, config,
                             ("loss", "dpo_margin", "dpo_accuracy", "grad_norm", "pairs"))  # fmt: skip
    assert all(r["pairs"] >= 2 for r in logged)


# -------------------------------------------------------------------------------- dagger


def test_dagger_two_ranks_equal_one_process(tmp_path, monkeypatch):
    """Every rank labels the gathered rollout, so the aggregates agree; each minibatch of 5
    demonstrations is shared as SFT's batch is (token weights)."""
    config, out, single = run_both(tmp_path, monkeypatch, algo="dagger",
                                   dagger={"batch": 5})  # fmt: skip
    keys = ("loss", "grad_norm", "dataset_size", "states_added", "expert_agreement")
    logged = assert_same_run(out, single, config, keys)
    assert [r["dataset_size"] for r in logged] == [12, 24]  # one state per episode
    two, one = checkpoint.load_latest(out), checkpoint.load_latest(single.out)
    assert two is not None and one is not None
    assert two["dagger"] == one["dagger"]
