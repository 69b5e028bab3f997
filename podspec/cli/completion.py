"""Shell completion for bash, zsh and fish, on typer's completion support.

    podspec completion bash > ~/.local/share/bash-completion/completions/podspec
    podspec completion zsh  > "${fpath[1]}/_podspec"
    podspec completion fish > ~/.config/fish/completions/podspec.fish

The script calls podspec back with `_PODSPEC_COMPLETE=complete_<shell>` set; main() then loads
typer's completion classes and typer answers with the commands, options and values that fit:
enum choices (-o, --format), the security profiles for --policy, the targets of podspec.toml for
--target, and for `export` the pods on the host (read with the --url/--connection/--identity
already typed, else the usual connection). A completion never prints an error: when the host
cannot be read it offers nothing.

`completion` is a hidden command and typer's --install-completion/--show-completion options are
not added, so `podspec --help` stays as it is.
"""

from __future__ import annotations

import os
from enum import Enum

import typer

from podspec.cli.application import app

COMPLETE_VAR = "_PODSPEC_COMPLETE"
PROFILES = (
    ("baseline", "Kubernetes baseline: no privileged, host namespaces or hostPath (the default)"),
    ("restricted", "baseline, non-root, no privilege escalation, capabilities dropped"),
    ("privileged", "no checks"),
)


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def requested() -> bool:
    """Whether this process runs to answer a completion (the shell script set the variable)."""
    return bool(os.environ.get(COMPLETE_VAR))


def enable() -> None:
    """Register typer's completion classes (typer does it only when it adds --install-completion)."""
    from typer.completion import completion_init

    completion_init()


def profiles(incomplete: str) -> list[tuple[str, str]]:
    return [(name, text) for name, text in PROFILES if name.startswith(incomplete)]


def targets(incomplete: str) -> list[str]:
    from podspec.cli import context

    try:
        found = context.project_file()
    except Exception:  # a broken podspec.toml: complete nothing rather than fail in the shell
        return []
    names = ["all", *(t.name for t in found.targets)] if found is not None else []
    return [n for n in names if n.startswith(incomplete)]


def pods(ctx: typer.Context, incomplete: str) -> list[str]:
    """The pods on the host, for `export` (those already on the line left out)."""
    from podspec.cli import context

    params = ctx.params
    try:
        engine = context.connector(params.get("url"), params.get("connection"), params.get("identity"))()
        try:
            names = engine.pod_names()
        finally:
            engine.close()
    except Exception:  # unreachable host, bad URL: offer nothing, print nothing
        return []
    given = set(params.get("pods") or ())
    return [n for n in names if n.startswith(incomplete) and n not in given]


@app.command("completion", hidden=True)
def completion(shell: Shell = typer.Argument(..., help="bash, zsh or fish")) -> None:
    """Print the shell completion script (see docs/cli.md for where to put it)."""
    from typer.completion import get_completion_script

    typer.echo(get_completion_script(prog_name="podspec", complete_var=COMPLETE_VAR, shell=shell.value))
