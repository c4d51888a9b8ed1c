"""Training: advantages and losses (one function per equation), the algorithms, and the loop.

``Trainer(TrainConfig(...)).run()`` or ``toolgym train``: SFT, GRPO, RLOO, REINFORCE, PPO, ReST,
online EM, DAgger and DPO on toolgym token streams (``algos/``: one file per algorithm, and the
registry). ``Trainer`` is imported on first use, so reading a config needs no torch.
"""

from typing import Any

from toolgym.train.config import TrainConfig, load_config

__all__ = ["TrainConfig", "Trainer", "load_config"]


def __getattr__(name: str) -> Any:
    if name == "Trainer":
        from toolgym.train.loop import Trainer

        return Trainer
    raise AttributeError(f"module 'toolgym.train' has no attribute {name!r}")
