from __future__ import annotations

from typer.testing import CliRunner

from podspec import __version__
from podspec.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"podspec {__version__}"


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "diff", "apply", "delete", "status", "export"):
        assert command in result.output
