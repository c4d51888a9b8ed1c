"""Trajectories as datasets: one row per episode, to Parquet or JSONL and back.

Rows come from ``toolgym eval --save-trajectories PATH`` and from the trainer's rollouts
(``--set log.save_rollouts=true``: ``OUT/rollouts/step-NNNNNN.parquet``); ``sft.data`` and
``dpo.data`` accept them back. Parquet files load with ``datasets.Dataset.from_parquet``.
:data:`COLUMNS` documents every column. Parquet needs ``pyarrow`` (``pip install
toolgym[datasets]``), imported only when a Parquet file is written or read.
"""

from toolgym.trajectory_rows.columns import (
    COLUMNS,
    RowError,
    arrow_schema,
    call_parser,
    chat_messages,
    episode_row,
    row_trajectory,
    tokenizer_hash,
)
from toolgym.trajectory_rows.files import (
    check_path,
    is_rows_data,
    read_rows,
    remove_steps_after,
    row_files,
    step_path,
    write_rows,
)
from toolgym.trajectory_rows.training import preference_rows, save_rollouts, sft_rows

ROLLOUTS = "rollouts"
"""The run directory's folder of trainer rollouts."""

__all__ = [
    "COLUMNS",
    "ROLLOUTS",
    "RowError",
    "arrow_schema",
    "call_parser",
    "chat_messages",
    "check_path",
    "episode_row",
    "is_rows_data",
    "preference_rows",
    "read_rows",
    "remove_steps_after",
    "row_files",
    "row_trajectory",
    "save_rollouts",
    "sft_rows",
    "step_path",
    "tokenizer_hash",
    "write_rows",
]
