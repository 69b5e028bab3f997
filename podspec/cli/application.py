"""The typer application and its global options; commands register themselves on `app`."""

from __future__ import annotations

import typer

from podspec import __version__

app = typer.Typer(
    name="podspec",
    help=(
        "Make a Podman host match Kubernetes Pod manifests kept in git.\n\n"
        "Exit codes: 0 success or no changes; 2 changes pending (diff, apply --dry-run); 1 error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"podspec {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=_version, is_eager=True),
) -> None:
    """Make a Podman host match Kubernetes Pod manifests kept in git."""
