"""Issue 27: every subprocess podspec starts has a time limit and leaves no child; a private
service's output is drained (a file, not a pipe no one reads)."""

from __future__ import annotations

import os
import time

import pytest

from podspec.engine import connection
from podspec.errors import PodmanUnavailable


def _fake_podman(tmp_path, monkeypatch, body: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "podman"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def test_a_connection_lookup_that_hangs_is_given_up(tmp_path, monkeypatch):
    _fake_podman(tmp_path, monkeypatch, "exec sleep 60\n")
    monkeypatch.setattr(connection, "LOOKUP_TIMEOUT", 0.5)
    began = time.monotonic()
    with pytest.raises(PodmanUnavailable, match="did not answer within 0.5s"):
        connection._named_connection("lab", dict(os.environ))
    assert time.monotonic() - began < 10


def test_a_private_service_that_writes_much_is_not_blocked_on_its_output(tmp_path, monkeypatch):
    # 1 MiB to stderr, then exit: with an unread pipe it would block at 64 KiB and never exit.
    _fake_podman(tmp_path, monkeypatch, "head -c 1048576 /dev/zero | tr '\\\\0' x >&2\necho 'the last words' >&2\nexit 3\n")
    began = time.monotonic()
    with pytest.raises(PodmanUnavailable, match="exited at once: .*the last words"):
        connection.start_private_service(dict(os.environ), [], runtime=tmp_path)
    assert time.monotonic() - began < connection.SERVICE_START_TIMEOUT / 2


def test_a_command_that_outlives_its_time_leaves_no_child_behind(tmp_path):
    """git over SSH runs ssh: on a timeout the whole group goes, not only git."""
    import subprocess

    from podspec.engine.proc import run_bounded

    pid_file = tmp_path / "child.pid"
    with pytest.raises(subprocess.TimeoutExpired):
        run_bounded(["sh", "-c", f"sleep 100 & echo $! > {pid_file}; wait"], timeout=1.0)
    child = int(pid_file.read_text())
    for _ in range(50):  # bounded: the kill is asynchronous
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        state = open(f"/proc/{child}/stat").read().split()[2] if os.path.exists(f"/proc/{child}/stat") else "X"
        if state == "Z":
            break  # killed, waiting to be reaped by init
        time.sleep(0.1)
    else:
        pytest.fail(f"the grandchild {child} outlived the timeout")

