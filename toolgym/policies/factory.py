"""One agent vocabulary for the command line: ``AgentConfig`` and ``make_agent``.

Agents: ``oracle`` (the gold trajectory), ``random``, ``hf`` (a local transformers model:
``smollm2-135m`` or ``tiny``) and ``openai`` (any OpenAI-compatible endpoint, e.g. ``toolgym
serve``). ``toolgym eval`` and ``toolgym run`` both build theirs with :func:`make_agent`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from toolgym.llm.config import ToolMode
from toolgym.policies.play import TextPolicy
from toolgym.policies.reference import OraclePolicy, RandomPolicy

AgentName = Literal["hf", "openai", "oracle", "random"]
DEFAULT_LOCAL_MODEL = "smollm2-135m"


class AgentOptions(BaseModel):
    """How an agent is built: its model, endpoint and sampling (the name aside)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        default=None, description="hf: smollm2-135m (default) or tiny; openai: the served model id."
    )
    base_url: str | None = Field(
        default=None, description="openai: the API root, e.g. http://127.0.0.1:8000/v1."
    )
    tool_mode: ToolMode = Field(
        default="text", description="openai: tools in the prompt text, or the API's tools=."
    )
    temperature: float = Field(default=0.7, ge=0, description="hf/openai sampling temperature.")
    max_new_tokens: int = Field(default=256, ge=1, description="hf/openai tokens per turn.")
    seed: int = Field(default=0, ge=0, description="Seed of sampling and random agents.")


class AgentConfig(AgentOptions):
    """A named agent and how it is built."""

    agent: AgentName = Field(
        default="oracle", description="oracle, random, hf (a local model) or openai (an endpoint)."
    )


@dataclass(frozen=True)
class Agent:
    """A policy per episode seed, and the local model's tokenizer (``None`` for other agents)."""

    policy: Callable[[int], TextPolicy]
    tokenizer: Any = None


def make_agent(config: AgentConfig) -> Agent:
    """Build ``config.agent``: one model or client shared by every episode.

    Raises:
        ValueError: ``openai`` without ``base_url`` and ``model``.
    """
    if config.agent == "oracle":
        return Agent(lambda seed: OraclePolicy())
    if config.agent == "random":
        return Agent(RandomPolicy)
    if config.agent == "hf":
        from toolgym.llm import models
        from toolgym.llm.sampler import SamplingConfig
        from toolgym.policies.hf_text import HFTextPolicy

        model, tokenizer = models.load(config.model or DEFAULT_LOCAL_MODEL)  # type: ignore[arg-type]
        sampling = SamplingConfig(config.temperature, 1.0, config.max_new_tokens, config.seed)
        shared = HFTextPolicy(model, tokenizer, sampling)
        return Agent(lambda seed: shared, tokenizer)
    from toolgym.policies.openai import OpenAIConfig, OpenAIPolicy

    if config.base_url is None or config.model is None:
        raise ValueError("--agent openai needs --base-url and --model")
    client = OpenAIPolicy(
        OpenAIConfig(
            base_url=config.base_url,
            model=config.model,
            temperature=config.temperature,
            max_tokens=config.max_new_tokens,
            seed=config.seed,
            tool_mode=config.tool_mode,
        ),
        check_tools=True,  # native mode: warn if the server's template drops the tools
    )
    return Agent(lambda seed: cast(TextPolicy, client))
