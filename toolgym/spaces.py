"""Gymnasium spaces for text: any Unicode string, and a list of chat messages.

Vector envs batch them as tuples of per-env values (as Gymnasium batches its own ``Text``), and
``AsyncVectorEnv``'s default shared memory carries their observations as JSON in a fixed-size slot
per sub-env (:class:`SharedJSON`), so ``gymnasium.make_vec(id, vectorization_mode="async")`` works.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any, overload

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import (
    batch_differing_spaces,
    create_empty_array,
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)

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
    """A list of chat messages ``{"role": ..., "content": ...}`` (tool messages add ``"name"``).

    ``shared_memory_bytes`` sizes each sub-env's slot of ``AsyncVectorEnv``'s shared memory: the
    largest observation it carries, as ASCII JSON (bundled envs stay under 60 kB).
    """

    def __init__(
        self,
        seed: int | np.random.Generator | None = None,
        shared_memory_bytes: int = 1 << 20,
    ):
        self.shared_memory_bytes = shared_memory_bytes
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


# ------------------------------------------------------------------ vector envs
_LENGTH_BYTES = 4  # each shared-memory slot starts with its payload's length (little-endian)


class SharedJSON:
    """Shared memory with one fixed-size slot per sub-env, each holding one JSON value.

    ``AsyncVectorEnv`` creates it in the main process and hands it to each worker, which writes
    its observation into its slot; the main process reads it back through
    :class:`SharedObservations`. A worker that unpickles it imports toolgym, which registers the
    toolgym env ids there, so that ``partial(gymnasium.make, "toolgym/...")`` works under spawn.
    """

    def __init__(self, n: int, slot_bytes: int, ctx: ModuleType) -> None:
        self.n, self.slot_bytes = n, slot_bytes
        self.array = ctx.Array("B", n * (_LENGTH_BYTES + slot_bytes), lock=False)

    def _slot(self, index: int) -> np.ndarray:
        size = _LENGTH_BYTES + self.slot_bytes
        return np.frombuffer(self.array, dtype=np.uint8)[index * size : (index + 1) * size]

    def write(self, index: int, value: Any) -> None:
        """Store ``value`` (JSON-able) in slot ``index``.

        Raises:
            ValueError: its JSON does not fit the slot.
        """
        data = json.dumps(value).encode("ascii")  # ASCII escapes keep odd characters intact
        if len(data) > self.slot_bytes:
            raise ValueError(
                f"an observation of {len(data)} bytes of JSON does not fit the vector env's "
                f"{self.slot_bytes}-byte shared memory slot; build the AsyncVectorEnv with "
                "shared_memory=False (or a larger Messages(shared_memory_bytes=...))"
            )
        slot = self._slot(index)
        slot[:_LENGTH_BYTES] = np.frombuffer(len(data).to_bytes(_LENGTH_BYTES, "little"), np.uint8)
        slot[_LENGTH_BYTES : _LENGTH_BYTES + len(data)] = np.frombuffer(data, np.uint8)

    def read(self, index: int) -> Any:
        """The value in slot ``index`` (None before the first write)."""
        slot = self._slot(index)
        size = int.from_bytes(slot[:_LENGTH_BYTES].tobytes(), "little")
        return json.loads(slot[_LENGTH_BYTES : _LENGTH_BYTES + size].tobytes()) if size else None


class SharedObservations(Sequence[Any]):
    """A live view of the sub-envs' latest observations in a :class:`SharedJSON`.

    ``AsyncVectorEnv`` returns a deep copy of it (a plain tuple, one value per sub-env) unless
    built with ``copy=False``, when it returns this view itself.
    """

    def __init__(self, memory: SharedJSON) -> None:
        self.memory = memory

    def __len__(self) -> int:
        return self.memory.n

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Any, ...]: ...
    def __getitem__(self, index: int | slice) -> Any:
        """The observation of sub-env ``index`` (a tuple of them for a slice)."""
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if not -len(self) <= index < len(self):
            raise IndexError(f"sub-env {index} out of range ({len(self)} sub-envs)")
        return self.memory.read(index % len(self))

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[Any, ...]:
        """A snapshot: the current observations as a tuple."""
        return tuple(self)

    def __repr__(self) -> str:
        return f"SharedObservations({tuple(self)!r})"


def _slot_bytes(space: Text | Messages) -> int:
    """The shared-memory slot of one value of ``space``: Text's at 6 bytes (an escape) a character."""
    return 6 * space.max_length + 2 if isinstance(space, Text) else space.shared_memory_bytes


def _create_empty(space: Text | Messages, n: int = 1, fn: Any = None) -> tuple[Any, ...]:
    """``n`` empty values: the batched form of a text space is a tuple of per-env values."""
    return tuple("" if isinstance(space, Text) else [] for _ in range(n))


def _batch_differing(batched: Sequence[Text | Messages]) -> spaces.Tuple:
    """Per-env spaces that differ (``observation_mode="different"``): a Tuple of copies."""
    return spaces.Tuple(copy.deepcopy(list(batched)), seed=copy.deepcopy(batched[0].np_random))


def _create_shared(
    space: Text | Messages, n: int = 1, ctx: ModuleType = multiprocessing
) -> SharedJSON:
    return SharedJSON(n, _slot_bytes(space), ctx)


def _read_shared(space: Text | Messages, memory: SharedJSON, n: int = 1) -> SharedObservations:
    return SharedObservations(memory)


def _write_shared(space: Text | Messages, index: int, value: Any, memory: SharedJSON) -> None:
    memory.write(index, value)


for _function, _handler in (
    (create_empty_array, _create_empty),
    (batch_differing_spaces, _batch_differing),
    (create_shared_memory, _create_shared),
    (read_from_shared_memory, _read_shared),
    (write_to_shared_memory, _write_shared),
):
    _function.register(Text)(_handler)
    _function.register(Messages)(_handler)
