"""`podspec history`: the applies recorded on the host, newest first (reconcile/history.py)."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.application import app
from podspec.cli.common import (
    CONNECTION_OPTION,
    EXIT_OK,
    IDENTITY_OPTION,
    ONLY_PROJECT_OPTION,
    OUTPUT_OPTION,
    URL_OPTION,
    OutputFormat,
    guarded,
    print_json,
)


@app.command("history")
@guarded()
def history(
    project: Optional[str] = ONLY_PROJECT_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
) -> None:
    """List the applies recorded on the host (revision, time, outcome, changes), newest first."""
    from podspec import render
    from podspec.run.history import history as run_history

    project = context.project_given(project)  # podspec.toml's project too
    result = run_history(project, context.connector(url, connection, identity))
    if output is OutputFormat.json:
        print_json(render.history_json(result))
    else:
        typer.echo(render.history_text(result))
    raise typer.Exit(EXIT_OK)
