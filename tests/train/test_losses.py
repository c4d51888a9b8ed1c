"""Loss terms against values computed by hand."""

import pytest
import torch

from toolgym.train.losses import (
    aggregate,
    approx_kl,
    clip_fraction,
    clipped_policy_loss,
    clipped_value_loss,
    entropy_from_logits,
    explained_variance,
    k3_kl,
    masked_mean,
    sft_loss,
)


@pytest.mark.parametrize(
    ("ratio", "advantage", "loss", "has_gradient"),
    [
        (1.5, 1.0, -1.2, False),  # A > 0, ratio above 1 + eps: clipped, no gradient
        (0.5, 1.0, -0.5, True),  # A > 0, ratio below 1 - eps: unclipped (pessimistic)
        (1.5, -1.0, 1.5, True),  # A < 0, ratio above 1 + eps: unclipped
        (0.5, -1.0, 0.8, False),  # A < 0, ratio below 1 - eps: clipped, no gradient
    ],
)
def test_clipped_loss_four_cases(ratio, advantage, loss, has_gradient):
    logprobs = torch.tensor([[torch.log(torch.tensor(ratio)).item()]], requires_grad=True)
    out = clipped_policy_loss(logprobs, torch.zeros(1, 1), torch.tensor([[advantage]]), 0.2, 0.2)
    assert out.item() == pytest.approx(loss, abs=1e-6)
    out.sum().backward()
    assert (logprobs.grad.abs().item() > 0) == has_gradient


def test_clip_higher_uses_separate_bounds():
    logprobs = torch.log(torch.tensor([[1.25]]))
    # eps_high = 0.28 leaves ratio 1.25 unclipped; eps_high = 0.2 clips it to 1.2
    assert clipped_policy_loss(
        logprobs, torch.zeros(1, 1), torch.ones(1, 1), 0.2, 0.28
    ).item() == pytest.approx(-1.25)
    assert clipped_policy_loss(
        logprobs, torch.zeros(1, 1), torch.ones(1, 1), 0.2, 0.2
    ).item() == pytest.approx(-1.2)


def test_k3_kl_is_nonnegative_and_zero_for_equal_policies():
    torch.manual_seed(0)
    a, b = torch.randn(4, 7), torch.randn(4, 7)
    assert (k3_kl(a, b) >= 0).all()
    assert k3_kl(a, a).abs().max() == 0
    # d = log 2: e^d - d - 1 = 2 - 0.6931 - 1 = 0.3069
    assert k3_kl(torch.zeros(1), torch.log(torch.tensor([2.0]))).item() == pytest.approx(
        0.30685, abs=1e-5
    )


def test_masked_means_ignore_masked_tokens():
    values = torch.tensor([[1.0, 2.0, 1000.0], [3.0, -1000.0, 5.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    assert masked_mean(values, mask).item() == pytest.approx((1 + 2 + 3 + 5) / 4)
    assert aggregate(values, mask, "token_mean").item() == pytest.approx(2.75)
    assert aggregate(values, mask, "sequence_mean").item() == pytest.approx((1.5 + 4.0) / 2)
    assert aggregate(values, mask, "constant", constant=4).item() == pytest.approx(11 / (2 * 4))
    assert masked_mean(values, torch.zeros_like(mask)).item() == 0.0
    with pytest.raises(ValueError, match="needs constant"):
        aggregate(values, mask, "constant")


def test_value_loss_sft_and_diagnostics():
    # V = 1.0, V_old = 0.5, R = 2.0, clip 0.2: clipped V = 0.7 -> 0.5 * max(1.0, 1.69) = 0.845
    loss = clipped_value_loss(
        torch.tensor([1.0]), torch.tensor([0.5]), torch.tensor([2.0]), clip=0.2
    )
    assert loss.item() == pytest.approx(0.845)
    assert (
        sft_loss(torch.tensor([[-1.0, -3.0, -100.0]]), torch.tensor([[1.0, 1.0, 0.0]])).item()
        == 2.0
    )
    uniform = torch.zeros(1, 1, 4)
    assert entropy_from_logits(uniform).item() == pytest.approx(torch.log(torch.tensor(4.0)).item())
    mask = torch.ones(1, 2)
    same = torch.tensor([[-1.0, -2.0]])
    assert approx_kl(same, same, mask).item() == 0.0
    assert (
        clip_fraction(
            torch.log(torch.tensor([[1.5, 1.0]])), torch.zeros(1, 2), mask, 0.2, 0.2
        ).item()
        == 0.5
    )
    returns = torch.tensor([[1.0, 2.0, 3.0]])
    assert explained_variance(returns, returns, torch.ones(1, 3)).item() == pytest.approx(1.0)
    assert explained_variance(
        torch.full((1, 3), 2.0), returns, torch.ones(1, 3)
    ).item() == pytest.approx(0.0)
