"""``python -m toolgym`` = the ``toolgym`` command."""

from toolgym.cli import app

app(prog_name="toolgym")
