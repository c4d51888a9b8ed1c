"""SGLang's ``POST /update_weights_from_disk`` for ``toolgym serve``: new weights without a restart.

A trainer that generates through an inference server saves its weights after each update
(``save_pretrained``, safetensors) and asks the server to load them. SGLang's request
(``UpdateWeightFromDiskReqInput`` in ``sglang/srt/managers/io_struct.py``: ``model_path``,
``load_format``, ``abort_all_requests``, ``weight_version``) and reply (``success``,
``message``, ``num_paused_requests``) are followed, so the same trainer code drives SGLang and this
server. The weights are copied into the served model in place while the generation lock is held
(no request sees half a model), which also empties the sampler's kept key/value caches. A folder
whose tensors do not match the served model is refused with ``success: false`` and the model is
left as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Handler = Callable[[Request], Awaitable[Response]]


class UpdateWeightsRequest(BaseModel):
    """The fields of SGLang's ``/update_weights_from_disk`` request this server reads."""

    model_config = ConfigDict(extra="ignore")

    model_path: str
    load_format: str | None = None
    weight_version: str | None = None


def read_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``save_pretrained`` folder (``*.safetensors``, sharded or not).

    Raises:
        FileNotFoundError: the folder holds no safetensors file.
    """
    from safetensors.torch import load_file

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder} holds no *.safetensors file (save with save_pretrained)")
    state: dict[str, torch.Tensor] = {}
    for file in files:
        state |= load_file(str(file))
    return state


def load_into(model: Any, state: dict[str, torch.Tensor]) -> None:
    """Copy ``state`` into ``model`` in place, after checking every name and shape first.

    Tied weights saved once (e.g. ``lm_head.weight`` tied to the embeddings) may be absent.

    Raises:
        ValueError: a name is unknown or missing, or a shape differs; nothing was copied.
    """
    own = model.state_dict()
    unknown = sorted(set(state) - set(own))
    tied = {name for name in own if name not in state and _is_tied(model, name)}
    missing = sorted(set(own) - set(state) - tied)
    wrong = sorted(n for n in state if n in own and state[n].shape != own[n].shape)
    if unknown or missing or wrong:
        raise ValueError(
            f"the weights do not fit the served model: unknown {unknown[:3]}, missing "
            f"{missing[:3]}, other shapes {wrong[:3]}"
        )
    with torch.no_grad():
        for name, tensor in state.items():
            own[name].copy_(tensor)


def _is_tied(model: Any, name: str) -> bool:
    output = model.get_output_embeddings()
    tied = output is not None and output.weight is model.get_input_embeddings().weight
    return bool(tied and name.endswith("lm_head.weight"))


def update_weights_handler(model: Any, lock: threading.Lock, state: Any) -> Handler:
    """The ``/update_weights_from_disk`` handler; ``state.weight_version`` records the version."""

    async def update_weights(request: Request) -> Response:
        try:
            body = UpdateWeightsRequest.model_validate(await request.json())
        except (ValueError, ValidationError) as exc:
            return _reply(False, f"invalid request: {exc}", 400)
        try:
            tensors = read_state_dict(Path(body.model_path))
            with lock:
                load_into(model, tensors)
        except (OSError, ValueError) as exc:
            return _reply(False, f"{body.model_path}: {exc}", 400)
        state.weight_version = body.weight_version
        return _reply(True, f"loaded {len(tensors)} tensors from {body.model_path}", 200)

    return update_weights


def _reply(success: bool, message: str, status: int) -> JSONResponse:
    body = {"success": success, "message": message, "num_paused_requests": 0}
    return JSONResponse(body, status_code=status)
