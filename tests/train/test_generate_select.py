"""ReST, online EM and DPO against values computed by hand."""

import copy
import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Segment, Trajectory, collate
from toolgym.train.algos.dpo import dpo_step
from toolgym.train.algos.online_em import online_em_step
from toolgym.train.algos.rest import rest_step
from toolgym.train.losses import dpo_loss, reward_weighted_nll, sequence_logprobs
from toolgym.train.online_em import OnlineEM, importance_weights, robbins_monro, stepsize
from toolgym.train.preferences import preference_dataset
from toolgym.train.selection import preference_pairs, rest_selection, rest_weights

# ----------------------------------------------------------------------------------- ReST


def test_rest_keeps_the_top_m_of_each_task_with_positive_reward():
    rewards = torch.tensor([0.2, 0.9, 0.9, 0.0, 0.0, 0.0, 0.5, 0.0, 0.1])
    successes = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    # task 0: 0.9 and 0.9 (a tie: both, the earlier first); task 1: nothing positive; task 2: 0.5, 0.1
    assert rest_selection(rewards, successes, 3, top_m=2) == [1, 2, 6, 8]
    assert rest_selection(rewards, successes, 3, top_m=1) == [1, 6]
    assert rest_selection(rewards, successes, 3, top_m=None) == [1, 2, 6]  # every success


def test_rest_weights_are_rewards_over_their_sum():
    assert rest_weights(torch.tensor([0.9, 0.9, 0.5, 0.1])).tolist() == pytest.approx(
        [0.375, 0.375, 0.5 / 2.4, 0.1 / 2.4]
    )
    with pytest.raises(ValueError, match="reward > 0"):
        rest_weights(torch.tensor([1.0, 0.0]))


