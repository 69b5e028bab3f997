"""`podspec status`: the managed pods, their state and drift."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from podspec.cli import context, targets
from podspec.cli.application import app
from podspec.cli.cmd_sync import STATE_DIR_OPTION
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


@app.command("status")
@guarded()
def status(
    project: Optional[str] = ONLY_PROJECT_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
    target: Optional[list[str]] = targets.TARGET_OPTION,
    parallel_targets: int = targets.PARALLEL_TARGETS_OPTION,
    state_dir: Optional[Path] = STATE_DIR_OPTION,
) -> None:
    """List the pods podspec manages, with their containers' state and any drift."""
    from podspec import render
    from podspec.cli.cmd_sync import state_dir as agents_dir
    from podspec.run.status import status as run_status

    project = context.project_given(project)  # podspec.toml's project too
    if target:
        outcomes = targets.status(targets.chosen(target, (), url, connection, identity), project, parallel_targets)
        targets.show_status(outcomes, output)
        raise typer.Exit(targets.exit_code(outcomes))
    result = run_status(project, context.connector(url, connection, identity), agents_dir(state_dir))
    if output is OutputFormat.json:
        print_json(render.status_json(result))
    else:
        typer.echo(render.status_text(result))
    raise typer.Exit(EXIT_OK)
