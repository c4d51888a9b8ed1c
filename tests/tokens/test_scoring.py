"""Shared-prefix scoring and generation equal the plain computations, values and gradients alike."""

import copy

import torch
from hypothesis import given
from hypothesis import strategies as st

from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.tokens.scoring import MIN_SHARED_PREFIX, score, shared_prefix_length
from toolgym.tokens.trajectory import Batch
from toolgym.train.critic import Critic


@given(
    st.lists(st.integers(0, 3), max_size=12),
    st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=6), min_size=2, max_size=5),
)
def test_shared_prefix_length_is_the_longest_common_prefix_leaving_one_token(head, tails):
    rows = [head + tail for tail in tails]
    length = shared_prefix_length(rows)
    assert all(r[:length] == rows[0][:length] for r in rows)  # common
    assert length <= min(len(r) for r in rows) - 1  # every row keeps a token
    longer = length + 1
    assert longer > min(len(r) for r in rows) - 1 or any(
        r[:longer] != rows[0][:longer] for r in rows
    )  # maximal
    assert shared_prefix_length(rows[:1]) == 0


def _batch(tiny, lengths=(9, 14, 5)):
    """Rows = one system prompt + own tokens, right-padded; loss on each row's tail."""
    _, tokenizer, chat = tiny
    system = chat.encode("<|im_start|>system\n" + "You can call tools. " * 8 + "<|im_end|>\n")
    assert len(system) >= MIN_SHARED_PREFIX
    generator = torch.Generator().manual_seed(0)
    rows = [
        system + torch.randint(5, tokenizer.vocab_size, (n,), generator=generator).tolist()
        for n in lengths
    ]
    width = max(len(r) for r in rows)
    shape = (len(rows), width)
    input_ids = torch.full(shape, tokenizer.pad_token_id)
    attention_mask, loss_mask = torch.zeros(shape, dtype=torch.long), torch.zeros(shape)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = torch.tensor(row)
        attention_mask[i, : len(row)] = 1
        loss_mask[i, len(system) + 2 : len(row)] = 1  # a prompt of 2 own tokens, then "generated"
    zeros = torch.zeros(shape)
    turns = torch.zeros((len(rows), 1))
    return Batch(input_ids, attention_mask, loss_mask, zeros, zeros.long(), turns.long(), turns)


def _plain(model, batch):
    """The reference computation: every position through the whole model, no sharing."""
    out = model(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, output_hidden_states=True
    )
    logprobs = torch.log_softmax(out.logits[:, :-1].float(), dim=-1)
    picked = logprobs.gather(-1, batch.input_ids[:, 1:, None]).squeeze(-1)
    entropy = -(logprobs.exp() * logprobs).sum(-1)
    pad = torch.zeros_like(picked[:, :1])
    mask = batch.loss_mask
    return (
        torch.cat([pad, picked], 1) * mask,
        torch.cat([pad, entropy], 1) * mask,
        out.hidden_states[-1],
    )


