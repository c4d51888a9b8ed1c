"""vLLM's runtime LoRA routes on ``toolgym serve``: an adapter serves the requests that name it."""

import copy

import httpx
import pytest
import torch

peft = pytest.importorskip("peft")

from toolgym.llm.sampler import HFPolicy, SamplingConfig  # noqa: E402
from toolgym.serve import background_server, create_app  # noqa: E402
from toolgym.tokens.chat import ChatTokenizer  # noqa: E402

PROMPT = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
TARGETS = ["q_proj", "v_proj", "down_proj"]


@pytest.fixture
def served(tiny_model):
    base, tokenizer = tiny_model
    model = copy.deepcopy(base)  # the server wraps it with adapters
    app = create_app(model, tokenizer, model_name="tiny")
    with background_server(app) as url, httpx.Client(base_url=url[:-3], timeout=60) as http:
        yield http, app, base, tokenizer


def adapter(base, folder, *, r=4, seed=0):
    """A peft adapter on a copy of ``base`` with random (non-zero) weights, saved to ``folder``."""
    torch.manual_seed(seed)
    model = peft.get_peft_model(
        copy.deepcopy(base), peft.LoraConfig(r=r, lora_alpha=2 * r, target_modules=TARGETS)
    )
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_" in name:
                parameter.copy_(torch.randn_like(parameter) * 0.3)
    model.save_pretrained(folder)
    return model


def completion(http, prompt, model):
    body = {"model": model, "prompt": prompt, "max_tokens": 6, "temperature": 0.0,
            "logprobs": 0, "return_token_ids": True}  # fmt: skip
    reply = http.post("/v1/completions", json=body)
    assert reply.status_code == 200, reply.text
    choice = reply.json()["choices"][0]
    return choice["token_ids"], choice["logprobs"]["token_logprobs"]


def in_process(model, tokenizer, prompt):
    chat = ChatTokenizer(tokenizer)
    policy = HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(0.0))
    generation = policy.generate([prompt], 6)[0]
    return list(generation.token_ids), list(generation.logprobs)


def load(http, name, folder, inplace=False):
    body = {"lora_name": name, "lora_path": str(folder), "load_inplace": inplace}
    return http.post("/v1/load_lora_adapter", json=body)


def assert_same(got, expected):
    assert got[0] == expected[0]
    assert max(abs(a - b) for a, b in zip(got[1], expected[1], strict=True)) < 1e-4


def test_an_adapter_serves_the_requests_that_name_it_and_the_base_the_rest(served, tmp_path):
    http, _, base, tokenizer = served
    prompt = ChatTokenizer(tokenizer).encode(PROMPT)
    chat = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 6,
            "temperature": 0.0}  # fmt: skip
    before = http.post("/v1/chat/completions", json=chat).json()["choices"][0]["message"]
    trained = adapter(base, tmp_path / "a")
    reply = load(http, "policy", tmp_path / "a")
    assert reply.status_code == 200 and "added successfully" in reply.text
    assert_same(completion(http, prompt, "policy"), in_process(trained, tokenizer, prompt))
    assert_same(completion(http, prompt, "tiny"), in_process(base, tokenizer, prompt))
    assert completion(http, prompt, "policy")[0] != completion(http, prompt, "tiny")[0]
    after = http.post("/v1/chat/completions", json=chat).json()["choices"][0]["message"]
    assert after == before  # chat completions keep the base model
    assert [m["id"] for m in http.get("/v1/models").json()["data"]] == ["tiny", "policy"]


def test_a_loaded_name_is_replaced_in_place_only_when_asked(served, tmp_path):
    http, app, base, tokenizer = served
    prompt = ChatTokenizer(tokenizer).encode(PROMPT)
    adapter(base, tmp_path / "a", seed=0)
    second = adapter(base, tmp_path / "b", seed=1)
    assert load(http, "policy", tmp_path / "a").status_code == 200
    refused = load(http, "policy", tmp_path / "b")
    assert (
        refused.status_code == 400 and "already been loaded" in refused.json()["error"]["message"]
    )
    assert load(http, "policy", tmp_path / "b", inplace=True).status_code == 200
    assert_same(completion(http, prompt, "policy"), in_process(second, tokenizer, prompt))
    assert app.state.adapters.versions == {"policy": 2}


def test_an_in_place_reload_of_another_rank_is_refused_and_the_adapter_kept(served, tmp_path):
    http, _, base, tokenizer = served
    prompt = ChatTokenizer(tokenizer).encode(PROMPT)
    first = adapter(base, tmp_path / "a", r=4)
    adapter(base, tmp_path / "wide", r=8)
    load(http, "policy", tmp_path / "a")
    reply = load(http, "policy", tmp_path / "wide", inplace=True)
    assert reply.status_code == 400 and "must keep r" in reply.json()["error"]["message"]
    assert_same(completion(http, prompt, "policy"), in_process(first, tokenizer, prompt))


def test_two_adapters_side_by_side_and_unloading(served, tmp_path):
    http, _, base, tokenizer = served
    prompt = ChatTokenizer(tokenizer).encode(PROMPT)
    one, two = adapter(base, tmp_path / "a", seed=0), adapter(base, tmp_path / "b", seed=1)
    load(http, "one", tmp_path / "a")
    load(http, "two", tmp_path / "b")
    assert_same(completion(http, prompt, "two"), in_process(two, tokenizer, prompt))
    assert_same(completion(http, prompt, "one"), in_process(one, tokenizer, prompt))
    assert http.post("/v1/unload_lora_adapter", json={"lora_name": "one"}).status_code == 200
    gone = http.post("/v1/completions", json={"model": "one", "prompt": prompt})
    assert gone.status_code == 404 and "'tiny', 'two'" in gone.json()["error"]["message"]
    missing = http.post("/v1/unload_lora_adapter", json={"lora_name": "one"})
    assert missing.status_code == 404
    assert_same(completion(http, prompt, "two"), in_process(two, tokenizer, prompt))


def test_a_folder_without_an_adapter_is_refused(served, tmp_path):
    http, app, _, _ = served
    reply = load(http, "policy", tmp_path / "nothing")
    assert reply.status_code == 400 and "adapter_config.json" in reply.json()["error"]["message"]
    assert app.state.adapters.names == []
    assert http.post("/v1/load_lora_adapter", json={"lora_name": "x"}).status_code == 400
