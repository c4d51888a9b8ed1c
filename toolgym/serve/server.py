"""Running the app with uvicorn: in the foreground (``serve``) or in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from toolgym.formats import FormatName
from toolgym.llm.models import ModelName
from toolgym.serve.app import create_app


def make_server(
    app: Any, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info"
) -> uvicorn.Server:
    """A uvicorn server for ``app`` (not started; ``port=0`` picks a free port when it starts)."""
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level))


def serve(
    model: ModelName = "smollm2-135m",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    tool_format: FormatName = "hermes",
    served_name: str | None = None,
    default_max_tokens: int = 512,
    log_level: str = "info",
) -> None:
    """Load a local model (``toolgym.llm.models.load``) and serve it until interrupted.

    Args:
        model: A name ``toolgym.llm.models.load`` accepts.
        host: Interface to bind (``0.0.0.0`` for every interface).
        port: TCP port.
        tool_format: How tools in a request are shown to the model and its calls read back.
        served_name: The name clients use in ``model`` (default: ``model``).
        default_max_tokens: Token budget of a request that sets none.
        log_level: uvicorn's log level.
    """
    from toolgym.llm import models

    loaded, tokenizer = models.load(model)
    app = create_app(
        loaded,
        tokenizer,
        model_name=served_name or model,
        tool_format=tool_format,
        default_max_tokens=default_max_tokens,
    )
    make_server(app, host=host, port=port, log_level=log_level).run()


@contextmanager
def background_server(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0
) -> Iterator[str]:
    """Serve ``app`` from a daemon thread; yields the API root, e.g. ``http://127.0.0.1:PORT/v1``.

    For tests, notebooks and scripts that want an in-process server. The server stops when the
    ``with`` block ends.

    Args:
        app: An ASGI app, e.g. from ``create_app``.
        host: Interface to bind.
        port: TCP port; 0 picks a free one.
        timeout: Seconds to wait for the server to start (or stop).
    """
    server = make_server(app, host=host, port=port, log_level="warning")
    thread = threading.Thread(target=server.run, name="toolgym-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not server.started:
            thread.join(0.01)
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {host}:{port} did not start (see the log above)")
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{bound_port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout)
