"""`podspec diff`."""

from __future__ import annotations

from podspec.cli.app import app
from podspec.cli.common import not_yet


@app.command("diff", help="Not implemented yet (issue #4).")
def diff() -> None:
    not_yet("diff", 4)
