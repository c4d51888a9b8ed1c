"""Advantage estimators against values computed by hand."""

import math

import pytest
import torch

from toolgym.train.advantages import (
    gae,
    group_advantages,
    reinforce_advantages,
    rloo_advantages,
    token_rewards,
    zero_variance_fraction,
)


def test_grpo_hand_values():
    # mean 0.5; sample std (ddof=1) = sqrt(4 * 0.25 / 3) = 0.57735; 0.5 / 0.57735 = 0.8660
    adv = group_advantages(torch.tensor([1.0, 0.0, 1.0, 0.0]), group_size=4)
    assert adv.tolist() == pytest.approx([0.8660, -0.8660, 0.8660, -0.8660], abs=1e-4)
    # population std (ddof=0) = 0.5 -> +-1
    adv0 = group_advantages(torch.tensor([1.0, 0.0, 1.0, 0.0]), group_size=4, ddof=0)
    assert adv0.tolist() == pytest.approx([1, -1, 1, -1], abs=1e-4)
    # Dr. GRPO: no division by the std
    assert group_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), 4, scale=False).tolist() == [
        0.75,
        -0.25,
        -0.25,
        -0.25,
    ]


def test_grpo_groups_are_independent_and_equal_groups_give_zero():
    adv = group_advantages(torch.tensor([2.0, 2.0, 3.0, 1.0]), group_size=2)
    assert adv[:2].tolist() == [0.0, 0.0]
    assert adv[2:].tolist() == pytest.approx(
        [1 / math.sqrt(2), -1 / math.sqrt(2)], abs=1e-4
    )  # std = sqrt(2)
    assert zero_variance_fraction(torch.tensor([2.0, 2.0, 3.0, 1.0]), 2) == 0.5


def test_rloo_and_reinforce_hand_values():
    # 1 - mean(0, 1, 0) = 2/3 ; 0 - mean(1, 1, 0) = -2/3
    assert rloo_advantages(torch.tensor([1.0, 0.0, 1.0, 0.0]), 4).tolist() == pytest.approx(
        [2 / 3, -2 / 3, 2 / 3, -2 / 3]
    )
    assert reinforce_advantages(torch.tensor([1.0, 0.0, 0.0, 3.0])).tolist() == [
        0.0,
        -1.0,
        -1.0,
        2.0,
    ]
    with pytest.raises(ValueError, match="groups of 3"):
        group_advantages(torch.tensor([1.0, 0.0]), 3)


def test_token_rewards_land_on_turn_ends():
    ends = torch.tensor([[2, 5], [4, -1]])
    rewards = torch.tensor([[0.5, 1.0], [2.0, 0.0]])
    placed = token_rewards(ends, rewards, width=6)
    assert placed.tolist() == [[0, 0, 0.5, 0, 0, 1.0], [0, 0, 0, 0, 2.0, 0]]


def reference_gae(rewards, values, gamma, lam):
    """CleanRL's plain reversed loop over one row of actions (no gaps)."""
    advantages, last = [0.0] * len(rewards), 0.0
    for t in reversed(range(len(rewards))):
        next_value = values[t + 1] if t + 1 < len(rewards) else 0.0
        delta = rewards[t] + gamma * next_value - values[t]
        last = delta + gamma * lam * last
        advantages[t] = last
    return advantages


def test_gae_hand_values():
    # r = [0, 0, 1], V = [0.5, 0.6, 0.7], gamma = lam = 1:
    # A2 = 1 - 0.7 = 0.3 ; A1 = (0 + 0.7 - 0.6) + 0.3 = 0.4 ; A0 = (0 + 0.6 - 0.5) + 0.4 = 0.5
    adv, ret = gae(
        torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.5, 0.6, 0.7]]), torch.ones(1, 3), 1.0, 1.0
    )
    assert adv.tolist()[0] == pytest.approx([0.5, 0.4, 0.3])
    assert ret.tolist()[0] == pytest.approx([1.0, 1.0, 1.0])


def test_gae_matches_the_reference_loop_and_skips_observation_tokens():
    torch.manual_seed(0)
    rewards, values = torch.rand(6), torch.rand(6)
    for gamma, lam in [(1.0, 0.95), (0.9, 0.8), (0.99, 1.0)]:
        expected = reference_gae(rewards.tolist(), values.tolist(), gamma, lam)
        adv, _ = gae(rewards[None], values[None], torch.ones(1, 6), gamma, lam)
        assert adv[0].tolist() == pytest.approx(expected, abs=1e-6)
        # the same actions with observation tokens interleaved: identical advantages on actions
        mask = torch.tensor([[0, 1, 1, 0, 0, 1, 1, 1, 0, 1]], dtype=torch.float32)
        spread_r, spread_v = torch.zeros(1, 10), torch.full((1, 10), 9.0)  # junk under the mask
        spread_r[mask.bool()], spread_v[mask.bool()] = rewards, values
        adv_spread, _ = gae(spread_r, spread_v, mask, gamma, lam)
        assert adv_spread[mask.bool()].tolist() == pytest.approx(expected, abs=1e-6)
        assert adv_spread[~mask.bool()].abs().sum() == 0
