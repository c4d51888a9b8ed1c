"""SGLang's ``/update_weights_from_disk`` on ``toolgym serve``: new weights, the same replies after."""

import copy

import httpx
import pytest
import torch

from toolgym.llm.sampler import HFPolicy, SamplingConfig
from toolgym.serve import background_server, create_app
from toolgym.tokens.chat import ChatTokenizer

PROMPT = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture
def served(tiny_model):
    base, tokenizer = tiny_model
    model = copy.deepcopy(base)  # this test changes the served weights
    app = create_app(model, tokenizer, model_name="tiny")
    with background_server(app) as url, httpx.Client(base_url=url[:-3], timeout=60) as http:
        yield http, app, model, tokenizer


def greedy_ids(http, prompt):
    body = {"input_ids": prompt, "sampling_params": {"max_new_tokens": 6, "temperature": 0.0}}
    return http.post("/generate", json=body).json()["output_ids"]


def test_loaded_weights_replace_the_served_ones_and_generation_follows(served, tmp_path):
    http, app, model, tokenizer = served
    prompt = ChatTokenizer(tokenizer).encode(PROMPT)
    before = greedy_ids(http, prompt)
    trained = copy.deepcopy(model)
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.5)
    trained.save_pretrained(tmp_path / "step-1")
    reply = http.post(
        "/update_weights_from_disk",
        json={"model_path": str(tmp_path / "step-1"), "weight_version": "1"},
    )
    assert reply.status_code == 200 and reply.json()["success"] is True
    assert app.state.weight_version == "1"
    for mine, theirs in zip(
        model.state_dict().values(), trained.state_dict().values(), strict=True
    ):
        assert torch.equal(mine, theirs)
    chat = ChatTokenizer(tokenizer)
    local = HFPolicy(trained, chat.stop_ids, tokenizer.pad_token_id, SamplingConfig(0.0))
    expected = list(local.generate([prompt], 6)[0].token_ids)
    assert greedy_ids(http, prompt) == expected  # the old weights' kept caches were dropped
    assert expected != before  # (the perturbation changes the greedy reply of this tiny model)


def test_a_folder_that_does_not_fit_is_refused_and_the_model_kept(served, tmp_path):
    http, _, model, _ = served
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    reply = http.post("/update_weights_from_disk", json={"model_path": str(tmp_path / "none")})
    assert reply.status_code == 400 and reply.json()["success"] is False
    assert "no *.safetensors" in reply.json()["message"]
    from safetensors.torch import save_file

    (tmp_path / "bad").mkdir()
    save_file(
        {"model.embed_tokens.weight": torch.zeros(3, 3)}, str(tmp_path / "bad" / "x.safetensors")
    )
    reply = http.post("/update_weights_from_disk", json={"model_path": str(tmp_path / "bad")})
    assert reply.status_code == 400 and "do not fit" in reply.json()["message"]
    assert all(torch.equal(kept[k], v) for k, v in model.state_dict().items())