def test_shared_prefix_scoring_equals_the_plain_forward(tiny):
    model = copy.deepcopy(tiny[0]).float().train()
    batch = _batch(tiny)
    scores = score(model, batch, entropy=True, hidden=True)
    logprobs, entropy, hidden = _plain(model, batch)
    assert scores.entropy is not None and scores.hidden is not None
    torch.testing.assert_close(scores.logprobs, logprobs, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(scores.entropy, entropy, atol=1e-5, rtol=1e-5)
    real = batch.attention_mask.bool()
    torch.testing.assert_close(scores.hidden[real], hidden[real], atol=1e-5, rtol=1e-5)
    assert bool((scores.logprobs[batch.loss_mask == 0] == 0).all())


def test_shared_prefix_gradients_equal_the_plain_forward(tiny):
    model = copy.deepcopy(tiny[0]).float().train()
    batch = _batch(tiny)
    weights = torch.linspace(0.5, 1.5, batch.input_ids.shape[1])  # a loss that weighs positions

    def gradients(logprobs):
        model.zero_grad()
        (logprobs * weights).sum().backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    shared = gradients(score(model, batch).logprobs)
    plain = gradients(_plain(model, batch)[0])
    assert shared.keys() == plain.keys() and len(shared) > 10
    for name in plain:
        torch.testing.assert_close(shared[name], plain[name], atol=1e-5, rtol=1e-4, msg=name)


def test_separate_critic_reads_the_same_hidden_states(tiny):
    model = copy.deepcopy(tiny[0]).float()
    critic = Critic(model, "separate")
    torch.nn.init.normal_(critic.head.weight)
    batch = _batch(tiny)
    with torch.no_grad():
        expected = critic.values_from_hidden(_plain(critic.body, batch)[2])
        values = critic(batch)
    real = batch.attention_mask.bool()
    torch.testing.assert_close(values[real], expected[real], atol=1e-4, rtol=1e-4)


def test_generation_with_a_shared_system_prompt_matches_each_row_alone(tiny):
    model, tokenizer, chat = tiny
    system = "<|im_start|>system\n" + "You can call tools to help the user. " * 6 + "<|im_end|>\n"
    prefixes = [
        chat.encode(f"{system}<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n")
        for q in ("hi", "list my events for tomorrow please", "what")
    ]
    assert shared_prefix_length(prefixes) >= MIN_SHARED_PREFIX
    policy = HFPolicy(
        model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(0.0, max_new_tokens=10)
    )
    together = policy.generate(prefixes)
    for prefix, batched in zip(prefixes, together, strict=True):
        (alone,) = policy.generate([prefix])
        assert batched.token_ids == alone.token_ids
        torch.testing.assert_close(
            torch.tensor(batched.logprobs), torch.tensor(alone.logprobs), atol=1e-4, rtol=1e-4
        )


def _tokens_embedded(model, batch):
    """Scores ``batch``; also returns how many token positions the model embedded."""
    seen = []
    hook = model.get_input_embeddings().register_forward_hook(
        lambda _, inputs, __: seen.append(inputs[0].numel())
    )
    try:
        logprobs = score(model, batch).logprobs
    finally:
        hook.remove()
    return logprobs, sum(seen)


def test_gradient_checkpointing_keeps_the_shared_prefix_exact(tiny):
    model = copy.deepcopy(tiny[0]).float().train()
    batch = _batch(tiny)
    weights = torch.linspace(0.5, 1.5, batch.input_ids.shape[1])
    expected = _plain(model, batch)[0]
    model.zero_grad()
    (expected * weights).sum().backward()
    plain = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    model.activation_checkpointing_enable({"use_reentrant": False})
    model.zero_grad()
    logprobs, embedded = _tokens_embedded(model, batch)
    (logprobs * weights).sum().backward()  # the checkpointed layers replay against the prefix
    torch.testing.assert_close(logprobs, expected, atol=1e-5, rtol=1e-5)
    rows, width = batch.input_ids.shape
    system = int((batch.input_ids == batch.input_ids[0]).all(0).long().cumprod(0).sum())
    assert system >= MIN_SHARED_PREFIX
    assert embedded == system + rows * (width - system)  # the system prompt ran once
    for name, grad in plain.items():
        torch.testing.assert_close(model.get_parameter(name).grad, grad, atol=1e-5, rtol=1e-4)


def test_entropy_is_differentiable_only_when_asked(tiny):
    model = copy.deepcopy(tiny[0]).float().train()
    batch = _batch(tiny)
    diagnostic = score(model, batch, entropy=True)
    bonus = score(model, batch, entropy_grad=True)
    assert diagnostic.logprobs.requires_grad and not diagnostic.entropy.requires_grad
    assert bonus.entropy.requires_grad
    torch.testing.assert_close(diagnostic.entropy, bonus.entropy.detach())


def test_logits_in_chunks_give_the_same_values_and_gradients(tiny, monkeypatch):
    import toolgym.tokens.scoring as scoring

    # float64: chunking only reorders sums, which moves float32 gradients by about 1 ulp of their
    # largest entry (embed_tokens: 5.7e-6 on 7.6); in float64 that noise is ~1e-15 and a real error
    # (a chunk dropped, counted twice or misaligned) still shows at full size.
    model = copy.deepcopy(tiny[0]).double().train()
    batch = _batch(tiny, lengths=(9, 14, 5, 11))
    positions = int(batch.loss_mask[:, 1:].sum())
    weights = torch.linspace(0.5, 1.5, batch.input_ids.shape[1], dtype=torch.float64)

    def run():  # log-probs, the entropy bonus's gradient path, and every parameter's gradient
        model.zero_grad()
        scores = score(model, batch, entropy_grad=True)
        ((scores.logprobs + 0.1 * scores.entropy) * weights).sum().backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        return scores.logprobs.detach(), scores.entropy.detach(), grads

    whole = run()
    calls = []
    head = scoring._head_scores
    monkeypatch.setattr(scoring, "_head_scores", lambda *a, **k: calls.append(1) or head(*a, **k))
    monkeypatch.setattr(scoring, "LOGIT_CHUNK", 7)
    chunked = run()
    chunks = -(-positions // 7)
    assert positions > 14 and len(calls) == 2 * chunks  # each chunk recomputed in the backward
    torch.testing.assert_close(chunked[0], whole[0], atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(chunked[1], whole[1], atol=1e-12, rtol=1e-12)
    assert chunked[2].keys() == whole[2].keys() and len(whole[2]) > 10
    for name in whole[2]:
        got, want = chunked[2][name], whole[2][name]
        torch.testing.assert_close(got, want, atol=1e-12, rtol=1e-10, msg=f"{name} differs")
    with torch.no_grad():  # no graph: each chunk once
        calls.clear()
        torch.testing.assert_close(score(model, batch, entropy=True).entropy, whole[1])
        assert len(calls) == chunks
