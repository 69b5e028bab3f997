"""`podspec history`: the applies recorded on the host, newest first (reconcile/history.py)."""

from __future__ import annotations

import os
from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.app import app
from podspec.cli.common import CONNECTION_OPTION, EXIT_OK, OUTPUT_OPTION, URL_OPTION, OutputFormat, guarded, print_json


@app.command("history")
@guarded()
def history(
    project: Optional[str] = typer.Option(None, "--project", "-p", help="Only this project (default: $PODSPEC_PROJECT, else every project)."),
    output: OutputFormat = OUTPUT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
) -> None:
    """List the applies recorded on the host (revision, time, outcome, changes), newest first."""
    from podspec import render
    from podspec.run.history import history as run_history

    result = run_history(project or os.environ.get("PODSPEC_PROJECT") or None, context.connector(url, connection))
    if output is OutputFormat.json:
        print_json(render.history_json(result))
    else:
        typer.echo(render.history_text(result))
    raise typer.Exit(EXIT_OK)
