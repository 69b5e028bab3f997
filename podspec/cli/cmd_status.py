"""`podspec status`: the managed pods, their state and drift."""

from __future__ import annotations

import os
from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.app import app
from podspec.cli.common import (
    CONNECTION_OPTION,
    EXIT_OK,
    OUTPUT_OPTION,
    URL_OPTION,
    OutputFormat,
    guarded,
    print_json,
)


@app.command("status")
@guarded()
def status(
    project: Optional[str] = typer.Option(None, "--project", "-p", help="Only this project (default: $PODSPEC_PROJECT, else every project)."),
    output: OutputFormat = OUTPUT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
) -> None:
    """List the pods podspec manages, with their containers' state and any drift."""
    from podspec import render
    from podspec.reconcile.status import report

    name = project or os.environ.get("PODSPEC_PROJECT") or None
    with context.open_engine(url, connection) as engine:
        observed = engine.observe()
    pods = report(observed, name)
    if output is OutputFormat.json:
        print_json({"version": render.JSON_VERSION, "pods": [
            {"name": p.name, "project": p.project, "status": p.status, "drift": list(p.drift),
             "containers": [{"name": c.name, "role": c.role, "state": c.state, "image": c.image} for c in p.containers]}
            for p in pods]})
        raise typer.Exit(EXIT_OK)
    if not pods:
        typer.echo("No pods managed by podspec" + (f" in project {name!r}." if name else "."))
    width = max((len(c.name) for p in pods for c in p.containers), default=0)
    for p in pods:
        typer.echo(f"pod {p.name}  project={p.project}  {p.status}")
        for c in p.containers:
            typer.echo(f"    {c.name:<{width}}  {c.role:<9} {c.state:<8} {c.image}")
        for d in p.drift:
            typer.echo(f"    drift: {d}")
    raise typer.Exit(EXIT_OK)
