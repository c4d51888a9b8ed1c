"""The token-id routes of ``toolgym serve`` (vLLM ``/v1/completions``, SGLang ``/generate``)."""

import httpx
import pytest

from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.serve import background_server, create_app
from toolgym.tokens.chat import ChatTokenizer

MODEL_NAME = "tiny-served"
PROMPT_TEXT = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def served(tiny_model):
    model, tokenizer = tiny_model
    app = create_app(model, tokenizer, model_name=MODEL_NAME)
    with background_server(app) as url, httpx.Client(base_url=url[:-3], timeout=60) as http:
        yield http, model, tokenizer, ChatTokenizer(tokenizer)


def greedy(served, budget):
    _, model, tokenizer, chat = served
    policy = HFPolicy(model, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(0.0))
    return policy.generate([chat.encode(PROMPT_TEXT)], budget)[0]


def test_completions_returns_ids_and_logprobs_of_greedy_hf_policy(served):
    http, _, _, chat = served
    prompt = chat.encode(PROMPT_TEXT)
    body = {"model": MODEL_NAME, "prompt": prompt, "max_tokens": 7, "temperature": 0}
    reply = http.post("/v1/completions", json=body | {"logprobs": 0, "return_token_ids": True})
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["object"] == "text_completion" and data["usage"]["prompt_tokens"] == len(prompt)
    (choice,) = data["choices"]
    expected = greedy(served, 7)
    assert tuple(choice["token_ids"]) == expected.token_ids and choice["prompt_token_ids"] == prompt
    assert choice["logprobs"]["token_logprobs"] == pytest.approx(expected.logprobs, abs=1e-5)
    assert choice["text"] == chat.tokenizer.decode(list(expected.token_ids))
    assert choice["finish_reason"] in ("stop", "length")
    plain = http.post("/v1/completions", json=body).json()["choices"][0]
    assert plain["token_ids"] is None and plain["logprobs"] is None  # only on request


def test_generate_returns_output_ids_and_logprob_triples(served):
    http, _, _, chat = served
    body = {
        "input_ids": chat.encode(PROMPT_TEXT),
        "sampling_params": {"max_new_tokens": 5, "temperature": 0},
        "return_logprob": True,
    }
    data = http.post("/generate", json=body).json()
    expected = greedy(served, 5)
    assert tuple(data["output_ids"]) == expected.token_ids
    triples = data["meta_info"]["output_token_logprobs"]
    assert [t[1] for t in triples] == data["output_ids"]
    assert [t[0] for t in triples] == pytest.approx(expected.logprobs, abs=1e-5)
    assert data["meta_info"]["completion_tokens"] == len(expected.token_ids)
    no_logprobs = http.post("/generate", json=body | {"return_logprob": False}).json()
    assert "output_token_logprobs" not in no_logprobs["meta_info"]


def test_a_stop_id_ends_the_generation_and_is_kept(served):
    http, _, _, chat = served
    first = greedy(served, 6).token_ids
    body = {
        "input_ids": chat.encode(PROMPT_TEXT),
        "sampling_params": {"max_new_tokens": 6, "temperature": 0, "stop_token_ids": [first[1]]},
    }
    data = http.post("/generate", json=body).json()
    assert data["output_ids"][-1] == first[1] and len(data["output_ids"]) <= 2
    assert data["meta_info"]["finish_reason"] == {"type": "stop", "matched": first[1]}


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/v1/completions", {"prompt": "some text"}, 400, "prompt"),
        ("/v1/completions", {"prompt": []}, 400, "prompt"),
        ("/v1/completions", {"model": "other", "prompt": [1]}, 404, "does not exist"),
        ("/generate", {"text": "hi"}, 400, "input_ids"),
        ("/generate", {"input_ids": [1], "sampling_params": {"top_p": 0}}, 400, "top_p"),
    ],
)
def test_bad_requests_name_the_field(served, path, body, status, needle):
    reply = served[0].post(path, json=body)
    assert reply.status_code == status and needle in reply.json()["error"]["message"]


def test_a_body_that_is_not_json_is_a_400(served):
    reply = served[0].post("/generate", content=b"{nope", headers={"content-type": "text/plain"})
    assert reply.status_code == 400 and "not valid JSON" in reply.json()["error"]["message"]
