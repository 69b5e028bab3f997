"""The command line: the composition root, the only place that prints or exits, and where the
settings are read from the environment (see context.py for the few defaults read below it).

Each command lives in its own module and registers itself on `app`; heavy libraries (yaml,
jsonschema, deepdiff, podman) are imported inside the commands that need them.
"""

from __future__ import annotations

import copy
import sys

import typer

from podspec.cli import (  # noqa: F401
    cmd_apply,
    cmd_delete,
    cmd_diff,
    cmd_export,
    cmd_history,
    cmd_info,
    cmd_lifecycle,
    cmd_rollback,
    cmd_status,
    cmd_sync,
    cmd_validate,
    completion,
)
from podspec.cli.app import app


def main() -> None:
    if completion.requested():  # the shell asks for completions (see completion.py)
        completion.enable()
        app()
        return
    only(sys.argv[1] if len(sys.argv) > 1 else None)()


def only(name: str | None) -> typer.Typer:
    """The application with just the command `name` when that is one of its commands, else the
    whole application (help, completion, an unknown command). Typer builds the options of every
    registered command on each run (~10 ms for all of them); a command line runs one."""
    chosen = [c for c in app.registered_commands if c.name is not None and c.name == name]
    if not chosen:
        return app
    single = copy.copy(app)  # the same settings and global options (the callback)
    single.registered_commands = chosen
    return single
