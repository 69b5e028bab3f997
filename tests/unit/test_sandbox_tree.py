"""The test harness never downloads inside the tests' network namespace (issue 21).

scripts/test.sh sets PODSPEC_NO_DOWNLOAD=1 for its pytest runs: bootstrap has built the Podman 5 tree
before, with the network. A tree that is still missing is then one line naming the command that builds
it, at once, never a debootstrap attempt that fails minutes later for want of a network."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import sandbox


def test_a_missing_tree_is_one_line_naming_the_build_command_when_downloads_are_off(tmp_path, monkeypatch):
    calls: list[object] = []
    monkeypatch.setattr(sandbox.subprocess, "run", lambda *a, **k: calls.append(a) or pytest.fail("ran a command"))
    monkeypatch.setenv("PODSPEC_NO_DOWNLOAD", "1")
    root = Path("/var/tmp") / f"podspec-test-no-tree-{tmp_path.name}"
    started = time.monotonic()
    with pytest.raises(SystemExit) as failure:
        sandbox.ensure_podman5_root(root)
    assert time.monotonic() - started < 1
    message = str(failure.value)
    assert "\n" not in message
    assert f"not built in {root}" in message
    assert "scripts/bootstrap.sh" in message
    assert not root.exists() and not calls


def test_a_built_tree_is_used_as_it_is_when_downloads_are_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PODSPEC_NO_DOWNLOAD", "1")
    root = Path("/var/tmp") / f"podspec-test-tree-{tmp_path.name}"
    try:
        (root / "usr/bin").mkdir(parents=True)
        (root / "usr/bin/podman").write_text("")
        (root / sandbox.PODMAN5_STAMP).write_text(sandbox._stamp_text())
        assert sandbox.ensure_podman5_root(root) == root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_test_command_sets_the_switch_and_bootstrap_builds_the_tree():
    repo = Path(__file__).resolve().parents[2]
    assert "PODSPEC_NO_DOWNLOAD=1" in (repo / "scripts/test.sh").read_text()
    assert "tools/sandbox.py podman5-root" in (repo / "scripts/bootstrap.sh").read_text()


def test_the_test_command_with_a_missing_tree_ends_at_once_with_that_one_line(tmp_path):
    """The whole path, as scripts/test.sh runs pytest in its namespace: an integration test file on
    podman5 with $PODSPEC_PODMAN5_ROOT pointing where no tree is. The run ends within seconds, exit 1,
    saying once which command builds the tree; nothing is downloaded, nothing made there."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    root = Path("/var/tmp") / f"podspec-test-no-tree-{tmp_path.name}"
    # (not the shard of the run this test is in: that selects by file, and may leave none of these)
    inherited = {k: v for k, v in os.environ.items() if k not in ("PODSPEC_TEST_SHARD", "PODSPEC_TEST_DURATIONS_OUT")}
    env = {**inherited, "PODSPEC_TEST_ENGINE": "podman5", "PODSPEC_NO_DOWNLOAD": "1", "PODSPEC_PODMAN5_ROOT": str(root)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/integration/test_podman_versions.py"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.monotonic() - started < 60
    said = [line.strip("! ") for line in (done.stdout + done.stderr).splitlines() if "not built in" in line]
    assert said == [f"_pytest.outcomes.Exit: cannot start the podman5 sandbox: the Podman 5 tree is not built in {root}; "
                    f"build it first, with the network: PODSPEC_TEST_ENGINE=podman5 scripts/bootstrap.sh"], said
    assert "debootstrap failed" not in done.stdout + done.stderr and "passed" not in done.stdout
    assert not root.exists()
