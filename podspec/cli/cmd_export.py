"""`podspec export POD... [--all] [-o FILE] [--format yaml|json]`: clean manifests from pods on the host.

Works for pods podspec made and for pods made by hand with the podman CLI. The YAML passes
`podspec validate` and loads back into the model the pod was made from; `--format json` prints a
Kubernetes `List` of the same documents. Unknown pods are an error (exit 1) naming them.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from podspec.cli import context
from podspec.cli.app import app
from podspec.cli.common import CONNECTION_OPTION, EXIT_ERROR, EXIT_OK, URL_OPTION, guarded


class ExportFormat(str, Enum):
    yaml = "yaml"
    json = "json"


@app.command("export")
@guarded(output_param="format")
def export(
    pods: Optional[list[str]] = typer.Argument(None, help="Pod names (see `podman pod ps`)."),
    all_pods: bool = typer.Option(False, "--all", help="Export every pod on the host."),
    output: Optional[Path] = typer.Option(
        None, "-o", "--output", help="Write the manifest to FILE (default: standard output).", metavar="FILE",
        dir_okay=False,
    ),
    format: ExportFormat = typer.Option(ExportFormat.yaml, "--format", help="yaml (default) or json (a Kubernetes List)."),
    show_secrets: bool = typer.Option(
        False, "--show-secrets",
        help="Write the values of env variables whose names look secret (PASSWORD, TOKEN, KEY, ...); "
        "by default they are written as (redacted).",
    ),
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
) -> None:
    """Print a clean manifest (Pods and their PersistentVolumeClaims) for pods on the host."""
    from podspec.engine.inspect import pod_names, read_pods
    from podspec.export import inspected as exporter
    from podspec.export import manifest as manifest_writer

    if output is not None and str(output) in ("json", "yaml", "text"):
        # Every other command reads -o as a format: say so rather than write a file named "json".
        context.say_err(
            f"error: -o names the file to write; for {str(output).upper()} output pass --format {output} "
            f"(or -o ./{output} for a file named {output})"
        )
        raise typer.Exit(EXIT_ERROR) from None
    names = list(dict.fromkeys(pods or []))
    if not names and not all_pods:
        context.say_err("error: name at least one pod, or pass --all")
        raise typer.Exit(EXIT_ERROR) from None
    with context.open_engine(url, connection) as engine:
        if all_pods:
            names += [n for n in pod_names(engine) if n not in names]
            if not names:
                context.say_err("error: there are no pods on the host to export")
                raise typer.Exit(EXIT_ERROR) from None
        data = read_pods(engine, names)
    result = exporter.export(data)
    for note in result.notes:
        context.say_err(f"warning: {note}")
    pods_out = result.pods
    if not show_secrets:
        pods_out, hidden = exporter.redact_secrets(result.pods)
        if hidden:
            context.say_err(
                f"warning: {hidden} secret-looking env value(s) written as (redacted); "
                "pass --show-secrets to export them (keep such files out of git)"
            )
    docs = manifest_writer.documents(pods_out, result.claims)
    text = manifest_writer.to_json(docs) if format is ExportFormat.json else manifest_writer.to_yaml(docs)
    if output is None:
        typer.echo(text, nl=False)
    else:
        try:
            output.write_text(text)
        except OSError as error:
            context.say_err(f"error: cannot write {output}: {error.strerror}")
            raise typer.Exit(EXIT_ERROR) from None
        context.say_err(f"wrote {output}: {len(result.pods)} pod(s), {len(result.claims)} volume claim(s)")
    raise typer.Exit(EXIT_OK)
