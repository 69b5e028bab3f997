"""`podspec rollback`: put a recorded revision back, without its files (run/rollback.py)."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.application import app
from podspec.cli.common import (
    CONNECTION_OPTION,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    IDENTITY_OPTION,
    OUTPUT_OPTION,
    PARALLEL_OPTION,
    URL_OPTION,
    OutputFormat,
    guarded,
    print_json,
)
from podspec.errors import UsageError


@app.command("rollback")
@guarded()
def rollback(
    to: Optional[str] = typer.Option(
        None, "--to", metavar="REVISION|NUMBER",
        help="The record to go back to: its # or its revision (a prefix will do) from `podspec history`. "
             "Default: the previous revision that ran."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing (exit 2 when there are changes)."),
    wait: bool = typer.Option(False, "--wait", help="Wait until every container put back runs and passes its health check."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds --wait waits."),
    lock_timeout: float = typer.Option(60.0, "--lock-timeout", help="Seconds to wait for another apply of the same project."),
    parallel: int = PARALLEL_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    project: Optional[str] = typer.Option(None, "--project", "-p", help="The project (default: $PODSPEC_PROJECT)."),
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
) -> None:
    """Put back the pods of an earlier applied revision, as the host's history recorded them."""
    from podspec.cli.progress import JsonListener, TextListener
    from podspec.run.rollback import RollbackRequest
    from podspec.run.rollback import rollback as run_rollback

    project = context.project_given(project)  # podspec.toml's project too
    if not project:
        raise UsageError("which project's history? none given", "pass --project NAME (see `podspec history`)")
    request = RollbackRequest(project, to or "", dry_run=dry_run, wait=wait, wait_timeout=timeout,
                              lock_timeout=lock_timeout, lock_lease=context.lock_lease(), parallel=parallel,
                              probe_image=context.probe_image())
    as_json = output is OutputFormat.json
    listener = JsonListener() if as_json else TextListener(colour=context.colour_wanted(), terminal=context.terminal(),
                                                           parallel=parallel)
    result = run_rollback(request, context.connector(url, connection, identity), listener)
    from podspec import render

    if as_json:
        print_json(render.apply_json(result))
    elif result.failed:
        for line in render.failure_lines(result):
            context.say_err(line)
    else:
        for line in result.pinned:
            typer.echo(f"pinned {line}")
        if result.outcome.value != "dry-run":
            typer.echo(render.outcome_line(result))
    if result.failed:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_CHANGES if result.pending else EXIT_OK)
