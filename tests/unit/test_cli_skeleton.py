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


def test_unexpected_errors_are_reported_without_traceback(monkeypatch):
    import podspec.run.apply as workflow

    def broken(*args, **kwargs):
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(workflow, "load", broken)
    monkeypatch.delenv("PODSPEC_DEBUG", raising=False)
    result = runner.invoke(app, ["diff", "x.yaml", "--url", "unix:///nowhere.sock"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: internal error: RuntimeError: something unforeseen")
    assert "PODSPEC_DEBUG=1" in result.stderr
    assert "Traceback" not in result.stderr


def test_unsupported_url_scheme_is_a_clear_error(tmp_path):
    manifest = tmp_path / "p.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: busybox:1}]\n")
    result = runner.invoke(app, ["diff", str(manifest), "--url", "http://localhost:8080"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unsupported Podman URL 'http://localhost:8080' (from --url)")


def test_the_entry_point_builds_only_the_command_it_runs_and_says_the_same(monkeypatch):
    import sys

    from typer.testing import CliRunner

    import podspec.cli as cli
    from podspec.cli import app, only

    names = [c.name for c in app.registered_commands if c.name]
    assert len(names) >= 9 and only("no-such-command") is app and only(None) is app
    for name in names:
        assert [c.name for c in only(name).registered_commands] == [name]
        assert len(app.registered_commands) == len(names)  # the application itself keeps every command
        for argv in ([name, "--help"], [name, "--no-such-flag"]):
            alone = CliRunner().invoke(only(name), argv, prog_name="podspec")
            whole = CliRunner().invoke(app, argv, prog_name="podspec")
            assert (alone.exit_code, alone.stdout, alone.stderr) == (whole.exit_code, whole.stdout, whole.stderr), argv
    ran = []
    monkeypatch.setattr(cli, "only", lambda name: ran.append(name) or (lambda: None))
    monkeypatch.setattr(sys, "argv", ["podspec", "diff", "x.yaml"])
    cli.main()
    assert ran == ["diff"]


def test_the_entry_points_map_names_every_command_by_the_module_that_registers_it():
    """cli.COMMANDS tells main() which module to import for a command; a command added without it
    would only be reachable through the whole application."""
    from podspec.cli import COMMANDS, app

    registered = {c.name: c.callback.__module__ for c in app.registered_commands if c.callback is not None}
    assert registered == {name: f"podspec.cli.{module}" for name, module in COMMANDS.items()}
    assert [c.name for c in app.registered_commands] == list(COMMANDS)
