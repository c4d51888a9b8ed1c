"""Data-parallel training under ``torchrun``: shard the rollouts, gather them, sum exact gradients.

``torchrun --nproc_per_node N -m toolgym train ...`` starts N learners (gloo on CPU; with CUDA
the group also gets NCCL for CUDA tensors). Each step every rank plays a contiguous block of the
step's tasks (a task's group stays on one rank; the collector's seed is offset by the block's
first task so env seeds match one process), then all ranks gather every trajectory in global
order, so each holds the whole rollout (advantages and reference log-probs are computed as one
process would). Each minibatch's rows are then split across ranks; a rank's loss is scaled by
local / global normaliser (:func:`share`), and gradients are SUM-all-reduced before clipping
(:func:`all_reduce_gradients`), so the update equals one process on the same global batch.

Without ``torchrun`` (or with one process) every helper is a no-op and training is unchanged.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import torch
import torch.distributed as dist

from toolgym.collector import RolloutStats
from toolgym.tokens.trajectory import Trajectory
from toolgym.train.config import Aggregation, TrainConfig

# Every algorithm made exact under torchrun (each has its 2-rank test); a new one is refused
# until it is (tests/train/test_distributed.py checks this list against the registry).
SUPPORTED_ALGOS = ("grpo", "rloo", "reinforce", "sft", "ppo", "rest", "online-em", "dpo", "dagger")

T = TypeVar("T")


def launched() -> bool:
    """Whether this process was started by ``torchrun`` (``WORLD_SIZE`` and ``RANK`` are set)."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def setup() -> bool:
    """Join the process group when launched by ``torchrun``; returns whether one is active.

    The backend is gloo on CPU; with CUDA, ``cpu:gloo,cuda:nccl`` (the trainer's tensors live on
    the CPU, so CPU collectives must work either way). Idempotent; the group is destroyed at exit.
    """
    if dist.is_initialized():
        return True
    if not launched() or int(os.environ["WORLD_SIZE"]) < 2:
        return False
    backend = "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        backend = "cpu:gloo,cuda:nccl"
    dist.init_process_group(backend=backend)
    atexit.register(shutdown)
    return True


def learner_device(choice: Literal["auto", "cpu", "cuda"]) -> torch.device:
    """Where this learner trains: ``cpu``, or its GPU (``cuda:LOCAL_RANK`` under torchrun).

    ``auto`` takes the GPU when torch sees one. Asking for ``cuda`` without one is an error that
    says so, rather than a silent CPU run.
    """
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device=cuda, but torch sees no GPU (torch.cuda.is_available() is False: a CPU build "
            "of torch, or no visible device): use --set device=cpu, or device=auto"
        )
    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def shutdown() -> None:
    """Leave the process group (a no-op when none is active)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def active() -> bool:
    """Whether more than one learner trains together."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This learner's rank (0 alone)."""
    return dist.get_rank() if active() else 0


