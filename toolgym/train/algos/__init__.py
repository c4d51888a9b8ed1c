"""The training algorithms, one file each, and the registry keyed by ``TrainConfig.algo``.

Adding an algorithm: a file here with an :class:`Algorithm` subclass, its line in
``ALGORITHMS``, its name in the ``Algo`` Literal of ``config.py`` (and, when it has settings of
its own, a table named after it in ``TrainConfig``).
"""

from __future__ import annotations

from typing import Any

from toolgym.train.algos.base import Algorithm, Needs, Run
from toolgym.train.algos.dagger import DAgger
from toolgym.train.algos.dpo import DPO
from toolgym.train.algos.online_em import OnlineEMAlgorithm
from toolgym.train.algos.pg import PolicyGradient, Reinforce
from toolgym.train.algos.ppo import PPO
from toolgym.train.algos.rest import ReST
from toolgym.train.algos.sft import SFT

__all__ = ["ALGORITHMS", "Algorithm", "Needs", "Run", "has_reward_signal"]

ALGORITHMS: dict[str, type[Algorithm]] = {
    "sft": SFT,
    "grpo": PolicyGradient,
    "rloo": PolicyGradient,
    "reinforce": Reinforce,
    "ppo": PPO,
    "rest": ReST,
    "online-em": OnlineEMAlgorithm,
    "dagger": DAgger,
    "dpo": DPO,
}


def has_reward_signal(metrics: dict[str, Any], algo: str) -> bool:
    """Whether a step's rewards could move the policy at all (every advantage zero: no).

    GRPO, RLOO and DPO's pairs learn from differences within a task's group, so a step where
    every group had zero variance teaches nothing; ReST needs a kept sample; REINFORCE (reward
    minus the batch mean) and PPO need some episode to differ from the rest; online EM also
    learns from equal non-zero rewards. SFT and DAgger learn from gold labels, and steps without
    a rollout always count as signal. Each rule is its algorithm's ``learns_from``.
    """
    return ALGORITHMS[algo].has_signal(metrics)