def test_reward_weighted_nll_by_hand():
    logprobs = torch.tensor([[-1.0, -2.0, -7.0], [-0.5, -9.0, -9.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # -7 and -9 are not generated
    sequences = sequence_logprobs(logprobs, mask)
    assert sequences.tolist() == [-3.0, -0.5]
    weights = rest_weights(torch.tensor([1.0, 0.5]))  # 2/3, 1/3
    loss = reward_weighted_nll(sequences, weights)
    assert loss.item() == pytest.approx(2 / 3 * 3.0 + 1 / 3 * 0.5)  # 2.1667
    loss.backward()
    expected = -weights[:, None] * mask  # d loss / d log-prob = -w_i on generated tokens, else 0
    assert torch.allclose(logprobs.grad, expected)


def two_streams(tokenizer):
    """Two short token streams with generated (trainable) tails, old log-probs -1 per token."""
    ids = tokenizer("hello there, general", add_special_tokens=False)["input_ids"]
    a = Trajectory("a", [Segment("prompt", tuple(ids[:3]), False),
                         Segment("assistant", tuple(ids[3:6]), True, (-1.0,) * 3)])  # fmt: skip
    b = Trajectory("b", [Segment("prompt", tuple(ids[:3]), False),
                         Segment("assistant", tuple(ids[2:4]), True, (-1.0,) * 2)])  # fmt: skip
    return collate([a, b], tokenizer.pad_token_id)


def test_rest_step_minimises_the_reward_weighted_nll_of_the_model(tiny_model):
    model, tokenizer = copy.deepcopy(tiny_model[0]), tiny_model[1]
    batch = two_streams(tokenizer)
    with torch.no_grad():
        sequences = sequence_logprobs(token_logprobs(model, batch), batch.loss_mask)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    stats = rest_step(model, optimizer, batch, torch.tensor([3.0, 1.0]))
    assert stats["loss"] == pytest.approx(-(0.75 * sequences[0] + 0.25 * sequences[1]).item())


# -------------------------------------------------------------------------------- online EM


def test_stepsize_and_robbins_monro():
    assert [stepsize(t, 1.0, 1.0) for t in (1, 2, 3)] == [1 / 2, 1 / 3, 1 / 4]
    assert stepsize(1, 0.0, 0.6) == 1.0  # t0 = 0: the first step forgets the zero start
    assert stepsize(4, 0.0, 0.5 + 1e-9) == pytest.approx(0.5)
    assert robbins_monro(2.0, 4.0, 0.25) == 2.5


def run_recursion(rewards, scores, use_baseline, lr=0.1):
    """Feed OnlineEM the gradient -(r_t - b_t) s_t of each step, as online_em_step does."""
    theta = torch.nn.Parameter(torch.zeros(2))
    optimizer = OnlineEM([theta], lr=lr, t0=1.0, alpha=1.0, use_baseline=use_baseline)
    history = []
    for reward, score in zip(rewards, scores, strict=True):
        baseline = optimizer.baseline
        theta.grad = -(reward - baseline) * torch.tensor(score)
        optimizer.step(reward=reward)
        t, m = optimizer.averages
        g_avg = optimizer.state[theta]["G"].tolist()
        history.append((t, baseline, g_avg, m, theta.detach().tolist()))
    return history


def test_online_em_recursions_over_three_steps_by_hand():
    # g_t = 1/(t+1): 1/2, 1/3, 1/4; r = 1, 0, 2; s = (1,0), (0,1), (1,1); eta = 0.1
    history = run_recursion([1.0, 0.0, 2.0], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], False)
    (t1, _, g1, m1, th1), (t2, _, g2, m2, th2), (t3, _, g3, m3, th3) = history
    assert (t1, t2, t3) == (1, 2, 3)
    assert g1 == pytest.approx([0.5, 0.0]) and m1 == pytest.approx(0.5)  # 1/2 * 1 * (1, 0)
    assert th1 == pytest.approx([0.1, 0.0])  # + 0.1 * (0.5, 0) / 0.5
    assert g2 == pytest.approx([1 / 3, 0.0]) and m2 == pytest.approx(1 / 3)  # 2/3 * previous
    assert th2 == pytest.approx([0.2, 0.0])  # + 0.1 * (1/3, 0) / (1/3)
    assert g3 == pytest.approx([0.75, 0.5]) and m3 == pytest.approx(0.75)  # 3/4 prev + 1/4 * 2(1,1)
    assert th3 == pytest.approx([0.3, 0.2 / 3])  # + 0.1 * (0.75, 0.5) / 0.75


def test_online_em_moving_baseline_enters_g_only():
    history = run_recursion([1.0, 0.0, 2.0], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], True)
    baselines = [h[1] for h in history]
    assert baselines == pytest.approx([0.0, 0.5, 1 / 3])  # b_t = M_{t-1}
    (_, _, g1, m1, _), (_, _, g2, m2, _), (_, _, g3, m3, th3) = history
    assert g1 == pytest.approx([0.5, 0.0])
    assert g2 == pytest.approx([1 / 3, -1 / 6])  # 2/3 (0.5, 0) + 1/3 (0 - 0.5)(0, 1)
    assert g3 == pytest.approx([2 / 3, 7 / 24])  # 3/4 (1/3, -1/6) + 1/4 (2 - 1/3)(1, 1)
    assert (m1, m2, m3) == pytest.approx((0.5, 1 / 3, 0.75))  # M is the same as without it
    assert th3 == pytest.approx(
        [0.1 + 0.1 + 0.1 * (2 / 3) / 0.75, 0.1 * (-1 / 6) / (1 / 3) + 0.1 * (7 / 24) / 0.75]
    )


def test_online_em_step_clipping_and_checkpoint_round_trip():
    theta = torch.nn.Parameter(torch.zeros(2))
    optimizer = OnlineEM([theta], lr=1.0, max_step_norm=0.5)
    theta.grad = torch.tensor([-3.0, -4.0])  # r s = (3, 4); t0 = 0 so g_1 = 1: G/M = (3, 4)/1
    optimizer.step(reward=1.0)
    assert theta.detach().tolist() == pytest.approx([0.3, 0.4])  # (3, 4) cut to norm 0.5
    restored = OnlineEM([torch.nn.Parameter(theta.detach().clone())], lr=1.0)
    restored.load_state_dict(optimizer.state_dict())
    assert restored.averages == (1, 1.0)
    assert next(iter(restored.state.values()))["G"].tolist() == [3.0, 4.0]


def test_online_em_needs_a_robbins_monro_exponent():
    with pytest.raises(ValueError, match="0.5 < alpha <= 1"):
        OnlineEM([torch.nn.Parameter(torch.zeros(1))], lr=1.0, alpha=0.5)


def test_importance_weights_self_normalise_and_clip():
    log_ratios = torch.log(torch.tensor([1.0, 3.0, 0.5]))
    assert importance_weights(log_ratios).tolist() == pytest.approx([1 / 4.5, 3 / 4.5, 0.5 / 4.5])
    assert importance_weights(log_ratios, clip=2.0).tolist() == pytest.approx(
        [1 / 3.5, 2 / 3.5, 0.5 / 3.5]
    )


def test_online_em_step_on_a_model_averages_the_reward_weighted_score(tiny_model):
    """G_1 = (1/B) sum_i r_i grad log pi(y_i) on policy (t0 = 0: g_1 = 1), and M_1 = mean reward."""
    model, tokenizer = copy.deepcopy(tiny_model[0]), tiny_model[1]
    batch = two_streams(tokenizer)
    rewards = torch.tensor([1.0, 0.0])
    sequences = sequence_logprobs(token_logprobs(model, batch), batch.loss_mask)
    expected = torch.autograd.grad((rewards * sequences).mean(), list(model.parameters()))
    optimizer = OnlineEM(list(model.parameters()), lr=0.0)  # eta = 0: only G and M move
    stats = online_em_step(model, optimizer, batch, rewards)
    assert stats["em_M"] == pytest.approx(0.5) and stats["em_t"] == 1
    for parameter, gradient in zip(model.parameters(), expected, strict=True):
        assert torch.allclose(optimizer.state[parameter]["G"], gradient, atol=1e-6)


def test_online_em_off_policy_weights_follow_the_sequence_ratios(tiny_model):
    model, tokenizer = copy.deepcopy(tiny_model[0]), tiny_model[1]
    batch = two_streams(tokenizer)
    # behaviour log-probs: stream a was 1 nat less likely under the old policy, stream b as now
    batch.old_logprobs = token_logprobs(model, batch).detach()
    batch.old_logprobs[0, 3] -= 1.0
    optimizer = OnlineEM(list(model.parameters()), lr=0.0)
    stats = online_em_step(model, optimizer, batch, torch.tensor([1.0, 1.0]), off_policy=True)
    e = math.e
    assert stats["em_weight_max"] == pytest.approx(e / (e + 1), abs=1e-5)  # ratios e : 1
    assert stats["em_M"] == pytest.approx(1.0)


# -------------------------------------------------------------------------------------- DPO


@given(st.floats(-50, 0), st.floats(-50, 0), st.floats(-5, 5), st.floats(0.01, 2))
@settings(max_examples=50, deadline=None)
def test_dpo_loss_is_log_2_when_the_log_ratios_are_equal(chosen, rejected, shift, beta):
    # the same log-ratio log pi - log pi_ref for both answers, whatever the log-probs themselves
    loss = dpo_loss(torch.tensor([chosen]), torch.tensor([rejected]),
                    torch.tensor([chosen - shift]), torch.tensor([rejected - shift]), beta)  # fmt: skip
    assert loss.item() == pytest.approx(math.log(2), abs=1e-5)


def test_dpo_loss_at_known_log_ratios():
    # chosen: -1 vs ref -2 (+1); rejected: -3 vs ref -2 (-1); margin 2, beta 0.1: -log sigmoid(0.2)
    loss = dpo_loss(
        torch.tensor([-1.0]), torch.tensor([-3.0]), torch.tensor([-2.0]), torch.tensor([-2.0]), 0.1
    )
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-0.2)))  # 0.598139
    assert loss.item() == pytest.approx(0.598139, abs=1e-6)
    chosen = torch.tensor([-1.0], requires_grad=True)
    dpo_loss(
        chosen, torch.tensor([-3.0]), torch.tensor([-2.0]), torch.tensor([-2.0]), 0.1
    ).sum().backward()
    assert chosen.grad.item() == pytest.approx(-0.1 * (1 - 1 / (1 + math.exp(-0.2))))  # raises y_w


