"""`podspec diff`: what apply would change, field by field; exit 0 none, 2 changes, 1 error."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.app import app
from podspec.cli.common import (
    ALLOW_CAPABILITY_OPTION,
    ALLOW_HOST_PATH_OPTION,
    ALLOW_HOST_PORT_OPTION,
    CONNECTION_OPTION,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    OUTPUT_OPTION,
    PATHS_ARGUMENT,
    POLICY_OPTION,
    PROJECT_OPTION,
    URL_OPTION,
    OutputFormat,
    check_prune_flags,
    guarded,
    print_json,
)


@app.command("diff")
@guarded()
def diff(
    paths: list[str] = PATHS_ARGUMENT,
    prune: bool = typer.Option(False, "--prune", help="Include pods of the project that left the manifests."),
    prune_volumes: bool = typer.Option(False, "--prune-volumes", help="With --prune: include this project's volumes that left the manifests."),
    adopt: bool = typer.Option(False, "--adopt", help="Show objects podspec did not create as replaced, not as conflicts."),
    output: OutputFormat = OUTPUT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    policy: Optional[str] = POLICY_OPTION,
    allow_host_path: Optional[list[str]] = ALLOW_HOST_PATH_OPTION,
    allow_host_port: Optional[list[str]] = ALLOW_HOST_PORT_OPTION,
    allow_capability: Optional[list[str]] = ALLOW_CAPABILITY_OPTION,
) -> None:
    """Show what `apply` would change and why. Exit 0: no changes; 2: changes pending; 1: error or conflict."""
    from podspec import render
    from podspec.reconcile import diff as differ

    check_prune_flags(prune, prune_volumes)

    desired = context.load_desired(paths, policy=context.policy_from(policy, allow_host_path, allow_host_port, allow_capability))
    name = context.project_name(project, paths)
    with context.open_engine(url, connection) as engine:
        # The same image checks as apply (an image that cannot be had, runAsNonRoot), without pulling.
        observed = context.prepare_images(engine, desired, engine.observe(), context.say_err, pull=False)
    result = differ.compute(desired, observed, name, prune=prune, prune_volumes=prune_volumes, adopt=adopt)
    if output is OutputFormat.json:
        print_json(render.diff_json(result))
    else:
        typer.echo(render.diff_text(result, colour=context.colour_wanted()))
    if result.conflicts:
        if output is OutputFormat.text:
            context.say_err("error: conflicts with objects podspec did not create; apply would refuse (see above)")
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_CHANGES if result.has_changes else EXIT_OK)
