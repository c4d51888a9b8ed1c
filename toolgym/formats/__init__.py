"""Tool-call formats by name: ``get_format("hermes")``, ``"glm"``, ``"pythonic"``."""

from typing import Literal

from toolgym.formats.base import ParsedTurn, ToolFormat
from toolgym.formats.glm import GLMFormat
from toolgym.formats.hermes import HermesFormat
from toolgym.formats.pythonic import PythonicFormat

FormatName = Literal["hermes", "glm", "pythonic"]
FORMATS: dict[str, ToolFormat] = {
    "hermes": HermesFormat(),
    "glm": GLMFormat(),
    "pythonic": PythonicFormat(),
}


def get_format(name: str) -> ToolFormat:
    """The format called ``name``; raises ValueError listing the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown tool format {name!r}; choose one of {sorted(FORMATS)}") from None


__all__ = [
    "FORMATS",
    "FormatName",
    "GLMFormat",
    "HermesFormat",
    "ParsedTurn",
    "PythonicFormat",
    "ToolFormat",
    "get_format",
]
