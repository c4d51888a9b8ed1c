"""SFT from a JSONL of conversations: the stream, its mask, the errors, and a training run on it."""

import json

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from toolgym.formats import get_format
from toolgym.tooling import ToolCall
from toolgym.train.config import TrainConfig
from toolgym.train.conversations import Conversation, conversation_trajectory, sft_dataset
from toolgym.train.loop import Trainer

HERMES = get_format("hermes")
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the web.",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    }
]
CHAT = {
    "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Who wrote Dune?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "search", "arguments": '{"query": "Dune author"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Dune is a 1965 novel by Frank Herbert."},
        {"role": "assistant", "content": "Frank Herbert."},
        {"role": "user", "content": "Thanks!"},
    ],
    "tools": TOOLS,
}


def trainable_text(trajectory, tokenizer):
    return [tokenizer.decode(list(s.token_ids)) for s in trajectory.segments if s.trainable]


def test_only_assistant_turns_are_trainable_and_the_stream_is_the_templates(tiny):
    _, tokenizer, chat = tiny
    trajectory = conversation_trajectory(Conversation.model_validate(CHAT), chat, HERMES, "x")
    call = HERMES.render_calls([ToolCall(name="search", arguments={"query": "Dune author"})])
    assert trainable_text(trajectory, tokenizer) == [
        f"{call}<|im_end|>",
        "Frank Herbert.<|im_end|>",
    ]
    assert sum(trajectory.loss_mask) == sum(
        len(s.token_ids) for s in trajectory.segments if s.role == "assistant"
    )
    assert trajectory.turn_rewards == [0.0, 0.0] and len(trajectory.turn_ends) == 2
    # the stream is the template's own rendering of the conversation up to the last assistant turn
    # (the tools block in the system prompt, the call in hermes syntax, the tool result by name)
    stream = tokenizer.decode(trajectory.token_ids)
    assert stream.startswith("<|im_start|>system\nYou are helpful.\n\n")
    assert '"name": "search"' in stream.split("<|im_end|>")[0]  # the tools block
    assert "<|im_start|>tool\nDune is a 1965 novel" in stream
    assert stream.endswith("<|im_start|>assistant\nFrank Herbert.<|im_end|>")
    assert "Thanks!" not in stream  # what follows the last assistant turn trains nothing


messages = st.lists(
    st.tuples(
        st.sampled_from(["user", "tool", "assistant"]),
        st.text(alphabet='abc xyz.,!?\n{}"0123456789', min_size=1, max_size=30),
    ),
    min_size=1,
    max_size=8,
)


@given(messages)
def test_property_trainable_tokens_are_exactly_the_assistant_texts(tiny, turns):
    _, tokenizer, chat = tiny
    history = [{"role": "user", "content": "start"}]
    history += [{"role": role, "content": text} for role, text in turns]
    history.append({"role": "assistant", "content": "end"})
    trajectory = conversation_trajectory(
        Conversation.model_validate({"messages": history}), chat, HERMES, "p"
    )
    texts = [m["content"] for m in history if m["role"] == "assistant"]
    assert trainable_text(trajectory, tokenizer) == [f"{t}<|im_end|>" for t in texts]
    # and the whole stream equals the chat template's rendering (ChatML is prefix-preserving)
    rendered = chat.render(history)
    assert tokenizer.decode(trajectory.token_ids) == rendered.removesuffix("\n")


def write(tmp_path, lines):
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "chats.jsonl:3: not JSON"),
        (
            '{"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "x"}]}',
            "chats.jsonl:3: messages: no assistant message",
        ),
        (
            '{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]}',
            "chats.jsonl:3: messages: the first message must be system or user",
        ),
        (
            '{"messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}]}',
            "chats.jsonl:3: messages.1",
        ),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": '
            '[{"type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]}',
            "chats.jsonl:3: messages.1.assistant.tool_calls.0.function.arguments",
        ),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], '
            '"extra": 1}',
            "chats.jsonl:3: extra: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_line_is_named_by_file_line_and_field(tmp_path, tiny, line, expected):
    _, _, chat = tiny
    path = write(tmp_path, [json.dumps(CHAT), "", line])
    with pytest.raises(ValueError) as error:
        sft_dataset(path, chat, HERMES, max_tokens=4096)
    assert expected in str(error.value)


