"""``toolgym serve``: an OpenAI-compatible chat-completions server in front of a local model.

``create_app`` builds the ASGI app (Starlette) around a transformers model; ``serve`` loads a
model by name and runs it with uvicorn; ``background_server`` runs an app in a thread (tests,
notebooks). Clients: ``OpenAIPolicy``, httpx, the ``openai`` SDK, curl.
"""

from toolgym.serve.app import create_app
from toolgym.serve.engine import ChatEngine, PromptTooLong
from toolgym.serve.protocol import ChatCompletion, ChatCompletionRequest
from toolgym.serve.server import background_server, make_server, serve

__all__ = [
    "ChatCompletion",
    "ChatCompletionRequest",
    "ChatEngine",
    "PromptTooLong",
    "background_server",
    "create_app",
    "make_server",
    "serve",
]
