"""Cross-turn KV cache of HFPolicy: same tokens and log-probs as the uncached path, less prefill."""

import pytest
import torch

from toolgym.llm.kv_cache import PrefixStore, RowCache
from toolgym.llm.sampler import HFPolicy, SamplingConfig


def policy(tiny, kv_cache, **config):
    model, tokenizer, chat = tiny
    config = SamplingConfig(kv_cache=kv_cache, **config)
    return HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, config)


def turns(tiny, policies, rounds=4, new_tokens=8):
    """Multi-turn streams, grown as a collector grows them; returns per policy, per round, gens."""
    _, _, chat = tiny
    system = "<|im_start|>system\n" + "You manage a calendar with tools. " * 8 + "<|im_end|>\n"
    users = ["hi", "book a meeting with ana tomorrow at noon please", "what is on friday?"]
    observations = ["<|im_start|>user\nok<|im_end|>\n", "<|im_start|>tool\n{'id': 3}<|im_end|>\n"]
    results = []
    for pol in policies:
        streams = [
            list(chat.encode(f"{system}<|im_start|>user\n{u}<|im_end|>\n<|im_start|>assistant\n"))
            for u in users
        ]
        history = []
        for turn in range(rounds):
            gens = pol.generate(streams, [new_tokens, new_tokens - 3, new_tokens][: len(streams)])
            history.append(gens)
            streams = [
                s + list(g.token_ids) + list(chat.encode(observations[(i + turn) % 2]))
                for i, (s, g) in enumerate(zip(streams, gens, strict=True))
            ]
            if turn == 1:  # an episode ends, and the order of the rest changes
                streams = streams[:2][::-1]
            if turn == 2:  # a fresh episode joins the batch
                streams.append(list(chat.encode(f"{system}<|im_start|>user\nnew<|im_end|>\n")))
        results.append(history)
    return results


def test_greedy_streams_and_logprobs_match_the_uncached_path(tiny):
    off = policy(tiny, False, temperature=0.0, max_new_tokens=8)
    on = policy(tiny, True, temperature=0.0, max_new_tokens=8)
    plain, cached = turns(tiny, [off, on])
    for plain_round, cached_round in zip(plain, cached, strict=True):
        for a, b in zip(plain_round, cached_round, strict=True):
            assert a.token_ids == b.token_ids
            assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
    assert on.prefill_tokens * 2 < off.prefill_tokens  # later rounds prefill only the deltas


def test_cached_rows_sit_at_their_true_positions(tiny):
    """Rows with very different cached lengths batched together give their solo results."""
    _, _, chat = tiny
    on = policy(tiny, True, temperature=0.0, max_new_tokens=6)
    short = list(chat.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"))
    long = list(chat.encode("<|im_start|>user\n" + "calendar " * 40 + "<|im_end|>\n"))
    first = on.generate([short, long])
    grown = [
        short + list(first[0].token_ids) + list(chat.encode("<|im_start|>user\nmore<|im_end|>\n")),
        long + list(first[1].token_ids) + list(chat.encode("x")),
    ]
    batched = on.generate(grown)
    assert on.store is not None and on.prefill_tokens < sum(map(len, [short, long, *grown]))
    for row, prefix in enumerate(grown):
        alone = policy(tiny, False, temperature=0.0, max_new_tokens=6).generate([prefix])[0]
        assert alone.token_ids == batched[row].token_ids
        assert alone.logprobs == pytest.approx(batched[row].logprobs, abs=1e-4)


def test_seeded_sampling_is_reproducible_with_the_cache(tiny):
    first, second = (
        turns(tiny, [policy(tiny, True, seed=7, max_new_tokens=8)])[0] for _ in range(2)
    )
    assert first == second


def test_off_switch_keeps_nothing(tiny):
    off = policy(tiny, False)
    assert off.store is None
    _, _, chat = tiny
    off.generate([chat.encode("<|im_start|>user\nhi<|im_end|>\n")], 3)
    assert off.store is None


def test_store_drops_stale_entries_caps_and_watches_weights(tiny):
    model, _, _ = tiny
    store = PrefixStore(model, max_entries=2)

    def row(tokens):
        empty = [torch.zeros(1, len(tokens), 1)]
        return RowCache(tuple(tokens), empty, empty)

    store.replace([row([1, 2]), row([3, 4]), row([5, 6])])
    assert [e.tokens for e in store.entries] == [(3, 4), (5, 6)]  # capped: the oldest went
    hits = store.lookup([[3, 4], [5, 6, 7], [1, 2, 1]])
    assert [h and h.tokens for h in hits] == [None, (5, 6), None]  # strict extensions only
    store.replace([row([5, 6, 7, 8])])  # supersedes (5, 6); (3, 4) idle for 1 call: kept
    assert [e.tokens for e in store.entries] == [(3, 4), (5, 6, 7, 8)]
    store.lookup([[5, 6, 7, 8, 9]])
    store.replace([row([5, 6, 7, 8, 9, 1])])  # (3, 4) idle for 2 calls now: dropped
    assert [e.tokens for e in store.entries] == [(5, 6, 7, 8, 9, 1)]
    with torch.no_grad():
        next(model.parameters()).add_(0.0)  # an in-place weight update
    assert store.lookup([[5, 6, 7, 8, 9, 1, 2]]) == [None] and store.entries == []
