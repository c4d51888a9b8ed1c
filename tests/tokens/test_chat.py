"""Token deltas against the tokenizer's own rendering, for four template families."""

import pytest
from chat_templates import chat_for
from hypothesis import given, settings
from hypothesis import strategies as st

from toolgym.tokens.trajectory import Segment, Trajectory

PREFIX_PRESERVING = ["chatml", "qwen25", "llama3"]

text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="<>\r"), min_size=1, max_size=30
)
content = text.map(str.strip).filter(bool)
assistant_text = st.one_of(
    content,
    st.builds(
        lambda a, q: (
            f'{a}\n<tool_call>\n{{"name": "search", "arguments": {{"query": "{q}"}}}}\n</tool_call>'
        ),
        content,
        content.filter(lambda s: '"' not in s and "\\" not in s),
    ),
    st.builds(lambda r, a: f"<think>{r}</think>{a}", content, content),
)
observation = st.one_of(
    st.lists(
        st.builds(lambda c: {"role": "tool", "name": "search", "content": c}, content),
        min_size=1,
        max_size=3,
    ),
    st.builds(lambda c: [{"role": "user", "content": c}], content),
)
turns = st.lists(st.tuples(assistant_text, observation, st.booleans()), min_size=1, max_size=5)


@pytest.mark.parametrize("name", PREFIX_PRESERVING)
@settings(max_examples=60, deadline=None)
@given(system=content, user=content, script=turns)
def test_stream_equals_rendering_prefix_by_prefix(name, system, user, script):
    chat = chat_for(name)
    stop = chat.end_of_turn_id
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    segments = [Segment("prompt", tuple(chat.prompt_ids(messages)), False)]
    assert list(segments[0].token_ids) == chat.encode(
        chat.render(messages, add_generation_prompt=True)
    )
    for said, new_messages, stopped in script:
        generated = chat.encode(said) + ([stop] if stopped else [])
        segments.append(Segment("assistant", tuple(generated), True, (0.0,) * len(generated)))
        delta = chat.observation_ids(new_messages, stop if stopped else None)
        segments.append(Segment("observation", tuple(delta), False))
        messages += [{"role": "assistant", "content": said}, *new_messages]
        traj = Trajectory("t", list(segments))
        assert traj.token_ids == chat.encode(chat.render(messages, add_generation_prompt=True))
        generated_positions = {i for i, m in enumerate(traj.loss_mask) if m}
        expected_positions, position = set(), 0
        for seg in segments:
            if seg.role == "assistant":
                expected_positions |= set(range(position, position + len(seg.token_ids)))
            position += len(seg.token_ids)
        assert generated_positions == expected_positions


def test_stop_tokens_are_found_per_template():
    assert chat_for("chatml").turn_end == "<|im_end|>\n"
    assert chat_for("llama3").turn_end == "<|eot_id|>"
    tokenizer = chat_for("llama3").tokenizer
    assert {tokenizer.convert_ids_to_tokens(i) for i in chat_for("llama3").stop_ids} == {
        "<|eot_id|>",
        "<|im_end|>",
    }
    assert chat_for("glm45").turn_end == ""


def test_glm_stop_token_is_not_repeated_and_history_keeps_reasoning():
    """GLM turns end where the next role tag starts: the generated <|observation|> begins the delta.

    toolgym never re-renders history, so the reasoning of earlier turns stays in the stream (what
    the policy saw), while GLM's template drops it from a fresh rendering of the conversation.
    """
    chat = chat_for("glm45")
    observation_tag = chat.encode("<|observation|>")[0]
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "find x"}]
    stream = chat.prompt_ids(messages)
    said = "\n<think>I should search.</think>\n<tool_call>search</tool_call>"
    generated = chat.encode(said) + [observation_tag]
    result = [{"role": "tool", "name": "search", "content": "x = 4"}]
    delta = chat.observation_ids(result, observation_tag)
    assert chat.tokenizer.decode(delta).startswith("\n<tool_response>")  # tag not repeated
    stream += generated + delta
    messages += [{"role": "assistant", "content": said}, *result]
    assert stream == chat.encode(
        chat.render(messages, add_generation_prompt=True)
    )  # same user turn
    answer = chat.encode("\n<think></think>\nx is 4") + chat.encode("<|user|>")
    stream += answer + chat.observation_ids([{"role": "user", "content": "thanks"}], answer[-1])
    messages += [
        {"role": "assistant", "content": "\n<think></think>\nx is 4"},
        {"role": "user", "content": "thanks"},
    ]
    fresh = chat.encode(chat.render(messages, add_generation_prompt=True))
    assert "I should search." in chat.tokenizer.decode(stream)
    assert "I should search." not in chat.tokenizer.decode(fresh)  # the template dropped it


def test_cut_short_generation_gets_the_turn_end_unmasked():
    chat = chat_for("chatml")
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    cut = chat.encode("partial answ")
    delta = chat.observation_ids([{"role": "user", "content": "go on"}], None)
    assert chat.tokenizer.decode(delta).startswith("<|im_end|>\n<|im_start|>user")
    messages += [
        {"role": "assistant", "content": "partial answ"},
        {"role": "user", "content": "go on"},
    ]
    assert chat.prompt_ids(messages[:2]) + cut + delta == chat.encode(
        chat.render(messages, add_generation_prompt=True)
    )


def test_decode_drops_only_the_final_stop_token():
    chat = chat_for("chatml")
    ids = chat.encode("a<|im_end|>b<|im_end|>")
    assert chat.decode(ids) == "a<|im_end|>b"


def test_templates_without_chat_template_are_refused():
    import copy

    tokenizer = copy.deepcopy(chat_for("chatml").tokenizer)
    tokenizer.chat_template = None
    from toolgym.tokens.chat import ChatTokenizer

    with pytest.raises(ValueError, match="no chat template"):
        ChatTokenizer(tokenizer)
