"""Build hook: ship the content folders (tools/, envs/, tasks/) inside the wheel.

They land under ``toolgym/_content/`` so no generic top-level module (``tools``, ``envs``) is
installed. Editable installs ship nothing extra: ``toolgym.content`` reads the checkout directly.
"""

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CONTENT_FOLDERS = ("tools", "envs", "tasks")


class ContentHook(BuildHookInterface):
    """Force-include the content folders in regular (non-editable) wheels."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Map each content folder to ``toolgym/_content/<folder>`` for standard builds."""
        if version == "standard":
            for folder in CONTENT_FOLDERS:
                build_data["force_include"][folder] = f"toolgym/_content/{folder}"
