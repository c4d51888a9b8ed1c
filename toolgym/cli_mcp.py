"""``toolgym mcp ...``: toolgym suites as MCP servers (the ``mcp`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

mcp_app = typer.Typer(
    help="MCP: serve a toolgym suite's tools to any MCP client.", no_args_is_help=True
)


@mcp_app.command("serve")
def serve(
    env_id: Annotated[str, typer.Argument(help="A registered env, e.g. toolgym/Calendar-v0.")],
    task: Annotated[str, typer.Option("--task", help="The task id the episode plays.")],
    split: Annotated[str, typer.Option(help="The split the task is in.")] = "test",
    episode_file: Annotated[
        Path | None, typer.Option(help="Write the episode's verdict (JSON) here when scored.")
    ] = None,
) -> None:
    """Expose ENV_ID's tools on stdio for task --task; the `score` tool ends and scores it."""
    try:
        import mcp  # noqa: F401
    except ImportError:
        typer.echo("error: `toolgym mcp` needs the mcp extra: pip install 'toolgym[mcp]'", err=True)
        raise typer.Exit(2) from None
    import toolgym  # noqa: F401  (registers the envs)
    from toolgym.mcp.serve import serve_stdio

    try:
        serve_stdio(env_id, task, split, episode_file)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
