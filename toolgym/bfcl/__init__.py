"""The Berkeley Function Calling Leaderboard (BFCL v4) single-turn categories as toolgym envs.

``gymnasium.make("toolgym/BFCL-simple-v0")`` (also ``-multiple-``, ``-parallel-``,
``-parallel-multiple-``, ``-irrelevance-``) plays one BFCL entry per episode: the agent answers the
user's question with one message, whose calls are scored by BFCL's AST matching rules. The data
comes from the ``bfcl-eval`` package (``pip install --no-deps bfcl-eval==2026.3.23``), read as JSON
when an env is built; registering the ids needs nothing installed.

BFCL's multi-turn categories are not included: they run BFCL's own stateful simulated APIs.
"""

from __future__ import annotations

import gymnasium as gym

from toolgym.bfcl.data import CATEGORY_FILES, BFCLEntry, data_dir, load_category, tool_spec
from toolgym.bfcl.matcher import MatchResult, match_calls, standardize

#: Gymnasium id of each category's env.
ENV_IDS: dict[str, str] = {
    "simple": "toolgym/BFCL-simple-v0",
    "multiple": "toolgym/BFCL-multiple-v0",
    "parallel": "toolgym/BFCL-parallel-v0",
    "parallel_multiple": "toolgym/BFCL-parallel-multiple-v0",
    "irrelevance": "toolgym/BFCL-irrelevance-v0",
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
    return list(ENV_IDS.values())


__all__ = [
    "CATEGORY_FILES",
    "ENV_IDS",
    "BFCLEntry",
    "MatchResult",
    "data_dir",
    "load_category",
    "match_calls",
    "register_bfcl",
    "standardize",
    "tool_spec",
]
