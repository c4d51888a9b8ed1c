"""Chat templates of four families, each with the tiny tokenizer plus its special tokens."""

import copy
from functools import cache
from pathlib import Path

from toolgym.llm import models
from toolgym.tokens.chat import ChatTokenizer

TEMPLATES = Path(__file__).parent.parent / "fixtures" / "chat_templates"
SPECIALS = {
    "chatml": [],
    "qwen25": [],
    "llama3": ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    "glm45": ["[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"],
}
STOPS = {"glm45": ["<|user|>", "<|observation|>", "<|endoftext|>"]}


@cache
def chat_for(name: str) -> ChatTokenizer:
    """The tiny tokenizer with the template's special tokens, wrapped with that template."""
    tokenizer = copy.deepcopy(models.tiny_tokenizer())
    if SPECIALS[name]:
        tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[name]})
    if name == "llama3":
        tokenizer.bos_token = "<|begin_of_text|>"
    template = (TEMPLATES / f"{name}.jinja").read_text()
    return ChatTokenizer(tokenizer, chat_template=template, stop_tokens=STOPS.get(name, ()))
