"""``ServerTokenPolicy``: token ids in, token ids and log-probs out, from an inference server.

A :class:`~toolgym.collector.TokenPolicy` backed by vLLM, SGLang or ``toolgym serve``: each prefix
is sent as prompt token ids (one request per prefix, all in flight at once, bounded by
``max_concurrency``) and the reply's generated token ids and their log-probs come back as a
:class:`~toolgym.tokens.env.Generation`. Text is never re-tokenised; a reply without ids or
log-probs raises :class:`MissingTokenData`, naming the missing field. Retries (transport errors,
429 and 5xx, with backoff) are :class:`~toolgym.llm.client.OpenAIClient`'s.

Wire protocols (``TokenServerConfig.protocol``):

- ``"vllm"``: ``POST {base_url}/v1/completions`` with ``prompt`` as a list of ints, ``max_tokens``,
  ``temperature``, ``top_p``, ``seed``, ``stop_token_ids``, ``logprobs: 0`` and
  ``return_token_ids: true``; read ``choices[0].token_ids`` and
  ``choices[0].logprobs.token_logprobs``. Source: vLLM ``vllm/entrypoints/openai/protocol.py``
  (``CompletionRequest.return_token_ids``: "the result will include token IDs alongside the
  generated text"; ``CompletionResponseChoice.token_ids`` / ``prompt_token_ids`` /
  ``logprobs: CompletionLogProbs`` with ``token_logprobs``), vLLM >= 0.10.2;
  https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html.
- ``"sglang"``: ``POST {base_url}/generate`` with ``input_ids``, ``sampling_params``
  (``max_new_tokens``, ``temperature``, ``top_p``, ``stop_token_ids``) and
  ``return_logprob: true``; read ``output_ids`` and ``meta_info.output_token_logprobs``
  (``[logprob, token_id, text-or-null]`` triples). Source:
  https://docs.sglang.io/basic_usage/sampling_params.html (``/generate`` arguments, defined at
  ``io_struct.py::GenerateReqInput``) and https://docs.sglang.io/basic_usage/native_api.html.

Log-probs: :class:`~toolgym.llm.sampler.HFPolicy` reports ``log_softmax(logits / temperature)``.
vLLM's default is the raw model distribution (start it with ``--logprobs-mode
processed_logprobs`` to match at temperature != 1); at temperature 0 and 1 they agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from toolgym.llm.client import OpenAIClient
from toolgym.llm.config import OpenAIConfig
from toolgym.llm.errors import MalformedResponse
from toolgym.llm.protocol import snippet
from toolgym.llm.sampler import _budgets  # the same per-row caps as HFPolicy
from toolgym.tokens.env import Generation

TokenProtocol = Literal["vllm", "sglang"]
SEED_STRIDE = 1_000_003  # seeds of call c, row r: seed + c * SEED_STRIDE + r (rows must differ)


class MissingTokenData(MalformedResponse):
    """The server answered without the generated token ids or their log-probs."""


class TokenServerConfig(BaseModel):
    """Where and how to ask an inference server for token ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(
        description="Server root, e.g. 'http://localhost:8000' (a trailing '/v1' is dropped)."
    )
    protocol: TokenProtocol = Field(default="vllm", description="Wire protocol: vllm or sglang.")
    model: str = Field(default="default", description="Model name (vLLM's `model` field).")
    temperature: float = Field(default=1.0, ge=0.0, description="0 means greedy.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_new_tokens: int = Field(default=256, ge=1, description="Budget per turn.")
    seed: int | None = Field(default=0, description="Base sampling seed (None: not sent).")
    max_concurrency: int = Field(default=64, ge=1, description="Requests in flight at once.")
    max_retries: int = Field(default=4, ge=0, description="Retries after the first attempt.")
    backoff_base: float = Field(default=0.5, gt=0, description="First retry wait, in seconds.")
    backoff_cap: float = Field(default=30.0, gt=0, description="Longest single wait, seconds.")
    read_timeout: float = Field(default=300.0, gt=0, description="Seconds to wait for a read.")
    api_key: str | None = Field(default=None, repr=False, description="Bearer token, if any.")

    @property
    def root(self) -> str:
        """``base_url`` without a trailing ``/`` or ``/v1`` (the routes add their own prefix)."""
        return self.base_url.rstrip("/").removesuffix("/v1")

    def http_config(self) -> OpenAIConfig:
        """The settings of the underlying :class:`OpenAIClient` (retries, timeouts, bound)."""
        return OpenAIConfig(
            base_url=self.root,
            model=self.model,
            api_key=self.api_key,
            api_key_env="",
            read_timeout=self.read_timeout,
            max_retries=self.max_retries,
            backoff_base=self.backoff_base,
            backoff_cap=self.backoff_cap,
            max_concurrency=self.max_concurrency,
        )


class ServerTokenPolicy:
    """A token policy served over HTTP; ``close()`` (or ``with``) releases the connections."""

    def __init__(self, config: TokenServerConfig, stop_ids: Collection[int]) -> None:
        """Build a policy; no connection is opened until the first ``generate``.

        Args:
            config: Server, protocol and sampling settings.
            stop_ids: Token ids that end a turn (``ChatTokenizer.stop_ids``); the stop token is
                kept as the last token of the generation, as ``HFPolicy`` does.
        """
        self.config = config
        self.stop_ids = sorted(int(i) for i in stop_ids)
        self.client = OpenAIClient(config.http_config())
        root = config.root
        self.url = f"{root}/v1/completions" if config.protocol == "vllm" else f"{root}/generate"
        self._calls = 0

    @property
    def stats(self) -> Any:
        """The HTTP client's running totals (requests, retries, ...)."""
        return self.client.stats

    def generate(
        self, prefixes: Sequence[Sequence[int]], max_new_tokens: Sequence[int] | int | None = None
    ) -> list[Generation]:
        """One continuation per prefix; row i gets at most ``min(max_new_tokens[i], config's)``."""
        return self.client.run_sync(
            self.agenerate(prefixes, max_new_tokens),
            in_loop_hint="ServerTokenPolicy.generate() was called inside a running event loop: "
            "use `await policy.agenerate(prefixes)`",
        )

    async def agenerate(
        self, prefixes: Sequence[Sequence[int]], max_new_tokens: Sequence[int] | int | None = None
    ) -> list[Generation]:
        """``generate`` for async code: every prefix's request is in flight at once."""
        if any(not p for p in prefixes):
            raise ValueError("cannot generate from an empty prefix")
        budgets = _budgets(len(prefixes), max_new_tokens, self.config.max_new_tokens)
        call, self._calls = self._calls, self._calls + 1
        return list(
            await asyncio.gather(
                *(
                    self._one(prefix, budget, self._seed(call, row))
                    for row, (prefix, budget) in enumerate(zip(prefixes, budgets, strict=True))
                )
            )
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def __enter__(self) -> ServerTokenPolicy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------- internals
    async def _one(self, prefix: Sequence[int], budget: int, seed: int | None) -> Generation:
        if budget <= 0:
            return Generation((), ())
        body = self._body([int(i) for i in prefix], budget, seed)
        data, attempts = await self.client.apost(self.url, body)
        parse = parse_vllm if self.config.protocol == "vllm" else parse_sglang
        try:
            return parse(data)
        except MissingTokenData as exc:
            raise MissingTokenData(f"{self.url}: {exc}", url=self.url, attempts=attempts) from None

    def _body(self, prompt: list[int], budget: int, seed: int | None) -> dict[str, Any]:
        config = self.config
        sampling: dict[str, Any] = {"temperature": config.temperature, "top_p": config.top_p}
        if seed is not None:
            sampling["seed" if config.protocol == "vllm" else "sampling_seed"] = seed
        if config.protocol == "vllm":
            return {
                "model": config.model,
                "prompt": prompt,
                "max_tokens": budget,
                "stop_token_ids": self.stop_ids,
                "logprobs": 0,
                "return_token_ids": True,
                "skip_special_tokens": False,
                **sampling,
            }
        return {
            "input_ids": prompt,
            "sampling_params": {
                "max_new_tokens": budget,
                "stop_token_ids": self.stop_ids,
                "skip_special_tokens": False,
                **sampling,
            },
            "return_logprob": True,
        }

    def _seed(self, call: int, row: int) -> int | None:
        base = self.config.seed
        return None if base is None else base + call * SEED_STRIDE + row


def parse_vllm(data: Any) -> Generation:
    """The generation in a vLLM ``/v1/completions`` reply (``return_token_ids``, ``logprobs: 0``).

    Raises:
        MissingTokenData: ``choices[0].token_ids`` or ``choices[0].logprobs.token_logprobs`` is
            missing (e.g. a server that predates ``return_token_ids``, or one that returns text).
    """
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MissingTokenData(f"no 'choices' in {snippet(data)}", url="", attempts=0)
    choice = choices[0]
    ids = choice.get("token_ids")
    if not isinstance(ids, list):
        raise _missing("choices[0].token_ids", "send return_token_ids (vLLM >= 0.10.2)", data)
    logprobs = choice.get("logprobs")
    values = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else None
    if not isinstance(values, list):
        raise _missing("choices[0].logprobs.token_logprobs", "send logprobs: 0", data)
    return _generation(ids, values, "choices[0]")


def parse_sglang(data: Any) -> Generation:
    """The generation in an SGLang ``/generate`` reply (``return_logprob: true``).

    Raises:
        MissingTokenData: ``meta_info.output_token_logprobs`` is missing, or neither
            ``output_ids`` nor the triples give the token ids.
    """
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    meta = data.get("meta_info") if isinstance(data, dict) else None
    triples = meta.get("output_token_logprobs") if isinstance(meta, dict) else None
    if not isinstance(triples, list) or not all(
        isinstance(t, list | tuple) and len(t) >= 2 for t in triples
    ):
        raise _missing("meta_info.output_token_logprobs", "send return_logprob: true", data)
    ids = data.get("output_ids")  # type: ignore[union-attr]
    if ids is None:
        ids = [t[1] for t in triples]
    if not isinstance(ids, list):
        raise _missing("output_ids", "a token-id reply", data)
    return _generation(ids, [t[0] for t in triples], "meta_info")


def _generation(ids: list[Any], values: list[Any], where: str) -> Generation:
    if len(ids) != len(values) or any(v is None for v in values):
        raise MissingTokenData(
            f"{where}: {len(ids)} token ids but log-probs {snippet(values)}", url="", attempts=0
        )
    return Generation(tuple(int(i) for i in ids), tuple(float(v) for v in values))


def _missing(field: str, hint: str, data: Any) -> MissingTokenData:
    return MissingTokenData(
        f"the reply has no {field} ({hint}); got {snippet(data)}", url="", attempts=0
    )
