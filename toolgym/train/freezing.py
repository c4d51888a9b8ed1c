"""``freeze_layers``: train only the top of the model (the embeddings and the bottom layers frozen)."""

from __future__ import annotations

from typing import Any


def freeze_bottom(model: Any, layers: int) -> None:
    """Freeze the input embeddings (a tied output head with them) and the first ``layers`` layers."""
    check_freeze(model, layers)
    if layers == 0:
        return
    for module in [model.get_input_embeddings(), *model.base_model.layers[:layers]]:
        module.requires_grad_(False)


def check_freeze(model: Any, layers: int) -> None:
    """Raise a clear error when ``freeze_layers`` exceeds the model's decoder layers."""
    count = len(model.base_model.layers)
    if layers > count:
        raise ValueError(f"freeze_layers={layers}, but the model has {count} decoder layers")
