"""Running a command with a time limit that leaves nothing behind.

`subprocess.run(..., timeout=)` kills the command it started, but not what that command started:
git over SSH runs `ssh` (and a credential helper, a proxy command...), which would live on after a
timeout. Here the command runs in a process group (a session) of its own, and on timeout, or
when the caller is interrupted, the whole group is killed and the command reaped.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence


def run_bounded(argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None,
                input: bytes | None = None, cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """Like subprocess.run(capture_output=True, timeout=...), the whole process group killed on
    timeout (subprocess.TimeoutExpired is raised then, as run() raises it)."""
    process = subprocess.Popen(list(argv), stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env) if env is not None else None,
                               cwd=cwd, start_new_session=True)
    try:
        out, err = process.communicate(input, timeout=timeout)
    except BaseException:  # a timeout, or the caller stopped (KeyboardInterrupt, a signal's exception)
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.kill()
    process.communicate()