def test_preference_pairs_take_best_against_worst_and_drop_ties():
    rewards = torch.tensor([0.0, 1.0, 0.5, 1.0, 1.0, 1.0, 0.2, 0.2, 0.7])
    assert preference_pairs(rewards, 3) == [(1, 0), (8, 6)]  # group 1 is all ties
    assert preference_pairs(torch.tensor([0.0, 0.0]), 2) == []


def test_dpo_step_starts_at_log_2_against_its_own_copy(tiny_model):
    model, tokenizer = copy.deepcopy(tiny_model[0]), tiny_model[1]
    reference = copy.deepcopy(model)
    streams = two_streams(tokenizer)
    chosen = type(streams)(*(getattr(streams, f)[:1] for f in streams.__dataclass_fields__))
    rejected = type(streams)(*(getattr(streams, f)[1:] for f in streams.__dataclass_fields__))
    with torch.no_grad():
        ref_c = sequence_logprobs(token_logprobs(reference, chosen), chosen.loss_mask)
        ref_r = sequence_logprobs(token_logprobs(reference, rejected), rejected.loss_mask)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    first = dpo_step(model, optimizer, chosen, rejected, ref_c, ref_r, beta=0.5)
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-6) and first["dpo_margin"] == 0.0
    later = [dpo_step(model, optimizer, chosen, rejected, ref_c, ref_r, beta=0.5) for _ in range(5)]
    assert later[-1]["loss"] < first["loss"] and later[-1]["dpo_accuracy"] == 1.0


