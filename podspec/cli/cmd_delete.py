"""`podspec delete`: remove what the manifests define; volumes only with --volumes."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.application import app
from podspec.cli.common import (
    AGE_KEY_FILE_OPTION,
    CONNECTION_OPTION,
    EXIT_OK,
    FORCE_CONFLICTS_OPTION,
    IDENTITY_OPTION,
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
    identity: Optional[str] = IDENTITY_OPTION,
    force_conflicts: bool = FORCE_CONFLICTS_OPTION,
    age_key_file: Optional[str] = AGE_KEY_FILE_OPTION,
) -> None:
    """Remove the pods the manifests define (only those podspec created); volumes are kept unless --volumes."""
    from podspec import render
    from podspec.cli.progress import JsonListener, TextListener
    from podspec.run.delete import DeleteRequest
    from podspec.run.delete import delete as run_delete

    request = DeleteRequest(
        manifests=context.manifests(paths, None, age_key_file=age_key_file),  # delete only removes: no policy
        project=(named := context.project_name(project, paths)).name, former=named.former, volumes=volumes, dry_run=dry_run,
        lock_timeout=lock_timeout, lock_lease=context.lock_lease(), parallel=parallel,
        origin=context.origin(paths), force_conflicts=force_conflicts,
    )
    as_json = output is OutputFormat.json
    listener = JsonListener() if as_json else TextListener(
        colour=False, terminal=False, parallel=parallel, show_diff=False)
    result = run_delete(request, context.connector(url, connection, identity), listener)
    if as_json:
        print_json(render.delete_json(result))
    elif kept := render.volumes_kept_text(result):
        typer.echo(kept)
    raise typer.Exit(EXIT_OK)
