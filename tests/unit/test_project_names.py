"""Every command checks a project name given on purpose by the one rule (run/project.given), not
only diff, apply and delete: `podspec rollback -p ../../../etc` used to make /etc-<key>.lock as root
(the client lock file is named after the project), and a name too long for a file name ended in an
internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.errors import PodspecError
from podspec.run import project
from tests.unit.fake_cli import cli_on_fake

runner = CliRunner()


@pytest.mark.parametrize("command", [["rollback"], ["history"], ["status"], ["stop"], ["start"], ["rollback", "--dry-run"]])
@pytest.mark.parametrize("name", ["../../../tmp/ESCAPE", "x" * 300])
def test_every_command_refuses_a_bad_project_name_before_anything(tmp_path, monkeypatch, command, name):
    cli_on_fake(monkeypatch, ())
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run" / "user"))
    monkeypatch.chdir(tmp_path)
    name = name.replace("ESCAPE", f"podspec-escape-{tmp_path.name}")
    result = runner.invoke(app, [*command, "-p", name])
    assert result.exit_code == 1
    assert f"invalid project name {name!r} (from --project)" in result.stderr
    assert "internal error" not in result.stderr
    assert not list(tmp_path.rglob("*.lock")) and not list(Path("/tmp").glob(f"podspec-escape-{tmp_path.name}*"))


def test_the_environment_and_the_project_file_are_checked_too(tmp_path, monkeypatch):
    cli_on_fake(monkeypatch, ())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODSPEC_PROJECT", "../x")
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 1 and "invalid project name '../x' (from $PODSPEC_PROJECT)" in result.stderr


def test_a_name_is_at_most_100_characters_and_a_default_is_cut_to_fit(tmp_path):
    assert project.given("a" * 100, {}) == "a" * 100
    with pytest.raises(PodspecError, match="301 characters|101 characters, at most 100"):
        project.given("a" * 101, {})
    folder = tmp_path / ("b" * 200)
    folder.mkdir()
    name = project.resolve(None, {}, [str(folder)], tmp_path, "path:h:/x").name
    assert len(name) <= 100 and name.startswith("bbbb") and project.given(name, {}) == name
