"""`podspec validate`."""

from __future__ import annotations

from podspec.cli.app import app
from podspec.cli.common import not_yet


@app.command("validate", help="Not implemented yet (issue #3).")
def validate() -> None:
    not_yet("validate", 3)
