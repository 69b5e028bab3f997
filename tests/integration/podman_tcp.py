"""The private Podman served on a loopback TCP port as well: `podman system service tcp://127.0.0.1:PORT`
on the sandbox's storage (the `podman_tcp` fixture, session), so tcp:// clients see the same host as
the unix socket. Run it inside a private network namespace (scripts/test.sh under `unshare --net`).
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest
import sandbox  # (tools/ is on sys.path: tests/conftest.py)

from tests.conftest import free_port
from tests.integration.sshd import stop

START_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def podman_tcp(podman_sandbox) -> Iterator[str]:
    """The tcp:// URL of a second service on the private Podman's storage."""
    port = free_port()
    log = open(podman_sandbox.state / "service-tcp.log", "ab")
    process = subprocess.Popen(
        [*sandbox.podman_command(podman_sandbox.state), "system", "service", "--time=0", f"tcp://127.0.0.1:{port}"],
        env=podman_sandbox.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_ping", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"podman system service tcp://127.0.0.1:{port} did not answer; see "
                                f"{podman_sandbox.state / 'service-tcp.log'}")
                time.sleep(0.05)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        stop(process)
