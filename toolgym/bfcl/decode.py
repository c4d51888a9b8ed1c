r"""Read a raw assistant message into calls the way bfcl-eval's handler does, so scores are BFCL's.

toolgym's own tool formats (``toolgym/formats/``) read calls leniently and per block; BFCL's
pipeline reads them with the decoder of the model's *handler family*, and its verdict depends on
that decoder's quirks. This module re-implements (written anew, not copied) the decoder of:

- ``"hermes"``: the Hermes-style FC handler used for Qwen's ``-FC`` models,
  ``bfcl_eval/model_handler/local_inference/qwen_fc.py`` (bfcl-eval 2026.3.23):
  ``QwenFCHandler._parse_query_response_prompting`` (what is kept of the raw text: after the last
  ``</think>``, leading newlines stripped), ``QwenFCHandler._extract_tool_calls`` (the blocks) and
  ``QwenFCHandler.decode_ast`` (blocks -> calls, or a decode failure).

- ``"prompting"``: BFCL's decoder for prompting models asked for ``[func(param=value)]``
  (``QwenHandler``, ``default_decode_ast_prompting``): see :mod:`toolgym.bfcl.decode_prompting`.

Hermes rules, in BFCL's terms:

- A block is exactly ``<tool_call>\\n...\\n</tool_call>`` (the newlines inside the tags are
  required; ``<tool_call>{...}</tool_call>`` is not a block at all).
- A block that is not valid JSON is skipped silently.
- If any remaining block is not a JSON object (``[1, 2]``, ``"x"``, ``3``) the whole message
  fails to decode. An object without ``"name"`` or whose ``"arguments"`` is missing or not an
  object also fails the whole message; other keys (``"id"``, ...) are ignored.
- Irrelevance (``eval_runner._evaluate_single_relevance_entry``): a decode failure or no call
  means "no call", which is what irrelevance entries want.

A ``"name"`` that is a JSON array or object cannot be a dict key, so BFCL's decoder fails the
message. Another non-string ``"name"`` (a number, ``true``, ``null``) is kept by BFCL as a call
that matches no function; toolgym keeps it as a call named ``<non-string name: 5>`` to the same
effect (``ToolCall.name`` must be a string).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from toolgym.bfcl.decode_prompting import DecodeFailure, decode_prompting, looks_like_a_call
from toolgym.tooling import ToolCall

#: The BFCL handler families whose decoding toolgym reproduces.
BFCLHandler = Literal["hermes", "prompting"]
HANDLERS: tuple[str, ...] = get_args(BFCLHandler)

# QwenFCHandler._extract_tool_calls: non-greedy, across lines, newlines inside the tags required.
_HERMES_BLOCK = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.DOTALL)


@dataclass(frozen=True)
class Decoded:
    """What BFCL's decoder reads in one message.

    Attributes:
        calls: The calls, in order (empty on a decode failure).
        error: Why the message failed to decode (BFCL's decoder raised), else ``None``.
        skipped: Blocks BFCL skipped silently (not valid JSON), with the JSON error.
        stray_tags: ``<tool_call>`` tags that opened no block BFCL could see (e.g. no newline).
        reply: The message failed to decode but is a reply in words, not a broken call
            (prompting handler: BFCL's decoder rejects any text that is not a call list).
    """

    calls: tuple[ToolCall, ...] = ()
    error: str | None = None
    skipped: tuple[str, ...] = field(default_factory=tuple)
    stray_tags: int = 0
    reply: bool = False

    @property
    def well_formed(self) -> bool:
        """Decoded (or a reply in words) with nothing skipped and no tag BFCL ignored."""
        return (self.error is None or self.reply) and not self.skipped and self.stray_tags == 0

    @property
    def problems(self) -> list[str]:
        """Human-readable reasons the message is not well formed (empty when it is)."""
        out = [] if self.error is None or self.reply else [self.error]
        out += self.skipped
        if self.stray_tags:
            out.append(
                f"{self.stray_tags} <tool_call> tag(s) BFCL does not read: a block must be "
                '"<tool_call>\\n{...}\\n</tool_call>" with the newlines inside the tags'
            )
        return out


def kept_text(message: str) -> str:
    """The part of a raw completion BFCL keeps (``_parse_query_response_prompting``).

    With a ``</think>``: what follows the last one, leading newlines stripped; else all of it.
    """
    if "</think>" in message:
        return message.split("</think>")[-1].lstrip("\n")
    return message


def decode_message(message: str, handler: BFCLHandler = "hermes") -> Decoded:
    """Decode ``message`` (the raw completion) with the decoder of BFCL's ``handler`` family.

    Raises:
        ValueError: ``handler`` is not one of :data:`HANDLERS`.
    """
    if handler == "hermes":
        return _decode_hermes(kept_text(message))
    if handler == "prompting":
        return _decode_prompting(kept_text(message))
    raise ValueError(f"unknown BFCL handler {handler!r}; known: {', '.join(HANDLERS)}")


def _decode_prompting(text: str) -> Decoded:
    try:
        return Decoded(calls=tuple(decode_prompting(text)))
    except DecodeFailure as exc:
        return Decoded(error=str(exc), reply=not looks_like_a_call(text))


def _decode_hermes(text: str) -> Decoded:
    blocks = _HERMES_BLOCK.findall(text)
    stray = max(0, text.count("<tool_call>") - len(blocks))
    values: list[object] = []
    skipped: list[str] = []
    for number, block in enumerate(blocks, start=1):
        try:
            values.append(json.loads(block))
        except ValueError as exc:  # json.JSONDecodeError, and lone surrogates' errors
            skipped.append(f"block {number} is not valid JSON, BFCL skips it: {exc}")
    calls: list[ToolCall] = []
    for number, value in enumerate(values, start=1):
        error = _call_problem(value)
        if error is not None:
            return Decoded(
                error=f"call {number}: {error}", skipped=tuple(skipped), stray_tags=stray
            )
        assert isinstance(value, dict)
        name = value["name"]
        if not isinstance(name, str):
            name = f"<non-string name: {json.dumps(name)}>"
        calls.append(ToolCall(name=name, arguments=dict(value["arguments"])))
    return Decoded(calls=tuple(calls), skipped=tuple(skipped), stray_tags=stray)


def _call_problem(value: object) -> str | None:
    """Why one decoded block makes BFCL's ``decode_ast`` raise, else ``None``."""
    if not isinstance(value, dict):
        return f"a block holds {type(value).__name__} JSON, not an object: the message fails"
    if "name" not in value:
        return 'the object has no "name"'
    if isinstance(value["name"], list | dict):
        return f'"name" is a JSON {type(value["name"]).__name__}, which BFCL cannot use as a key'
    if "arguments" not in value:
        return 'the object has no "arguments"'
    if not isinstance(value["arguments"], dict):
        return f'"arguments" must be an object, got {type(value["arguments"]).__name__}'
    return None
