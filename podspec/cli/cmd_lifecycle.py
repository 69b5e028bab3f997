"""`podspec stop` and `podspec start`: pods by name, --project or --all, from what the host records."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.application import app
from podspec.cli.common import (
    CONNECTION_OPTION,
    EXIT_ERROR,
    EXIT_OK,
    IDENTITY_OPTION,
    OUTPUT_OPTION,
    PARALLEL_OPTION,
    URL_OPTION,
    OutputFormat,
    guarded,
    print_json,
    report_error,
)
from podspec.run.listener import Listener

PODS_ARGUMENT = typer.Argument(None, help="Pods to act on (podspec's own; see `podspec status`).", show_default=False)
ALL_OPTION = typer.Option(False, "--all", help="Every pod podspec manages on the host (every project).")
LIFE_PROJECT_OPTION = typer.Option(None, "--project", "-p", help="Every pod of this project.")


@app.command("stop")
@guarded()
def stop(
    pods: Optional[list[str]] = PODS_ARGUMENT,
    project: Optional[str] = LIFE_PROJECT_OPTION,
    every: bool = ALL_OPTION,
    parallel: int = PARALLEL_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
) -> None:
    """Stop pods on purpose: apply and the sync agent leave them stopped until `podspec start`."""
    from podspec import render
    from podspec.run.lifecycle import LifecycleRequest
    from podspec.run.lifecycle import stop as run_stop

    request = LifecycleRequest(tuple(pods or ()), context.project_flag(project), every, parallel=parallel)
    result = run_stop(request, context.connector(url, connection, identity), _listener(output, parallel))
    if output is OutputFormat.json:
        print_json(render.lifecycle_json(result))
    else:
        typer.echo(render.lifecycle_text(result))
    raise typer.Exit(EXIT_OK)


@app.command("start")
@guarded()
def start(
    pods: Optional[list[str]] = PODS_ARGUMENT,
    project: Optional[str] = LIFE_PROJECT_OPTION,
    every: bool = ALL_OPTION,
    timeout: float = typer.Option(120.0, "--timeout", min=0, help="Seconds to wait for the pods to be ready (their probes)."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Start the pods and return; do not wait for readiness."),
    parallel: int = PARALLEL_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
) -> None:
    """Start pods (and rerun their init containers as their type says), in order, and wait until
    they are ready. Needs no manifests: `podspec start --all` is what the boot unit runs."""
    from podspec import render
    from podspec.errors import PodspecError
    from podspec.run.lifecycle import LifecycleRequest
    from podspec.run.lifecycle import start as run_start

    request = LifecycleRequest(tuple(pods or ()), context.project_flag(project), every, wait=not no_wait, timeout=timeout,
                               probe_image=context.probe_image(), parallel=parallel)
    result = run_start(request, context.connector(url, connection, identity), _listener(output, parallel))
    if output is OutputFormat.json:
        print_json(render.lifecycle_json(result))
    else:
        typer.echo(render.lifecycle_text(result))
    if result.not_ready:
        report_error(PodspecError(result.not_ready, "see `podman logs <container>`; raise --timeout if it is only slow"),
                     output if output is not OutputFormat.json else OutputFormat.text)
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_OK)


def _listener(output: OutputFormat, parallel: int) -> Listener:
    from podspec.cli.progress import JsonListener, TextListener

    if output is OutputFormat.json:
        return JsonListener()
    return TextListener(colour=False, terminal=False, parallel=parallel, show_diff=False)
