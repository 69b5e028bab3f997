"""The command line: the composition root, the only place that prints, exits or reads the environment.

Each command lives in its own module and registers itself on `app`; heavy libraries (yaml,
jsonschema, deepdiff, podman) are imported inside the commands that need them.
"""

from __future__ import annotations

from podspec.cli import (  # noqa: F401
    cmd_apply,
    cmd_delete,
    cmd_diff,
    cmd_export,
    cmd_history,
    cmd_info,
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
