"""`podspec export POD... [--all] [-o FILE] [--format yaml|json]`: clean manifests from pods on the host.

The YAML passes `podspec validate` and loads back into the model the pod was made from; `--format
json` prints a Kubernetes `List` of the same documents. Unknown pods are an error (exit 1) naming them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from podspec.cli import completion, context
from podspec.cli.application import app
from podspec.cli.common import CONNECTION_OPTION, EXIT_OK, IDENTITY_OPTION, URL_OPTION, guarded
from podspec.errors import UsageError
from podspec.export import ExportFormat


@app.command("export")
@guarded(output_param="format")
def export(
    pods: Optional[list[str]] = typer.Argument(None, help="Pod names (see `podman pod ps`).", autocompletion=completion.pods),
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
    identity: Optional[str] = IDENTITY_OPTION,
) -> None:
    """Print a clean manifest (Pods and their PersistentVolumeClaims) for pods on the host."""
    from podspec.run.export import ExportRequest
    from podspec.run.export import export as run_export

    if output is not None and str(output) in ("json", "yaml", "text"):
        # Every other command reads -o as a format: say so rather than write a file named "json".
        raise UsageError(f"-o names the file to write; for {str(output).upper()} output pass --format {output}",
                         f"or -o ./{output} for a file named {output}")
    result = run_export(ExportRequest(tuple(pods or ()), all_pods, format, show_secrets), context.connector(url, connection, identity))
    for note in result.notes:
        context.say_err(f"warning: {note}")
    if result.redacted:
        context.say_err(f"warning: {result.redacted} secret-looking value(s) (env values, probe headers) written as (redacted); "
                        "pass --show-secrets to export them (keep such files out of git)")
    if output is None:
        typer.echo(result.text, nl=False)
        raise typer.Exit(EXIT_OK)
    try:
        output.write_text(result.text)
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}", "check the path and its permissions") from None
    context.say_err(f"wrote {output}: {result.pods} pod(s), {result.claims} volume claim(s)")
    raise typer.Exit(EXIT_OK)
