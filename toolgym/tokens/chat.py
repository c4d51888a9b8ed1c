r"""Chat-template rendering as token deltas: what to append after a turn, at constant cost.

The token stream of an episode is built by appending, never by re-rendering:

- ``prompt_ids(messages)``: the system prompt and first user message, ending with the template's
  generation prompt (e.g. ``<|im_start|>assistant\\n``).
- the policy's generated ids, stored verbatim;
- ``observation_ids(new_messages, stop_id)``: what the template writes between the end of that
  assistant message and the next generation prompt: the rest of the assistant turn (e.g. the
  ``\\n`` after ``<|im_end|>``; the whole turn ending if the model stopped without one), then the
  new tool/user messages, then the generation prompt.

The delta is computed against a fixed three-message anchor conversation, not the real history, so
its cost does not grow with the episode. For prefix-preserving templates (ChatML, Qwen2.5,
Llama-3) the stream equals the tokenizer's own rendering of the final conversation (a property
test checks it). Templates that rewrite history (e.g. GLM-4.5 drops earlier ``<think>`` blocks)
are not followed there: toolgym never re-renders history, so the stream keeps every generated
token, exactly what the policy was conditioned on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MARKER = "toolgym-anchor"
ANCHOR = [
    {"role": "system", "content": "S"},
    {"role": "user", "content": "U"},
    {"role": "assistant", "content": MARKER},
]


class ChatTokenizer:
    """A tokenizer plus a chat template, turned into prompt ids, stop ids and observation deltas."""

    def __init__(
        self, tokenizer: Any, chat_template: str | None = None, stop_tokens: Sequence[str] = ()
    ):
        """Wrap ``tokenizer`` (a transformers tokenizer).

        Args:
            tokenizer: Any transformers tokenizer.
            chat_template: Jinja template; defaults to the tokenizer's own.
            stop_tokens: Tokens that end an assistant turn. Default: the special token the template
                writes right after assistant content (e.g. ``<|im_end|>``) and the EOS token.
        """
        self.tokenizer = tokenizer
        self.template = chat_template or tokenizer.chat_template
        if not self.template:
            raise ValueError("the tokenizer has no chat template; pass chat_template=...")
        generation_prompt = self.render(ANCHOR[:2], add_generation_prompt=True)
        turn = self.render(ANCHOR)[len(generation_prompt) :]
        if not self.render(ANCHOR).startswith(generation_prompt) or MARKER not in turn:
            raise ValueError("chat template is not prefix-preserving around an assistant turn")
        self.turn_end = turn[turn.index(MARKER) + len(MARKER) :]  # written after assistant content
        names = list(stop_tokens) or self._default_stops()
        self.stop_ids = frozenset(self._single_id(name) for name in names)
        self._stop_text = {i: tokenizer.convert_ids_to_tokens(i) for i in self.stop_ids}
        self._anchor_text = self.render(ANCHOR)
        first = self.encode(self.turn_end)[:1]
        self.end_of_turn_id: int | None = first[0] if first and first[0] in self.stop_ids else None
        """The stop id the template itself writes after assistant content (None if it writes none)."""

    def render(
        self, messages: Sequence[dict[str, Any]], add_generation_prompt: bool = False
    ) -> str:
        """The template's text for ``messages``."""
        return self.tokenizer.apply_chat_template(
            list(messages),
            chat_template=self.template,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
        )

    def encode(self, text: str) -> list[int]:
        """Token ids of rendered text (special-token strings become their ids)."""
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def prompt_ids(self, messages: Sequence[dict[str, Any]]) -> list[int]:
        """Ids of the first messages followed by the generation prompt."""
        return self.encode(self.render(messages, add_generation_prompt=True))

    def observation_ids(
        self,
        messages: Sequence[dict[str, Any]],
        stop_id: int | None,
        add_generation_prompt: bool = True,
    ) -> list[int]:
        """Ids to append after a generated turn that ended with ``stop_id`` (None: cut short).

        If the generated stop token already begins the delta (templates whose turns end where the
        next role tag starts), it is not repeated.
        """
        full = self.render([*ANCHOR, *messages], add_generation_prompt=add_generation_prompt)
        if not full.startswith(self._anchor_text):
            raise ValueError("chat template is not prefix-preserving for these messages")
        text = self.turn_end + full[len(self._anchor_text) :]
        stop_text = self._stop_text.get(stop_id) if stop_id is not None else None
        if stop_text is not None and text.startswith(stop_text):
            text = text[len(stop_text) :]
        return self.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of generated ids, without a final stop token (to be parsed as the action)."""
        if ids and ids[-1] in self.stop_ids:
            ids = ids[:-1]
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def _default_stops(self) -> list[str]:
        names = []
        first = self.encode(self.turn_end)[:1]
        if first and first[0] in self.tokenizer.all_special_ids:
            names.append(self.tokenizer.convert_ids_to_tokens(first[0]))
        if self.tokenizer.eos_token and self.tokenizer.eos_token not in names:
            names.append(self.tokenizer.eos_token)
        if not names:
            raise ValueError(
                "cannot tell which token ends an assistant turn; pass stop_tokens=[...]"
            )
        return names

    def _single_id(self, token: str) -> int:
        ids = self.encode(token)
        if len(ids) != 1:
            raise ValueError(f"stop token {token!r} is not a single token in this tokenizer")
        return ids[0]
