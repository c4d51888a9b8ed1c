"""``create_app``: the Starlette app of ``toolgym serve`` (``/v1/models``, ``/v1/chat/completions``).

The token-id routes ``/v1/completions`` (vLLM's shape) and ``/generate`` (SGLang's) are in
``toolgym.serve.token_routes``; their requests are micro-batched (``toolgym.serve.batcher``).
SGLang's ``/update_weights_from_disk`` (``toolgym.serve.weight_routes``) loads new weights, and
vLLM's ``/v1/load_lora_adapter`` (``toolgym.serve.lora_routes``) LoRA adapters.

Every error is a JSON body in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``:
400 for a body that is not JSON or fails validation (the message names the field), 404 for a
model name other than the served one (and for unknown paths), 500 if generation fails.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from toolgym.formats import FormatName
from toolgym.serve.batcher import TokenBatcher
from toolgym.serve.engine import ChatEngine, PromptTooLong
from toolgym.serve.lora_routes import Adapters, lora_handlers
from toolgym.serve.protocol import (
    ChatCompletionRequest,
    ErrorDetail,
    ErrorResponse,
    ModelCard,
    ModelList,
)
from toolgym.serve.stream import sse_events
from toolgym.serve.token_routes import token_handlers
from toolgym.serve.weight_routes import update_weights_handler

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def create_app(
    model: Any,
    tokenizer: Any,
    *,
    model_name: str,
    tool_format: FormatName = "hermes",
    default_max_tokens: int = 512,
    batch_window_s: float = 0.005,
) -> Starlette:
    """An ASGI app that serves ``model`` under the name ``model_name``.

    Args:
        model: A transformers causal LM (eval mode), e.g. from ``toolgym.llm.models.load``.
        tokenizer: Its tokenizer, with a chat template.
        model_name: The name clients put in ``model`` (listed by ``GET /v1/models``).
        tool_format: How tools in a request are shown to the model and its calls read back.
        default_max_tokens: Token budget of a request that sets neither ``max_tokens`` nor
            ``max_completion_tokens``.
        batch_window_s: How long a token-id request waits for others to batch with.

    The engine is at ``app.state.engine`` (e.g. ``app.state.engine.render(request)`` shows the
    prompt a request produces).
    """
    engine = ChatEngine(
        model, tokenizer, tool_format=tool_format, default_max_tokens=default_max_tokens
    )
    created = int(time.time())

    async def list_models(request: Request) -> Response:
        names = [model_name, *adapters.names]
        cards = ModelList(data=[ModelCard(id=name, created=created) for name in names])
        return JSONResponse(cards.model_dump(mode="json"))

    async def chat_completions(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError as exc:
            return error_response(400, f"the request body is not valid JSON: {exc}")
        try:
            parsed = ChatCompletionRequest.model_validate(body)
        except ValidationError as exc:
            return validation_error_response(exc)
        if parsed.model != model_name:
            message = f"model {parsed.model!r} does not exist; this server serves {model_name!r}"
            return error_response(404, message, param="model", code="model_not_found")
        try:
            completion = await run_in_threadpool(engine.complete, parsed, model_name)
        except PromptTooLong as exc:
            return error_response(400, str(exc), param="messages", code="context_length_exceeded")
        if parsed.stream:
            usage = parsed.stream_options is not None and parsed.stream_options.include_usage
            return StreamingResponse(sse_events(completion, usage), media_type="text/event-stream")
        return JSONResponse(completion.model_dump(mode="json"))

    adapters = Adapters(model, engine.lock)
    batcher = TokenBatcher(
        model, engine.pad_id, engine.lock, window_s=batch_window_s, adapters=adapters
    )
    completions, generate = token_handlers(
        batcher,
        engine.chat,
        model_name,
        (error_response, validation_error_response),
        lambda: adapters.names,
    )
    load_lora, unload_lora = lora_handlers(adapters, error_response)
    app = Starlette(exception_handlers={HTTPException: _http_error, Exception: _server_error})
    app.state.weight_version = None
    routes = [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/generate", generate, methods=["POST"]),
        Route(
            "/update_weights_from_disk",
            update_weights_handler(model, engine.lock, app.state),
            methods=["POST"],
        ),
        Route("/v1/load_lora_adapter", load_lora, methods=["POST"]),
        Route("/v1/unload_lora_adapter", unload_lora, methods=["POST"]),
    ]
    for route in routes:
        app.router.routes.append(route)
    app.state.engine, app.state.batcher, app.state.adapters = engine, batcher, adapters
    return app


def error_response(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> JSONResponse:
    """A JSON error reply in OpenAI's shape."""
    kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "server_error")
    body = ErrorResponse(error=ErrorDetail(message=message, type=kind, param=param, code=code))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def validation_error_response(exc: ValidationError) -> JSONResponse:
    """A 400 that names every invalid field, e.g. ``messages[0].content: Field required``."""
    problems = [(field_path(error["loc"]), error["msg"]) for error in exc.errors()]
    text = "; ".join(f"{path or 'body'}: {msg}" for path, msg in problems)
    return error_response(400, f"invalid request: {text}", param=problems[0][0] or None)


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path, without discriminator tags.

    >>> field_path(("messages", 2, "tool", "tool_call_id"))
    'messages[2].tool_call_id'
    >>> field_path(("temperature",))
    'temperature'
    """
    path = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not (isinstance(previous, int) and loc[0] == "messages" and part in ROLES):
            path += f".{part}" if path else str(part)
        previous = part
    return path


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else str(exc)
    return error_response(status, f"{request.method} {request.url.path}: {detail}")


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, f"generation failed: {type(exc).__name__}: {exc}")
