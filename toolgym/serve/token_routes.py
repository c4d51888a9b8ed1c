"""Token-id routes of ``toolgym serve``: vLLM's ``/v1/completions`` and SGLang's ``/generate``.

Both take prompt token ids and answer with generated token ids and their log-probs (under
``logits / temperature``, as ``HFPolicy`` reports them), in the shapes those servers use, so
:class:`~toolgym.llm.token_client.ServerTokenPolicy` can be tested against this server on CPU.
Only the fields below are read; requests go through :class:`~toolgym.serve.batcher.TokenBatcher`.
Generation stops at ``stop_token_ids`` (default: the chat template's end-of-turn ids) and keeps
the stop token as the last generated id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from toolgym.serve.batcher import TokenBatcher, TokenJob
from toolgym.tokens.env import Generation

Handler = Callable[[Request], Awaitable[Response]]


class CompletionRequest(BaseModel):
    """The fields of a vLLM ``/v1/completions`` request this server reads (a token-id prompt)."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    prompt: list[int] = Field(min_length=1)
    max_tokens: int = Field(default=16, ge=0)
    temperature: float = Field(default=1.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int | None = None
    logprobs: int | None = Field(default=None, ge=0)
    return_token_ids: bool = False
    stop_token_ids: list[int] | None = None


class GenerateSampling(BaseModel):
    """The ``sampling_params`` of an SGLang ``/generate`` request this server reads."""

    model_config = ConfigDict(extra="ignore")

    max_new_tokens: int = Field(default=128, ge=0)
    temperature: float = Field(default=1.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop_token_ids: list[int] | None = None
    sampling_seed: int | None = None


class GenerateRequest(BaseModel):
    """The fields of an SGLang ``/generate`` request this server reads (``input_ids`` only)."""

    model_config = ConfigDict(extra="ignore")

    input_ids: list[int] = Field(min_length=1)
    sampling_params: GenerateSampling = Field(default_factory=GenerateSampling)
    return_logprob: bool = False


def token_handlers(
    batcher: TokenBatcher,
    chat: Any,
    model_name: str,
    errors: tuple[Callable[..., Response], Callable[[ValidationError], Response]],
    adapter_names: Callable[[], list[str]] = list,
) -> tuple[Handler, Handler]:
    """The ``/v1/completions`` and ``/generate`` handlers.

    Args:
        batcher: Generates the jobs.
        chat: The ``ChatTokenizer`` (default stop ids, and the ``text`` of replies).
        model_name: The served name (a vLLM request naming another model gets a 404).
        errors: ``(error_response, validation_error_response)`` of the app.
        adapter_names: The loaded LoRA adapters, which a vLLM request may name instead.
    """
    error_response, validation_error = errors
    default_stops = tuple(sorted(chat.stop_ids))

    def stops(given: list[int] | None) -> tuple[int, ...]:
        return default_stops if given is None else tuple(sorted(set(given)))

    async def completions(request: Request) -> Response:
        try:
            body = CompletionRequest.model_validate(await request.json())
        except ValueError as exc:  # a ValidationError is a ValueError
            if isinstance(exc, ValidationError):
                return validation_error(exc)
            return error_response(400, f"the request body is not valid JSON: {exc}")
        adapters = adapter_names()
        if body.model is not None and body.model != model_name and body.model not in adapters:
            served = ", ".join(repr(name) for name in [model_name, *adapters])
            message = f"model {body.model!r} does not exist; this server serves {served}"
            return error_response(404, message, param="model", code="model_not_found")
        job = TokenJob(
            tuple(body.prompt),
            body.max_tokens,
            body.temperature,
            body.top_p,
            stops(body.stop_token_ids),
            body.seed,
            body.model if body.model in adapters else None,
        )
        generation = await batcher.generate(job)
        served = job.adapter or model_name
        return JSONResponse(completion_body(body, generation, chat, served, job.stop_ids))

    async def generate(request: Request) -> Response:
        try:
            body = GenerateRequest.model_validate(await request.json())
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                return validation_error(exc)
            return error_response(400, f"the request body is not valid JSON: {exc}")
        sampling = body.sampling_params
        job = TokenJob(
            tuple(body.input_ids),
            sampling.max_new_tokens,
            sampling.temperature,
            sampling.top_p,
            stops(sampling.stop_token_ids),
            sampling.sampling_seed,
        )
        generation = await batcher.generate(job)
        return JSONResponse(generate_body(body, generation, chat, job.stop_ids))

    return completions, generate


def completion_body(
    request: CompletionRequest,
    generation: Generation,
    chat: Any,
    model_name: str,
    stop_ids: tuple[int, ...],
) -> dict[str, Any]:
    """A vLLM-shaped ``text_completion`` reply."""
    ids = list(generation.token_ids)
    stopped = bool(ids) and ids[-1] in stop_ids
    logprobs = None
    if request.logprobs is not None:
        logprobs = {
            "text_offset": [],
            "token_logprobs": list(generation.logprobs or ()),
            "tokens": [f"token_id:{i}" for i in ids],
            "top_logprobs": None,
        }
    choice = {
        "index": 0,
        "text": chat.tokenizer.decode(ids),
        "logprobs": logprobs,
        "finish_reason": "stop" if stopped else "length",
        "stop_reason": ids[-1] if stopped else None,
        "token_ids": ids if request.return_token_ids else None,
        "prompt_token_ids": request.prompt if request.return_token_ids else None,
    }
    return {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model_name,
        "choices": [choice],
        "usage": {
            "prompt_tokens": len(request.prompt),
            "completion_tokens": len(ids),
            "total_tokens": len(request.prompt) + len(ids),
        },
    }


def generate_body(
    request: GenerateRequest, generation: Generation, chat: Any, stop_ids: tuple[int, ...]
) -> dict[str, Any]:
    """An SGLang-shaped ``/generate`` reply."""
    ids = list(generation.token_ids)
    stopped = bool(ids) and ids[-1] in stop_ids
    finish = (
        {"type": "stop", "matched": ids[-1]} if stopped else {"type": "length", "length": len(ids)}
    )
    meta: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "prompt_tokens": len(request.input_ids),
        "completion_tokens": len(ids),
        "finish_reason": finish,
    }
    if request.return_logprob:
        meta["output_token_logprobs"] = [
            [lp, i, None] for lp, i in zip(generation.logprobs or (), ids, strict=True)
        ]
    return {"text": chat.tokenizer.decode(ids), "output_ids": ids, "meta_info": meta}
