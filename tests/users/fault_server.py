"""A scripted OpenAI-compatible server on loopback that misbehaves on purpose (fault injection).

Each request is matched to a behaviour by the task instruction found in its system prompt (the
LLM user's profile prompt quotes it):

- ``ok``: answers once ("Wednesday, please."), then sends the stop signal;
- ``http500``: HTTP 500 every time;
- ``timeout``: sleeps past the client's timeout;
- ``malformed``: HTTP 200 whose body is not JSON;
- ``never_ends``: always asks something back, never the stop signal.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolgym.users import STOP_SIGNAL


def completion(text: str) -> dict:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": 0,
        "model": "fault",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }


def fault_app(behaviours: dict[str, str], sleep_s: float = 3.0) -> Starlette:
    """``behaviours`` maps a task instruction to one of the behaviours above."""
    hits: Counter[str] = Counter()

    async def chat(request: Request) -> Response:
        body = await request.json()
        system = body["messages"][0]["content"]
        kind = next((b for text, b in behaviours.items() if text in system), "ok")
        hits[kind] += 1
        if kind == "http500":
            return JSONResponse({"error": {"message": "injected failure"}}, status_code=500)
        if kind == "timeout":
            await asyncio.sleep(sleep_s)
            return JSONResponse(completion("too late"))
        if kind == "malformed":
            return Response('{"choices": [', media_type="application/json")
        if kind == "never_ends":
            return JSONResponse(completion("Hmm, what do you mean exactly?"))
        replies_so_far = sum(m["role"] == "assistant" for m in body["messages"]) - 1
        return JSONResponse(
            completion("Wednesday, please." if replies_so_far == 0 else STOP_SIGNAL)
        )

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    app.state.hits = hits
    return app
