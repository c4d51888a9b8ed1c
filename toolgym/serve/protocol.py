"""The OpenAI chat-completions wire format, as pydantic models: what the server reads and writes.

Requests are strict (``extra="forbid"``): a field this server does not implement is rejected with
a 400 that names it, rather than silently ignored. A few fields that clients send by habit and that
change nothing here (``user``, ``parallel_tool_calls``, zero penalties) are accepted.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------------ messages
class TextPart(_Strict):
    """One text part of a message's content (images and audio are not supported)."""

    type: Literal["text"]
    text: str


Content = str | list[TextPart]


def content_text(content: Content | None) -> str:
    """The text of a message's content: the string itself, or its text parts joined."""
    if content is None:
        return ""
    return content if isinstance(content, str) else "".join(part.text for part in content)


class FunctionCall(_Strict):
    """The function of a tool call in an assistant message of the history."""

    name: str = Field(min_length=1)
    arguments: str = Field(description="The arguments as a JSON object, encoded as a string.")

    @field_validator("arguments")
    @classmethod
    def _json_object(cls, value: str) -> str:
        try:
            decoded = json.loads(value) if value.strip() else {}
        except (ValueError, RecursionError):
            raise ValueError(
                f"must be a JSON object encoded as a string, got {value[:80]!r}"
            ) from None
        if not isinstance(decoded, dict):
            raise ValueError(f"must encode a JSON object, got {type(decoded).__name__}")
        return value

    def decoded_arguments(self) -> dict[str, Any]:
        """The arguments as a dict."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


class ToolCallIn(_Strict):
    """A tool call the assistant made earlier in the conversation."""

    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(_Strict):
    """Instructions (``developer`` is the newer name of ``system``)."""

    role: Literal["system", "developer"]
    content: Content
    name: str | None = None


class UserMessage(_Strict):
    """A user turn."""

    role: Literal["user"]
    content: Content
    name: str | None = None


class AssistantMessage(_Strict):
    """An earlier assistant turn: text, tool calls, or both."""

    role: Literal["assistant"]
    content: Content | None = None
    tool_calls: list[ToolCallIn] | None = None
    name: str | None = None
    reasoning_content: str | None = Field(default=None, description="Accepted and not shown.")


class ToolMessage(_Strict):
    """A tool result. ``tool_call_id`` links it to a call; toolgym's env texts carry ``name``."""

    role: Literal["tool"]
    content: Content
    tool_call_id: str | None = None
    name: str | None = None


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


# --------------------------------------------------------------------------------------- tools
class FunctionSpec(BaseModel):
    """A function the model may call; ``parameters`` is its JSON Schema."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class ToolSpec(BaseModel):
    """One entry of ``tools``. The model sees it exactly as the client sent it (``raw``)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["function"]
    function: FunctionSpec
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> ToolSpec:
        spec = handler(data)
        spec._raw = dict(data) if isinstance(data, dict) else spec.model_dump(exclude_unset=True)
        return spec

    @property
    def raw(self) -> dict[str, Any]:
        """The spec as received (key order kept), which is what the tool format renders."""
        return self._raw


# ---------------------------------------------------------------------------------- request
class StreamOptions(_Strict):
    """Options of a streamed reply."""

    include_usage: bool = False


class ChatCompletionRequest(_Strict):
    """The body of ``POST /v1/chat/completions``."""

    model: str
    messages: list[Message] = Field(min_length=1)
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["auto", "none"] | None = Field(
        default=None, description="'none' hides the tools; forcing a call is not supported."
    )
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="Default 1.")
    top_p: float | None = Field(default=None, gt=0.0, le=1.0, description="Default 1.")
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(
        default=None, ge=1, description="Wins over max_tokens."
    )
    stop: str | list[str] | None = Field(default=None, description="Up to 4 stop strings.")
    seed: int | None = Field(default=None, ge=-(2**63), le=2**64 - 1)
    n: int = Field(default=1, ge=1, le=8, description="Samples of the same prompt, in one batch.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, description="Accepted and ignored.")
    parallel_tool_calls: bool | None = Field(default=None, description="Accepted and ignored.")
    frequency_penalty: float | None = Field(default=None, ge=0.0, le=0.0, description="Only 0.")
    presence_penalty: float | None = Field(default=None, ge=0.0, le=0.0, description="Only 0.")

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> list[str] | None:
        stops = [value] if isinstance(value, str) else value
        if stops is not None and (len(stops) > 4 or not all(stops)):
            raise ValueError("give at most 4 non-empty stop strings")
        return stops

    def budget(self, default: int) -> int:
        """Tokens to generate at most: ``max_completion_tokens``, else ``max_tokens``, else default."""
        return self.max_completion_tokens or self.max_tokens or default

    def stop_strings(self) -> list[str]:
        """The stop strings (normalised to a list by validation)."""
        return list(self.stop or [])


# --------------------------------------------------------------------------------- responses
class FunctionCallOut(BaseModel):
    """A function the model called; ``arguments`` is a JSON object encoded as a string."""

    name: str
    arguments: str


class ToolCallOut(BaseModel):
    """One tool call of a reply."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCallOut


class ReplyMessage(BaseModel):
    """The assistant message of a choice."""

    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    reasoning_content: str | None = None


FinishReason = Literal["stop", "length", "tool_calls"]


class Choice(BaseModel):
    """One sample: its message and why it ended."""

    index: int
    message: ReplyMessage
    finish_reason: FinishReason
    logprobs: None = None


class Usage(BaseModel):
    """Token counts of a request (all n samples together)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """The body of a non-streamed reply."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ModelCard(BaseModel):
    """One entry of ``GET /v1/models``."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "toolgym"


class ModelList(BaseModel):
    """The body of ``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    """What went wrong, in OpenAI's shape."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """The body of every error reply."""

    error: ErrorDetail
