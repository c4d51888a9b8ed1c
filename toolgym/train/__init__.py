"""Training: advantages and losses (one function per equation), SFT/GRPO/RLOO/REINFORCE loop.

``Trainer(TrainConfig(...)).run()`` or ``toolgym train``. PPO (value head, GAE in the loop) is not
wired into the loop yet; ``advantages.gae`` and ``losses.clipped_value_loss`` are ready for it.
"""

from toolgym.train.config import TrainConfig, load_config
from toolgym.train.loop import Trainer

__all__ = ["TrainConfig", "Trainer", "load_config"]
