"""The Berkeley Function Calling Leaderboard (BFCL v4) categories as toolgym envs.

``gymnasium.make("toolgym/BFCL-simple-v0")`` (also ``-multiple-``, ``-parallel-``,
``-parallel-multiple-``, ``-irrelevance-``) plays one BFCL entry per episode: the agent answers the
user's question with one message, read the way BFCL's handler family reads it
(:mod:`toolgym.bfcl.decode`; ``handler="hermes"`` with ``format="hermes"``, the default, or
``handler="prompting"`` with ``format="pythonic"``) and scored by BFCL's AST matching rules. The data
comes from the ``bfcl-eval`` package (``pip install --no-deps bfcl-eval==2026.3.23``), read as JSON
when an env is built; registering the ids needs nothing installed.

The multi-turn categories (``toolgym/BFCL-multi-turn-base-v0``, ``-miss-func-``, ``-miss-param-``,
``-long-context-``) are :mod:`toolgym.bfcl.multi_turn`: bfcl-eval's own stateful simulated APIs,
the dataset's user turns, and bfcl-eval's multi-turn checker as the terminal reward.
"""

from __future__ import annotations

import gymnasium as gym

from toolgym.bfcl.data import CATEGORY_FILES, BFCLEntry, data_dir, load_category, tool_spec
from toolgym.bfcl.decode import HANDLERS, BFCLHandler, Decoded, decode_message
from toolgym.bfcl.matcher import MatchResult, match_calls, standardize

#: Gymnasium id of each category's env.
ENV_IDS: dict[str, str] = {
    "simple": "toolgym/BFCL-simple-v0",
    "multiple": "toolgym/BFCL-multiple-v0",
    "parallel": "toolgym/BFCL-parallel-v0",
    "parallel_multiple": "toolgym/BFCL-parallel-multiple-v0",
    "irrelevance": "toolgym/BFCL-irrelevance-v0",
}

#: Gymnasium id of each multi-turn category's env (:mod:`toolgym.bfcl.multi_turn`).
MULTI_TURN_ENV_IDS: dict[str, str] = {
    "multi_turn_base": "toolgym/BFCL-multi-turn-base-v0",
    "multi_turn_miss_func": "toolgym/BFCL-multi-turn-miss-func-v0",
    "multi_turn_miss_param": "toolgym/BFCL-multi-turn-miss-param-v0",
    "multi_turn_long_context": "toolgym/BFCL-multi-turn-long-context-v0",
}


def register_bfcl() -> list[str]:
    """Register the BFCL envs with Gymnasium (idempotent); returns their ids.

    Nothing is read here: each env loads its data when built, and says how to install
    ``bfcl-eval`` if it is missing.
    """
    for category, env_id in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="toolgym.bfcl.env:make_bfcl_env",
                kwargs={"category": category},
            )
    register_bfcl_multi_turn()
    return list(ENV_IDS.values())


def register_bfcl_multi_turn() -> list[str]:
    """Register the multi-turn BFCL envs (idempotent; also done by :func:`register_bfcl`)."""
    for category, env_id in MULTI_TURN_ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="toolgym.bfcl.multi_turn:make_bfcl_multi_turn_env",
                kwargs={"category": category},
            )
    return list(MULTI_TURN_ENV_IDS.values())


__all__ = [
    "CATEGORY_FILES",
    "ENV_IDS",
    "MULTI_TURN_ENV_IDS",
    "BFCLEntry",
    "BFCLHandler",
    "Decoded",
    "HANDLERS",
    "MatchResult",
    "data_dir",
    "decode_message",
    "load_category",
    "match_calls",
    "register_bfcl",
    "register_bfcl_multi_turn",
    "standardize",
    "tool_spec",
]
