"""`podspec apply`."""

from __future__ import annotations

from podspec.cli.app import app
from podspec.cli.common import not_yet


@app.command("apply", help="Not implemented yet (issue #5).")
def apply() -> None:
    not_yet("apply", 5)
