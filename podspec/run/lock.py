"""One apply per project per host at a time: an advisory file lock, waited for up to a timeout.

The lock files live in the user's own runtime directory, or /run/podspec for root (run/paths.py):
two users never share, or wait on, each other's locks."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from podspec.errors import LockTimeout
from podspec.run import paths


def lock_dir() -> Path:
    """This user's lock directory (see run/paths.py)."""
    return paths.lock_dir(os.environ, os.geteuid())


def lock_path(host: str, project: str) -> Path:
    key = hashlib.sha256(f"{host}\0{project}".encode()).hexdigest()[:16]
    return lock_dir() / f"{project}-{key}.lock"


@contextmanager
def project_lock(host: str, project: str, timeout: float, on_wait=lambda: None) -> Iterator[None]:
    """Hold the lock of `project` on `host` (an Endpoint.lock_key) for the block."""
    path = lock_path(host, project)
    paths.private_dir(path.parent, os.geteuid())  # this user's own, or refused
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    on_wait()
                    waited = True
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another podspec"
                    raise LockTimeout(
                        f"project {project!r} is being changed by {holder}; gave up after {timeout:g}s",
                        "wait for it to finish and run the command again, or raise --lock-timeout",
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"podspec pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed
