"""vLLM's runtime LoRA routes for ``toolgym serve``: ``/v1/load_lora_adapter``, ``/v1/unload_lora_adapter``.

vLLM started with ``--enable-lora`` and ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`` loads a peft
adapter folder at run time (``LoadLoRAAdapterRequest``: ``lora_name``, ``lora_path``,
``load_inplace``; ``UnloadLoRAAdapterRequest``: ``lora_name``; see vLLM's
``vllm/entrypoints/openai/serving_models.py`` and docs/features/lora.md), and a completion request
whose ``model`` is that name is generated with the adapter. A name that is already loaded is
refused unless ``load_inplace`` is true, which replaces its weights. A success is a plain-text
200 reply; a failure is an OpenAI-shaped JSON error. This module does the same on the served
transformers model with peft, so a LoRA trainer's rollouts are tested on CPU:

- the first adapter wraps the model in place (``PeftModel.from_pretrained``), later ones are added
  beside it (``load_adapter``), and an in-place reload copies the new tensors into the adapter
  (``set_peft_model_state_dict``) after checking that its rank and targets are the loaded ones;
- the adapter layers are off by default, so chat completions and requests for the base name see
  the base model; a batch of requests for an adapter switches it on, under the generation lock.

peft is the optional ``lora`` extra; it is imported on the first load.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

Handler = Callable[[Request], Awaitable[Response]]
ErrorReply = Callable[..., Response]

COMPARED_CONFIG = ("r", "lora_alpha", "target_modules")
"""Adapter settings an in-place reload must keep (the tensors' shapes and scaling follow them)."""


class LoadLoraRequest(BaseModel):
    """vLLM's ``LoadLoRAAdapterRequest``."""

    model_config = ConfigDict(extra="ignore")

    lora_name: str
    lora_path: str
    load_inplace: bool = False


class UnloadLoraRequest(BaseModel):
    """vLLM's ``UnloadLoRAAdapterRequest`` (the name alone)."""

    model_config = ConfigDict(extra="ignore")

    lora_name: str


class Adapters:
    """The LoRA adapters loaded into the served model, each used only by requests naming it."""

    def __init__(self, model: Any, lock: threading.Lock) -> None:
        """Adapters for ``model``; ``lock`` is the engine's generation lock."""
        self.model, self.lock = model, lock
        self.peft: Any = None  # the PeftModel around ``model`` once an adapter is loaded
        self.versions: dict[str, int] = {}  # loads per name (1 = first load)

    @property
    def names(self) -> list[str]:
        """The loaded adapters' names."""
        return sorted(self.versions)

    def load(self, name: str, folder: Path, inplace: bool) -> None:
        """Load the peft adapter in ``folder`` as ``name`` (replacing it when ``inplace``).

        Raises:
            ValueError: ``name`` is loaded and ``inplace`` is false; the folder is not an
                adapter; an in-place reload changes the rank or targets.
            ImportError: peft is not installed.
        """
        from peft import LoraConfig, PeftModel, set_peft_model_state_dict

        if name in self.versions and not inplace:
            raise ValueError(f"The lora adapter '{name}' has already been loaded.")
        if not (folder / "adapter_config.json").is_file():
            raise ValueError(f"{folder} holds no adapter_config.json (save with save_pretrained)")
        with self.lock:
            if name in self.versions:
                _check_same_shape(
                    self.peft.peft_config[name], LoraConfig.from_pretrained(str(folder))
                )
                state = _adapter_tensors(folder)
                result: Any = set_peft_model_state_dict(self.peft, state, adapter_name=name)
                if result.unexpected_keys:
                    raise ValueError(
                        f"tensors the adapter does not have: {result.unexpected_keys[:3]}"
                    )
            elif self.peft is None:
                self.peft = PeftModel.from_pretrained(self.model, str(folder), adapter_name=name)
            else:
                self.peft.load_adapter(str(folder), adapter_name=name)
            self.peft.base_model.disable_adapter_layers()  # the base stays the default
            self.model.requires_grad_(False)
        self.versions[name] = self.versions.get(name, 0) + 1

    def unload(self, name: str) -> None:
        """Remove adapter ``name``.

        Raises:
            KeyError: no adapter of that name is loaded.
        """
        if name not in self.versions:
            raise KeyError(f"The lora adapter '{name}' cannot be found.")
        with self.lock:
            self.peft.delete_adapter(name)
            self.peft.base_model.disable_adapter_layers()
        del self.versions[name]

    @contextmanager
    def active(self, name: str | None) -> Iterator[None]:
        """Generate with adapter ``name`` inside the block (None: the base); hold the lock."""
        if name is None:
            yield
            return
        self.peft.set_adapter(name)
        self.peft.base_model.enable_adapter_layers()
        try:
            yield
        finally:
            self.peft.base_model.disable_adapter_layers()


def _adapter_tensors(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    files = sorted(folder.glob("adapter_model*.safetensors"))
    if not files:
        raise ValueError(f"{folder} holds no adapter_model.safetensors")
    state: dict[str, Any] = {}
    for file in files:
        state |= load_file(str(file))
    return state


def _check_same_shape(loaded: Any, new: Any) -> None:
    for key in COMPARED_CONFIG:
        old_value, new_value = getattr(loaded, key), getattr(new, key)
        if key == "target_modules":
            old_value, new_value = set(old_value or ()), set(new_value or ())
        if old_value != new_value:
            raise ValueError(
                f"an in-place reload must keep {key} ({old_value!r}, given {new_value!r}): "
                "load the adapter under a new name instead"
            )


def lora_handlers(adapters: Adapters, error_response: ErrorReply) -> tuple[Handler, Handler]:
    """The ``/v1/load_lora_adapter`` and ``/v1/unload_lora_adapter`` handlers."""

    async def read(request: Request, kind: type[BaseModel]) -> Any:
        try:
            return kind.model_validate(await request.json())
        except (ValueError, ValidationError) as exc:
            return error_response(400, f"invalid request: {exc}")

    async def load(request: Request) -> Response:
        body = await read(request, LoadLoraRequest)
        if isinstance(body, Response):
            return body
        try:
            adapters.load(body.lora_name, Path(body.lora_path), body.load_inplace)
        except (OSError, ValueError, ImportError, RuntimeError) as exc:
            return error_response(400, f"{body.lora_path}: {exc}")
        return PlainTextResponse(f"Success: LoRA adapter '{body.lora_name}' added successfully.")

    async def unload(request: Request) -> Response:
        body = await read(request, UnloadLoraRequest)
        if isinstance(body, Response):
            return body
        try:
            adapters.unload(body.lora_name)
        except KeyError as exc:
            return error_response(404, str(exc.args[0]))
        return PlainTextResponse(f"Success: LoRA adapter '{body.lora_name}' removed successfully.")

    return load, unload
