"""The systemd units shipped for the pull agent pass `systemd-analyze verify` (Debian's systemd).

verify only loads and checks the units (syntax, known keys, that ExecStart's program exists); it
starts nothing. The units name /usr/local/bin/podspec; the test points them at this checkout's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "packaging" / "systemd"


def instances(tmp_path: Path, podspec: str) -> list[Path]:
    made = []
    for unit in sorted(UNITS.glob("*@.*")):
        target = tmp_path / unit.name.replace("@.", "@web.")
        target.write_text(unit.read_text().replace("/usr/local/bin/podspec", podspec))
        made.append(target)
    return made


@pytest.fixture
def podspec_program() -> str:
    program = Path(sys.executable).parent / "podspec"
    assert program.exists(), "install podspec into the venv (scripts/bootstrap.sh)"
    return str(program)


def test_the_units_pass_systemd_analyze_verify(tmp_path, podspec_program):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: scripts/bootstrap.sh installs Debian's systemd package")
    units = instances(tmp_path, podspec_program)
    assert {u.name for u in units} == {"podspec-sync@web.service", "podspec-sync-once@web.service",
                                       "podspec-sync-once@web.timer"}
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True,
                          text=True, check=False, timeout=60)
    ours = [line for line in done.stderr.splitlines() if "podspec" in line]
    assert done.returncode == 0 and not ours, done.stderr


def test_verify_does_catch_a_broken_unit(tmp_path, podspec_program):
    """The check above means something: a typo'd key and a missing program are reported."""
    unit = instances(tmp_path, "/nonexistent/podspec")[0]
    unit.write_text(unit.read_text().replace("Type=", "Tpye="))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True,
                          check=False, timeout=60)
    assert "Tpye" in done.stderr and "not executable" in done.stderr


def test_the_agent_command_line_in_the_unit_is_one_podspec_accepts(podspec_program):
    """ExecStart with the example settings, as systemd would split it, parses (checked with --help
    on the same flags: a flag podspec does not know fails with exit 2)."""
    example = dict(line.split("=", 1) for line in (UNITS / "podspec-sync.env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    argv = [podspec_program, "sync", example["SOURCE"], "--project", "web", "--branch", example["BRANCH"],
            "--path", example["MANIFESTS"], "--interval", example["INTERVAL"], *example["SYNC_FLAGS"].split(), "--help"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
