"""Gymnasium spaces for text: any Unicode string, and a list of chat messages."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

_SAMPLE_PIECES = (
    "hello", "?", "<tool_call>", "</tool_call>", '{"name": ', '"arguments": {}', "}", "<think>",
    "</think>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>", " ", "\n", "é", "🙂", "\x00",
)  # fmt: skip


def random_text(rng: np.random.Generator, max_length: int = 32_768) -> str:
    """A string of 0-16 random fragments: format tags, JSON bits, odd characters."""
    picks = rng.integers(0, len(_SAMPLE_PIECES), size=int(rng.integers(0, 17)))
    return "".join(_SAMPLE_PIECES[i] for i in picks)[:max_length]


class Text(spaces.Space[str]):
    """Any Unicode string of at most ``max_length`` characters (Gymnasium's Text limits the charset).

    ``sample()`` draws strings built from format fragments and odd characters, which makes random
    actions useful for fuzzing parsers.
    """

    def __init__(self, max_length: int = 32_768, seed: int | np.random.Generator | None = None):
        self.max_length = max_length
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        """Text cannot be flattened into a numpy array."""
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string of 0-16 fragments."""
        return random_text(self.np_random, self.max_length)

    def contains(self, x: Any) -> bool:
        """True for a ``str`` no longer than ``max_length``."""
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"Text(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and other.max_length == self.max_length


MESSAGE_ROLES = ("system", "user", "assistant", "tool")


class Messages(spaces.Space[list[dict[str, str]]]):
    """A list of chat messages ``{"role": ..., "content": ...}`` (tool messages add ``"name"``)."""

    def __init__(self, seed: int | np.random.Generator | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        """Messages cannot be flattened into a numpy array."""
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> list[dict[str, str]]:
        """One or two random messages."""
        roles = self.np_random.choice(MESSAGE_ROLES, size=int(self.np_random.integers(1, 3)))
        return [{"role": str(r), "content": "..."} for r in roles]

    def contains(self, x: Any) -> bool:
        """True for a list of dicts with a known role and string values."""
        return isinstance(x, list) and all(
            isinstance(m, dict)
            and m.get("role") in MESSAGE_ROLES
            and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
            for m in x
        )

    def __repr__(self) -> str:
        return "Messages()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Messages)


class TokenIds(spaces.Space[list[int]]):
    """A list of token ids in ``[0, vocab_size)``."""

    def __init__(
        self,
        vocab_size: int,
        max_length: int = 1 << 20,
        seed: int | np.random.Generator | None = None,
    ):
        self.vocab_size, self.max_length = vocab_size, max_length
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        """Variable-length lists cannot be flattened."""
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> list[int]:
        """1-32 uniformly random ids."""
        count = int(self.np_random.integers(1, 33))
        return [int(i) for i in self.np_random.integers(0, self.vocab_size, size=count)]

    def contains(self, x: Any) -> bool:
        """True for a list of ints in range, at most ``max_length`` long."""
        return (
            isinstance(x, list)
            and len(x) <= self.max_length
            and all(isinstance(i, int) and 0 <= i < self.vocab_size for i in x)
        )

    def __repr__(self) -> str:
        return f"TokenIds(vocab_size={self.vocab_size})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenIds) and other.vocab_size == self.vocab_size
