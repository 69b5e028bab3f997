"""`podspec status`."""

from __future__ import annotations

from podspec.cli.app import app
from podspec.cli.common import not_yet


@app.command("status", help="Not implemented yet (issue #5).")
def status() -> None:
    not_yet("status", 5)
