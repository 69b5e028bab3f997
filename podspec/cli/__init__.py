"""The command line: the composition root, the only place that prints or exits, and where the
settings are read from the environment (see context.py for the few defaults read below it).

Each command lives in its own module and registers itself on the application (application.py);
heavy libraries (yaml, jsonschema, deepdiff, podman) are imported inside the commands that need them.

`main()` imports the module of the command that runs and no other (defining the other commands'
options costs a no-op diff ~10 M instructions); help, completion and an unknown command get the
whole application. `from podspec.cli import app` (the tests, typer's own tools) is the whole
application: every command module imported, the commands in COMMANDS' order.
"""

from __future__ import annotations

import copy
import importlib
import sys
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from podspec.cli.application import app as app

# Every command, and the module (podspec/cli/) that registers it, in the order `podspec --help` lists them.
COMMANDS = {
    "apply": "cmd_apply",
    "delete": "cmd_delete",
    "diff": "cmd_diff",
    "export": "cmd_export",
    "history": "cmd_history",
    "info": "cmd_info",
    "stop": "cmd_lifecycle",
    "start": "cmd_lifecycle",
    "rollback": "cmd_rollback",
    "status": "cmd_status",
    "sync": "cmd_sync",
    "validate": "cmd_validate",
    "completion": "completion",
}


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return whole()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def whole() -> typer.Typer:
    """The application with every command registered, in COMMANDS' order."""
    from podspec.cli.application import app as application

    for module in dict.fromkeys(COMMANDS.values()):
        importlib.import_module(f"{__name__}.{module}")
    order = list(COMMANDS)
    application.registered_commands.sort(key=lambda c: order.index(c.name) if c.name in order else len(order))
    return application


def main() -> None:
    from podspec.cli import completion

    if completion.requested():  # the shell asks for completions (see completion.py)
        completion.enable()
        whole()()
        return
    only(sys.argv[1] if len(sys.argv) > 1 else None)()


def only(name: str | None) -> typer.Typer:
    """The application with just the command `name` when that is one of its commands (its module
    alone imported), else the whole application (help, completion, an unknown command). Typer
    builds the options of every registered command on each run (~10 ms for all of them); a command
    line runs one."""
    if name not in COMMANDS:
        return whole()
    from podspec.cli.application import app as application

    importlib.import_module(f"{__name__}.{COMMANDS[name]}")
    chosen = [c for c in application.registered_commands if c.name is not None and c.name == name]
    single = copy.copy(application)  # the same settings and global options (the callback)
    single.registered_commands = chosen
    return single
