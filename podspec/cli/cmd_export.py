"""`podspec export`."""

from __future__ import annotations

from podspec.cli.app import app
from podspec.cli.common import not_yet


@app.command("export", help="Not implemented yet (issue #6).")
def export() -> None:
    not_yet("export", 6)
