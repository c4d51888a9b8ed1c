"""``OpenAIConfig``: where and how to query an OpenAI-compatible chat-completions endpoint."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ToolMode = Literal["text", "native"]
"""Tools in the prompt text (the env's format), or the API's native ``tools=`` field."""


class OpenAIConfig(BaseModel):
    """Where and how to query an OpenAI-compatible chat-completions endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="API root, e.g. 'http://localhost:8000/v1'.")
    model: str = Field(description="Model name as the server knows it (see GET /v1/models).")
    api_key: str | None = Field(default=None, repr=False, description="Bearer token, if any.")
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Environment variable read when api_key is unset."
    )
    temperature: float | None = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature (None: not sent)."
    )
    top_p: float | None = Field(
        default=1.0, gt=0.0, le=1.0, description="Nucleus sampling mass (None: not sent)."
    )
    max_tokens: int | None = Field(
        default=1024,
        ge=1,
        description="Reply length cap (None: not sent; for APIs that want "
        "max_completion_tokens instead, put it in extra_body).",
    )
    seed: int | None = Field(default=None, description="Sampling seed, sent only when set.")
    tool_mode: ToolMode = Field(
        default="text", description="Tools in the prompt text, or the API's native `tools=`."
    )
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to open a connection.")
    read_timeout: float = Field(default=300.0, gt=0, description="Seconds to wait for each read.")
    attempt_timeout: float = Field(
        default=900.0, gt=0, description="Seconds for one whole attempt."
    )
    max_retries: int = Field(default=4, ge=0, description="Retries after the first attempt.")
    backoff_base: float = Field(default=0.5, gt=0, description="First retry wait, in seconds.")
    backoff_cap: float = Field(
        default=30.0, gt=0, description="Longest single wait, Retry-After included, in seconds."
    )
    max_concurrency: int = Field(default=8, ge=1, description="Requests in flight at once.")
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="Merged last into every request body (server extras)."
    )

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url {value!r} must start with http:// or https://")
        value = value.rstrip("/")
        if value.endswith("/chat/completions"):
            raise ValueError(
                f"base_url {value!r} must be the API root: drop '/chat/completions' "
                "(e.g. http://localhost:8000/v1)"
            )
        return value

    def resolved_api_key(self) -> str | None:
        """``api_key``, else the value of the environment variable ``api_key_env``."""
        return self.api_key or (os.environ.get(self.api_key_env) if self.api_key_env else None)
