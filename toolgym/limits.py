"""``Limits``: what ends an episode as ``truncated``, and the size caps on actions and results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from toolgym.formats.base import ParseLimits


class Limits(BaseModel):
    """Limits that end an episode as ``truncated`` (and the size cap on tool results)."""

    model_config = ConfigDict(extra="forbid")

    max_turns: int = Field(default=16, ge=1, description="Assistant turns per episode.")
    max_invalid_streak: int = Field(
        default=3, ge=1, description="Consecutive turns with a malformed or invalid call."
    )
    max_calls_per_turn: int = Field(
        default=8, ge=1, description="Tool calls in one message; more: the turn is refused."
    )
    max_result_chars: int = Field(
        default=4000, ge=64, description="Longer tool results are cut, with a visible marker."
    )
    max_action_chars: int = Field(
        default=32_768, ge=1, description="Longest assistant message; longer: the turn is refused."
    )
    max_call_chars: int = Field(
        default=16_384, ge=64, description="Characters of one tool-call block; longer: an error."
    )
    max_json_depth: int = Field(
        default=32, ge=2, description="Nesting of one call's JSON arguments; deeper: an error."
    )
    max_json_keys: int = Field(
        default=512, ge=1, description="Object keys in one call's JSON; more: an error."
    )

    def parse_limits(self) -> ParseLimits:
        """The caps a format checks before it decodes a call."""
        return ParseLimits(
            self.max_calls_per_turn, self.max_call_chars, self.max_json_depth, self.max_json_keys
        )