def world_size() -> int:
    """How many learners train together (1 alone)."""
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Whether this learner writes the run directory (rank 0, or the only process)."""
    return rank() == 0


def check_supported(config: TrainConfig) -> None:
    """Refuse what data-parallel training does not make exact yet (a no-op alone).

    Raises:
        ValueError: under more than one learner, for an algorithm outside
            :data:`SUPPORTED_ALGOS` or a rollout backend other than ``local``.
    """
    if world_size() < 2:
        return
    if config.algo not in SUPPORTED_ALGOS:
        raise ValueError(
            f"algo={config.algo!r} does not support data-parallel training (torchrun with "
            f"{world_size()} processes); supported: {', '.join(SUPPORTED_ALGOS)}"
        )
    if config.rollout.backend != "local":
        raise ValueError(
            f"rollout.backend={config.rollout.backend!r} is not supported under torchrun yet: "
            "use rollout.backend=local"
        )


def task_block(count: int, ranks: int | None = None, index: int | None = None) -> tuple[int, int]:
    """This rank's contiguous block ``[start, stop)`` of ``count`` tasks.

    The first ``count % ranks`` ranks take one task more (``np.array_split``'s blocks), so a
    task's whole group stays on one rank and ranks concatenated in order give the global order.

    >>> [task_block(5, 2, r) for r in range(2)]
    [(0, 3), (3, 5)]
    """
    ranks = world_size() if ranks is None else ranks
    index = rank() if index is None else index
    base, extra = divmod(count, ranks)
    start = index * base + min(index, extra)
    return start, start + base + (index < extra)


def all_gather(value: T) -> list[T]:
    """Every rank's ``value`` in rank order (``[value]`` alone)."""
    if not active():
        return [value]
    gathered: list[Any] = [None] * world_size()
    dist.all_gather_object(gathered, value)
    return gathered


def broadcast(value: T) -> T:
    """Rank 0's ``value`` on every rank (``value`` alone)."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]  # type: ignore[no-any-return]


def gather_rollouts(
    trajectories: list[Trajectory], stats: RolloutStats
) -> tuple[list[Trajectory], RolloutStats]:
    """Every rank's trajectories in global order, and the stats merged (unchanged alone).

    Stats as :meth:`RolloutStats.merged` (counts summed, each phase's slowest rank).
    """
    if not active():
        return trajectories, stats
    parts = all_gather((trajectories, stats))
    merged = RolloutStats.merged([part for _, part in parts])
    return [t for part_trajectories, _ in parts for t in part_trajectories], merged


@dataclass(frozen=True)
class Share:
    """This rank's part of one minibatch.

    Attributes:
        index: The global batch rows this rank computes (never empty: a rank without rows of its
            own computes the first row with weight 0, so every rank backpropagates the same graph).
        weight: The factor of this rank's aggregated loss, local / global normaliser, so the
            ranks' scaled losses sum to the loss of the whole minibatch.
        token_weight: The same for token means (the diagnostics), whatever the aggregation.
    """

    index: torch.Tensor
    weight: float = 1.0
    token_weight: float = 1.0


def share(
    index: torch.Tensor,
    loss_mask: torch.Tensor,
    aggregation: Aggregation = "token_mean",
    ranks: int | None = None,
    at: int | None = None,
) -> Share:
    """Split minibatch rows ``index`` of a batch with ``loss_mask`` (B, T) across the ranks.

    The normaliser follows ``losses.aggregate``: loss-mask tokens for ``token_mean`` (each
    clamped to at least 1, as ``masked_mean`` does), rows for ``sequence_mean`` and
    ``constant``. Alone: ``Share(index)``, weights 1.

    >>> mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    >>> part = share(torch.arange(3), mask, "token_mean", ranks=2, at=0)
    >>> part.index.tolist(), round(part.weight, 4)
    ([0, 1], 0.6667)
    """
    ranks = world_size() if ranks is None else ranks
    at = rank() if at is None else at
    if ranks < 2:
        return Share(index)
    local = torch.as_tensor(np.array_split(index.numpy(), ranks)[at], dtype=index.dtype)
    return subset(local, index, loss_mask, aggregation)


def subset(
    local: torch.Tensor, index: torch.Tensor, loss_mask: torch.Tensor, aggregation: Aggregation
) -> Share:
    """Rows ``local`` of rows ``index``, weighted by their part of ``aggregation``'s normaliser.

    The aggregated loss of ``local`` times ``weight`` is their contribution to the loss of
    ``index``. Empty ``local`` becomes the first row of ``index`` at weight 0.

    >>> mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    >>> part = subset(torch.tensor([0]), torch.arange(3), mask, "constant")
    >>> round(part.weight, 4), round(part.token_weight, 4)
    (0.3333, 0.5)
    """
    if not len(local):
        return Share(index[:1], 0.0, 0.0)
    tokens = float(loss_mask[local].sum().clamp(min=1)) / float(loss_mask[index].sum().clamp(min=1))
    if aggregation == "token_mean":
        return Share(local, tokens, tokens)
    return Share(local, len(local) / len(index), tokens)


def scale(loss: torch.Tensor, part: Share | None) -> torch.Tensor:
    """This rank's loss times its share's weight (``loss`` itself alone)."""
    return loss if part is None or not active() else loss * part.weight


def reduce_weighted(values: dict[str, float], weights: Sequence[float]) -> dict[str, float]:
    """Per key, the sum over ranks of value x weight: the global value of shared means.

    ``weights`` pairs with ``values`` in order; alone the values come back unchanged.
    """
    if not active():
        return values
    packed = torch.tensor([v * w for v, w in zip(values.values(), weights, strict=True)],
                          dtype=torch.float64)  # fmt: skip
    dist.all_reduce(packed)
    return dict(zip(values, packed.tolist(), strict=True))


def all_reduce_gradients(parameters: Sequence[torch.Tensor]) -> None:
    """SUM-all-reduce the gradients of ``parameters`` in place, one flat buffer per dtype and device.

    Every rank must hold gradients for the same parameters (the same graph); a no-op alone.
    """
    if not active():
        return
    buckets: dict[tuple[torch.dtype, torch.device], list[torch.Tensor]] = {}
    for parameter in parameters:
        if parameter.grad is not None:
            grad = parameter.grad
            buckets.setdefault((grad.dtype, grad.device), []).append(grad)
    for grads in buckets.values():
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()


def sync_parameters(model: torch.nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (a no-op alone)."""
    sync_tensors([*model.parameters(), *model.buffers()])


def sync_tensors(tensors: Sequence[torch.Tensor]) -> None:
    """Copy rank 0's values of ``tensors`` to every rank (a no-op alone)."""
    if not active():
        return
    with torch.no_grad():
        for tensor in tensors:
            dist.broadcast(tensor.data, src=0)


def rng_states(generator: torch.Generator) -> dict[str, Any]:
    """Every rank's sampling and torch RNG states, for a checkpoint (empty alone)."""
    if not active():
        return {}
    return {"rank_rngs": all_gather((generator.get_state(), torch.get_rng_state()))}


def restore_rngs(generator: torch.Generator, state: dict[str, Any]) -> None:
    """Take this rank's RNG states back from :func:`rng_states` of a checkpoint of as many ranks."""
    states = state.get("rank_rngs")
    if active() and states is not None and len(states) == world_size():
        sampling, global_rng = states[rank()]
        generator.set_state(sampling)
        torch.set_rng_state(global_rng)
