"""LoRA through peft: adapters on the policy, the reference as the adapter switched off, merging.

With ``lora.r > 0`` the trainer wraps its model with :func:`apply`: every base weight is frozen
and only the low-rank adapters (and PPO's critic head) train. The trainer keeps the transformers
model itself as ``Trainer.model`` (the scoring code reads its ``base_model`` decoder) and the
:class:`peft.PeftModel` around it as ``Trainer.lora``. The reference policy of KL terms and DPO
is the same model under ``with peft_model.disable_adapter():`` (:class:`DisabledAdapter`), so no
second copy is made. Checkpoints hold the adapter only (:func:`model_state`), with the run that
the base came from (``init``); ``--init`` of a LoRA run rebuilds that base and merges the adapter
into it (:func:`load_weights`), and a finished run exports the merged model (:func:`export`).

peft is an optional dependency (``pip install toolgym[lora]``), imported only when LoRA is asked
for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from toolgym.tokens.scoring import token_logprobs
from toolgym.tokens.trajectory import Batch
from toolgym.train import checkpoint
from toolgym.train.config import LoRAConfig

logger = logging.getLogger("toolgym")

INSTALL_HINT = "LoRA (lora.r > 0) needs peft: pip install toolgym[lora]"


def _peft() -> Any:
    """The peft module, or an ImportError that says how to install it."""
    try:
        import peft
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return peft


def apply(model: Any, config: LoRAConfig) -> Any:
    """Wrap ``model`` with fresh LoRA adapters (base weights frozen); the PeftModel, or None if off.

    The adapters are injected in place: ``model`` stays the transformers model to train and
    sample with, and ``result.base_model.model is model``.

    Raises:
        ImportError: peft is not installed.
        ValueError: no module of ``model`` matches ``lora.target``.
    """
    if config.r == 0:
        return None
    peft = _peft()
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = sorted(set(config.target) - names)
    if missing:
        raise ValueError(
            f"lora.target names {missing}, which the model does not have; its linear layers "
            f"include {sorted(n for n in names if n.endswith('proj'))}"
        )
    settings = peft.LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target),
        bias="none",
    )
    wrapped = peft.get_peft_model(model, settings)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    logger.info("LoRA r=%d: %d of %d parameters train", config.r, trainable, total)
    return wrapped


@dataclass(frozen=True)
class DisabledAdapter:
    """The reference policy of a LoRA run: the trained model with its adapter switched off.

    Not a module and not a copy: it holds the PeftModel, and :func:`reference_logprobs` scores
    with ``peft_model.disable_adapter()`` active, which is the base model exactly.

    Attributes:
        peft_model: The run's :class:`peft.PeftModel`.
    """

    peft_model: Any

    @property
    def model(self) -> Any:
        """The transformers model (adapters injected) that the scoring code runs."""
        return self.peft_model.base_model.model


def reference_logprobs(reference: Any, batch: Batch, temperature: float = 1.0) -> Tensor:
    """:func:`token_logprobs` under the reference: a frozen model, or a :class:`DisabledAdapter`."""
    if isinstance(reference, DisabledAdapter):
        with reference.peft_model.disable_adapter():
            return token_logprobs(reference.model, batch, temperature)
    return token_logprobs(reference, batch, temperature)


def model_state(model: Any, peft_model: Any, init: Path | None) -> dict[str, Any]:
    """The model part of a checkpoint: the full state dict, or with LoRA the adapter only.

    A LoRA checkpoint names the run its frozen base was loaded from (``lora_base``; None: the
    named model as loaded), so :func:`load_weights` can rebuild the base before merging.
    """
    if peft_model is None:
        return {"model": model.state_dict()}
    peft = _peft()
    settings = peft_model.peft_config["default"]
    return {
        "adapter": peft.get_peft_model_state_dict(peft_model),
        "lora": {
            "r": settings.r,
            "alpha": settings.lora_alpha,
            "dropout": settings.lora_dropout,
            "target": sorted(settings.target_modules),
        },
        "lora_base": str(init.resolve()) if init is not None else None,
    }


def restore(model: Any, peft_model: Any, state: dict[str, Any]) -> None:
    """Load a checkpoint's model part (:func:`model_state`) into the run being resumed.

    Raises:
        ValueError: the checkpoint and the run disagree on LoRA.
    """
    if peft_model is None:
        if "model" not in state:
            raise ValueError("the checkpoint holds a LoRA adapter: resume with the run's lora.*")
        model.load_state_dict(state["model"])
        return
    if "adapter" not in state:
        raise ValueError("the checkpoint holds full weights: resume without lora.r")
    result = _peft().set_peft_model_state_dict(peft_model, state["adapter"])
    unexpected = getattr(result, "unexpected_keys", [])
    if unexpected:
        raise ValueError(f"the checkpoint's adapter does not fit the run: {unexpected[:3]}")


def load_weights(model: Any, run_dir: Path) -> None:
    """Load ``run_dir``'s latest weights into ``model`` (``--init``), merging a LoRA adapter.

    A LoRA run's base (its own ``--init``, recursively) is loaded first, then its adapter is
    merged in (``merge_and_unload``): ``model`` ends as a plain transformers model, every
    parameter trainable as after loading.

    Raises:
        FileNotFoundError: ``run_dir`` has no checkpoint.
    """
    state = checkpoint.load_latest(run_dir)
    if state is None:
        raise FileNotFoundError(
            f"--init {run_dir}: no checkpoint found under {run_dir / 'checkpoints'}"
        )
    if "adapter" not in state:
        model.load_state_dict(state["model"])
        return
    if state.get("lora_base"):
        load_weights(model, Path(state["lora_base"]))
    peft_model = apply(model, LoRAConfig(**state["lora"]))
    restore(model, peft_model, state)
    peft_model.merge_and_unload()
    model.requires_grad_(True)


def export(peft_model: Any, tokenizer: Any, folder: Path) -> Path:
    """Merge the adapter into the base in place (``merge_and_unload``) and save the model there.

    Writes a transformers folder (``save_pretrained``, the tokenizer too) that loads without
    peft. The adapter is gone afterwards: call it when the run is over.
    """
    merged = peft_model.merge_and_unload()
    folder.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
