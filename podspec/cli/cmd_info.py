"""`podspec info`: which Podman podspec talks to (rootless or root), and where it keeps locks and state."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.application import app
from podspec.cli.common import CONNECTION_OPTION, EXIT_OK, OUTPUT_OPTION, URL_OPTION, OutputFormat, guarded, print_json


@app.command("info")
@guarded()
def info(
    output: OutputFormat = OUTPUT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
) -> None:
    """Say which Podman podspec talks to (version, rootless or root, where, what chose it)."""
    from podspec import render
    from podspec.run.info import info as run_info

    locks, state = context.user_dirs()
    result = run_info(context.connector(url, connection), locks, state)
    if output is OutputFormat.json:
        print_json(render.info_json(result))
    else:
        typer.echo(render.info_text(result))
    raise typer.Exit(EXIT_OK)