def conversation(answer):
    return {"messages": [{"role": "user", "content": "Where is Tom?"},
                         {"role": "assistant", "content": answer}]}  # fmt: skip


def test_preference_file_reads_pairs_with_loss_on_assistant_tokens_only(tiny, tmp_path):
    _, tokenizer, chat = tiny
    from toolgym.formats import get_format

    path = tmp_path / "pairs.jsonl"
    path.write_text(
        json.dumps({"chosen": conversation("In Paris."), "rejected": conversation("No idea.")})
        + "\n"
    )
    pairs = preference_dataset(path, chat, get_format("hermes"), 4096)
    ((chosen, rejected),) = pairs.values()
    trainable = [t for t, m in zip(chosen.token_ids, chosen.loss_mask, strict=True) if m]
    assert tokenizer.decode(trainable[:-1]) == "In Paris."  # + the end-of-turn token
    assert chosen.segments[0].token_ids == rejected.segments[0].token_ids
    assert list(pairs) == ["pairs.jsonl:1"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"pairs.jsonl:1: not JSON"),
        (json.dumps({"chosen": conversation("a")}), r"pairs.jsonl:1: rejected: Field required"),
        (
            json.dumps(
                {
                    "chosen": conversation("a"),
                    "rejected": {
                        "messages": [
                            {"role": "user", "content": "Where is Ann?"},
                            {"role": "assistant", "content": "b"},
                        ]
                    },
                }
            ),  # fmt: skip
            r"pairs.jsonl:1: chosen and rejected open with different prompts",
        ),
    ],
)
def test_bad_preference_lines_name_the_line_and_field(tiny, tmp_path, line, message):
    from toolgym.formats import get_format

    path = tmp_path / "pairs.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match=message):
        preference_dataset(path, tiny[2], get_format("hermes"), 4096)
