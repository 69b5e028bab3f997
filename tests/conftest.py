"""Shared fixtures: a private Podman for integration tests.

`podman_sandbox` (session) starts `podman system service` on a private socket with private
containers.conf/storage.conf under pytest's temporary directory, and builds the offline stand-in
images there. Every test that uses it gets a clean Podman: pods, containers and volumes it made are
removed after it (images stay for the session). The machine's default Podman state is never used.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import sandbox  # noqa: E402


@dataclass(frozen=True)
class PodmanSandbox:
    state: Path
    url: str

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run the podman CLI against the private storage (as a local client, not over the socket)."""
        return sandbox.podman(self.state, *args, check=check)

    def env(self) -> dict[str, str]:
        return sandbox.podman_env(self.state)

    def purge(self) -> None:
        sandbox.purge(self.state)


@pytest.fixture(scope="session")
def podman_sandbox(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: run scripts/bootstrap.sh (the README's test command does)")
    state = tmp_path_factory.mktemp("podman")
    url = sandbox.up(state)
    box = PodmanSandbox(state=state, url=url)
    try:
        yield box
    finally:
        box.purge()
        sandbox.stop_service(state)
        sandbox.podman(state, "system", "reset", "--force", check=False)


@pytest.fixture
def podman(podman_sandbox: PodmanSandbox):
    """The private Podman, emptied of pods, containers and volumes after the test."""
    yield podman_sandbox
    podman_sandbox.purge()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 15.0, until: callable = lambda body: True) -> str:
    """GET a page, retrying until it answers and `until(body)` holds; return the last body."""
    deadline = time.monotonic() + timeout
    body, error = "", None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body = response.read().decode()
                if until(body):
                    return body
        except OSError as exc:
            error = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not serve the expected page within {timeout}s; last body {body!r}, error {error}")
