"""``ServerTokenPolicy`` against ``toolgym serve`` over real HTTP, and against faulty servers."""

import gymnasium as gym
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.collector import Collector
from toolgym.llm.errors import EndpointError
from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.llm.token_client import MissingTokenData, ServerTokenPolicy, TokenServerConfig
from toolgym.serve import background_server, create_app
from toolgym.tokens.chat import ChatTokenizer

MAX_NEW = 12


@pytest.fixture(scope="module")
def served(tiny_model):
    """(server root, model, tokenizer, chat) of the tiny model behind a loopback uvicorn."""
    model, tokenizer = tiny_model
    app = create_app(model, tokenizer, model_name="tiny-served")
    with background_server(app) as url:
        yield url.removesuffix("/v1"), model, tokenizer, ChatTokenizer(tokenizer), app


def collect(chat, policy):
    collector = Collector(
        lambda: gym.make("toolgym/Search-v0", split="test"),
        chat,
        policy,
        max_tokens=1200,
        progress=False,
    )
    tasks = [t.id for t in collector.make_env().unwrapped.tasks[:2]]
    return collector.collect(tasks, group_size=2, seed=1)


def streams(trajectories):
    return [
        [(s.role, s.token_ids, s.logprobs if s.trainable else None) for s in t.segments]
        for t in trajectories
    ]


@pytest.mark.parametrize("protocol", ["vllm", "sglang"])
def test_collector_over_http_matches_in_process_greedy(served, protocol):
    root, model, tokenizer, chat, app = served
    local = HFPolicy(
        model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(0.0, max_new_tokens=MAX_NEW)
    )
    expected, _ = collect(chat, local)
    config = TokenServerConfig(
        base_url=root,
        protocol=protocol,
        model="tiny-served",
        temperature=0.0,
        max_new_tokens=MAX_NEW,
    )
    batches_before = app.state.batcher.batches
    with ServerTokenPolicy(config, chat.stop_ids) as remote:
        got, stats = collect(chat, remote)
        assert remote.stats.retries == 0
    assert stats.generated_tokens > 0 and len(got) == len(expected) == 4
    for mine, theirs in zip(streams(got), streams(expected), strict=True):
        assert [(r, ids) for r, ids, _ in mine] == [(r, ids) for r, ids, _ in theirs]
        for (_, _, lp_mine), (_, _, lp_theirs) in zip(mine, theirs, strict=True):
            if lp_mine is not None:
                assert lp_mine == pytest.approx(lp_theirs, abs=1e-4)
    assert app.state.batcher.batches - batches_before < stats.rounds * 4  # requests were batched


def test_stop_token_is_kept_and_budgets_respected(served):
    root, model, tokenizer, chat, _ = served
    prefix = chat.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    local = HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(0.0))
    config = TokenServerConfig(
        base_url=root, model="tiny-served", temperature=0.0, max_new_tokens=256
    )
    with ServerTokenPolicy(config, chat.stop_ids) as remote:
        gens = remote.generate([prefix] * 3, [0, 3, 40])
    here = local.generate([prefix] * 3, [0, 3, 40])
    assert [g.token_ids for g in gens] == [g.token_ids for g in here]  # greedy: identical tokens
    for theirs, mine in zip(gens, here, strict=True):  # batch shapes differ: floats within 1e-4
        assert theirs.logprobs == pytest.approx(mine.logprobs, abs=1e-4)
    assert [len(g.token_ids) for g in gens[:2]] == [0, 3]


# ---------------------------------------------------------------------------- faulty servers
def fake_app(reply, fail_first: int = 0, status: int = 503):
    """A server whose routes answer ``reply`` after ``fail_first`` ``status`` errors."""
    calls = {"n": 0}

    async def route(request: Request) -> Response:
        await request.json()
        calls["n"] += 1
        if calls["n"] <= fail_first:
            return JSONResponse({"error": {"message": "injected"}}, status_code=status)
        return JSONResponse(reply)

    app = Starlette(
        routes=[Route(p, route, methods=["POST"]) for p in ("/v1/completions", "/generate")]
    )
    app.state.calls = calls
    return app


TEXT_ONLY = {"choices": [{"index": 0, "text": "hello", "finish_reason": "length"}]}
VLLM_OK = {
    "choices": [
        {"index": 0, "text": "", "token_ids": [5, 6], "logprobs": {"token_logprobs": [-1.0, -2.0]}}
    ]
}


@pytest.mark.parametrize(
    ("protocol", "reply", "field"),
    [
        ("vllm", TEXT_ONLY, "choices[0].token_ids"),
        ("vllm", {"choices": [{"text": "x", "token_ids": [1]}]}, "choices[0].logprobs"),
        ("sglang", {"text": "hello", "meta_info": {}}, "meta_info.output_token_logprobs"),
    ],
)
def test_text_without_ids_names_the_missing_field(protocol, reply, field):
    with background_server(fake_app(reply)) as url:
        config = TokenServerConfig(base_url=url.removesuffix("/v1"), protocol=protocol)
        with ServerTokenPolicy(config, [0]) as policy, pytest.raises(MissingTokenData) as info:
            policy.generate([[1, 2, 3]], 4)
    assert field in str(info.value)


def test_retries_on_503_then_succeeds():
    app = fake_app(VLLM_OK, fail_first=2)
    with background_server(app) as url:
        config = TokenServerConfig(base_url=url.removesuffix("/v1"), backoff_base=0.01)
        with ServerTokenPolicy(config, [0]) as policy:
            (gen,) = policy.generate([[1, 2, 3]], 4)
            assert policy.stats.retries == 2 and policy.stats.requests == 3
    assert gen.token_ids == (5, 6) and gen.logprobs == (-1.0, -2.0)


def test_gives_up_after_max_retries():
    app = fake_app(VLLM_OK, fail_first=10)
    with background_server(app) as url:
        config = TokenServerConfig(
            base_url=url.removesuffix("/v1"), backoff_base=0.01, max_retries=1
        )
        with ServerTokenPolicy(config, [0]) as policy, pytest.raises(EndpointError) as info:
            policy.generate([[1, 2, 3]], 4)
    assert info.value.status_code == 503 and app.state.calls["n"] == 2


@pytest.mark.parametrize(
    "url", ["http://h:8000", "http://h:8000/", "http://h:8000/v1", "http://h:8000/v1/"]
)
def test_base_url_with_or_without_v1_reaches_the_same_routes(url):
    assert TokenServerConfig(base_url=url).root == "http://h:8000"
    policy = ServerTokenPolicy(TokenServerConfig(base_url=url, protocol="sglang"), [1])
    assert policy.url == "http://h:8000/generate"
    policy.close()
