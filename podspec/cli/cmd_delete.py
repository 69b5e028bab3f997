"""`podspec delete`: remove what the manifests define; volumes only with --volumes."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.app import app
from podspec.cli.common import (
    CONNECTION_OPTION,
    EXIT_OK,
    OUTPUT_OPTION,
    PARALLEL_OPTION,
    PATHS_ARGUMENT,
    PROJECT_OPTION,
    URL_OPTION,
    OutputFormat,
    guarded,
    print_json,
)


@app.command("delete")
@guarded()
def delete(
    paths: list[str] = PATHS_ARGUMENT,
    volumes: bool = typer.Option(False, "--volumes", help="Also remove the named volumes (their data is lost)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be removed, change nothing."),
    lock_timeout: float = typer.Option(60.0, "--lock-timeout", help="Seconds to wait for another command on the project."),
    parallel: int = PARALLEL_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
) -> None:
    """Remove the pods the manifests define (only those podspec created); volumes are kept unless --volumes."""
    from podspec import render
    from podspec.reconcile import deletion
    from podspec.run.executor import execute
    from podspec.run.lock import project_lock

    desired = context.load_desired(paths, policy=None)  # delete only removes: no policy
    name = context.project_name(project, paths)
    as_json = output is OutputFormat.json
    say = context.say_err if as_json else typer.echo
    with context.open_engine(url, connection) as engine, project_lock(engine.lock_key, name, lock_timeout):
        decided = deletion.plan(desired, engine.observe(), name, volumes)
        plan, skipped = decided.plan, list(decided.skipped)
        for line in skipped:
            say(line)
        if not as_json:
            typer.echo(render.plan_text(plan))
        if not dry_run:
            execute(plan, engine, lambda e: None if as_json or e.status.value == "started" else typer.echo(render.event_text(e)),
                    parallel=parallel)
    if as_json:
        print_json({"version": render.JSON_VERSION, "project": name, "plan": render.plan_json(plan),
                    "skipped": skipped, "dry_run": dry_run})
    elif not volumes and desired.volume_names():
        typer.echo("Volumes kept: " + ", ".join(desired.volume_names()) + " (pass --volumes to remove them).")
    raise typer.Exit(EXIT_OK)
