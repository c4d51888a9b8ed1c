"""SmolLM2-135M (the embedded default) plays the user on CPU: in process, and behind `toolgym serve`."""

import gymnasium as gym
import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.llm import models
from toolgym.policies import OpenAIConfig, OraclePolicy, play
from toolgym.serve import background_server, create_app
from toolgym.users import EndpointBackend, LLMUser, LocalBackend

pytestmark = pytest.mark.slow

TASK = "calendar-test-006"  # "Schedule ... next week at 10:30": the oracle must ask which day


@pytest.fixture(scope="module")
def smollm2():
    return models.load("smollm2-135m")


def test_smollm2_user_answers_the_same_in_process_and_through_the_server(smollm2):
    model, tokenizer = smollm2
    local = LocalBackend(model, tokenizer, name="smollm2-135m", temperature=0.0, max_new_tokens=32)
    app = create_app(model, tokenizer, model_name="smollm2-135m")
    replies = []
    with background_server(app) as url:
        remote = EndpointBackend(
            OpenAIConfig(base_url=url, model="smollm2-135m", temperature=0.0, max_tokens=32)
        )
        for backend in (local, remote):
            user = LLMUser(backend, ending="signal_or_answer")
            env = gym.make("toolgym/Calendar-v0", split="test", user=user)
            result = play(env, OraclePolicy(), task_id=TASK, seed=0)
            assert result.end_reason == "answered" and result.components["completion"] == 1.0
            said = [m["content"] for m in result.messages[2:] if m["role"] == "user"]
            assert len(said) == 1 and said[0].strip() and "<|im_" not in said[0]
            assert user.stats.calls == 1 and user.stats.completion_tokens > 0
            replies.append(said[0])
    assert replies[0] == replies[1]  # greedy: the server renders the same prompt as the local model