def test_a_conversation_over_the_token_budget_is_refused(tmp_path, tiny):
    _, _, chat = tiny
    path = write(tmp_path, [json.dumps(CHAT)])
    with pytest.raises(ValueError, match=r"chats.jsonl:1: \d+ tokens, over max_tokens=64"):
        sft_dataset(path, chat, HERMES, max_tokens=64)
    with pytest.raises(ValueError, match="no conversations"):
        sft_dataset(write(tmp_path, ["", "  "]), chat, HERMES, max_tokens=64)


def conversations_file(tmp_path, count=6):
    lines = []
    for index in range(count):
        chat = json.loads(json.dumps(CHAT))
        chat["messages"][4]["content"] = f"Frank Herbert ({index})."
        lines.append(json.dumps(chat))
    return write(tmp_path, lines)


def test_sft_trains_on_the_jsonl_in_file_order_of_a_seeded_permutation(tmp_path):
    path = conversations_file(tmp_path)
    config = TrainConfig(
        env="toolgym/Search-v0", algo="sft", model="tiny", steps=3, tasks_per_step=2,
        group_size=1, lr=3e-3, sft={"data": path}, out=tmp_path / "run", eval_tasks=1,
        max_new_tokens=8, checkpoint_every=3,
    )  # fmt: skip
    trainer = Trainer(config, progress=False)
    assert sorted(trainer.train_tasks) == [f"chats.jsonl:{n}" for n in range(1, 7)]
    start = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    losses = [trainer.train_step()["loss"] for _ in range(3)]
    assert trainer.task_position == 6
    assert all(not torch.equal(start[n], p) for n, p in trainer.model.named_parameters())
    assert losses[-1] < losses[0]


def test_sft_data_is_only_for_sft_and_a_bad_file_stops_before_training(tmp_path):
    with pytest.raises(ValueError, match="sft is read by algo='sft' only"):
        TrainConfig(algo="grpo", sft={"data": tmp_path / "x.jsonl"})
    bad = write(tmp_path, [json.dumps(CHAT), '{"messages": []}'])
    config = TrainConfig(algo="sft", model="tiny", sft={"data": bad}, out=tmp_path / "run")
    with pytest.raises(ValueError, match=r"chats.jsonl:2: messages: List should have at least 2"):
        Trainer(config, progress=False)


def test_cli_reports_a_bad_sft_file_and_exits_2(tmp_path):
    from typer.testing import CliRunner

    from toolgym.cli import app

    bad = write(tmp_path, ["{oops"])
    result = CliRunner().invoke(
        app, ["train", "--algo", "sft", "--model", "tiny", "--set", f"sft.data={bad}",
              "--out", str(tmp_path / "run")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "chats.jsonl:1: not JSON" in result.output


def test_oracle_episodes_written_as_jsonl_give_the_oracle_token_streams(tmp_path, tiny):
    """The JSONL path and the oracle path build the same stream and mask for the same conversation."""
    import gymnasium as gym

    from toolgym.policies.reference import OraclePolicy
    from toolgym.train.data import oracle_trajectories

    _, _, chat = tiny
    make = lambda: gym.make("toolgym/Search-v0")  # noqa: E731
    ids = ["search-train-001", "search-train-002", "search-train-003"]
    lines = []
    for task_id in ids:
        env = make()
        env.reset(seed=0, options={"task_id": task_id})
        oracle, done = OraclePolicy(), False
        oracle.reset(env.unwrapped, env.unwrapped.task)
        while not done:
            *_, terminated, truncated, _ = env.step(oracle.act([]))
            done = terminated or truncated
        lines.append(json.dumps({"messages": env.unwrapped.episode.messages}))
    dataset = sft_dataset(write(tmp_path, lines), chat, HERMES, max_tokens=8192)
    for from_jsonl, from_oracle in zip(
        dataset.values(), oracle_trajectories(make, chat, ids), strict=True
    ):
        assert from_jsonl.token_ids == from_oracle.token_ids
        assert from_jsonl.loss_mask == from_oracle.loss_mask
