"""`podspec delete`."""

from __future__ import annotations

from podspec.cli.app import app
from podspec.cli.common import not_yet


@app.command("delete", help="Not implemented yet (issue #5).")
def delete() -> None:
    not_yet("delete", 5)
