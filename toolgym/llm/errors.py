"""The errors of a failed completion: HTTP error status, no answer, timeout, malformed body."""

from __future__ import annotations

import httpx

STATUS_HINTS = {
    401: "set OpenAIConfig.api_key or the environment variable named by api_key_env",
    403: "the API key lacks access to this model",
    404: "check that base_url ends at the API root (e.g. http://host:8000/v1) and the model name",
}


class OpenAIPolicyError(RuntimeError):
    """Base class of every failure to get a completion from the endpoint."""

    def __init__(self, message: str, *, url: str, attempts: int) -> None:
        super().__init__(message)
        self.url, self.attempts = url, attempts


class EndpointError(OpenAIPolicyError):
    """The server answered with an HTTP error status (after the last retry, if retryable)."""

    def __init__(self, *, status_code: int, url: str, attempts: int, server_message: str) -> None:
        hint = f" (hint: {STATUS_HINTS[status_code]})" if status_code in STATUS_HINTS else ""
        super().__init__(
            f"{url} answered HTTP {status_code} after {attempts} attempt(s): "
            f"{server_message}{hint}",
            url=url,
            attempts=attempts,
        )
        self.status_code, self.server_message = status_code, server_message


class EndpointUnavailable(OpenAIPolicyError):
    """No HTTP answer at all after the last retry: connection refused, reset or closed."""


class EndpointTimeout(EndpointUnavailable):
    """The last attempt ran past a timeout (connect, read or the whole attempt)."""


class MalformedResponse(OpenAIPolicyError):
    """A success status, but the body is not JSON or lacks ``choices[0].message``."""


def transport_error(exc: BaseException, url: str, attempts: int) -> EndpointUnavailable:
    """The error to raise for a transport failure (EndpointTimeout for timeouts)."""
    timeout = isinstance(exc, httpx.TimeoutException | TimeoutError)
    kind = EndpointTimeout if timeout else EndpointUnavailable
    what = type(exc).__name__ + (f": {exc}" if str(exc) else "")
    return kind(
        f"{url}: no answer after {attempts} attempt(s) ({what})", url=url, attempts=attempts
    )
