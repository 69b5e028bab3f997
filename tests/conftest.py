"""Shared fixtures: a private Podman for integration tests.

`podman_sandbox` (session) starts `podman system service` on a private socket with private
containers.conf/storage.conf under pytest's temporary directory, and builds the offline stand-in
images there. Every test that uses it gets a clean Podman: pods, containers and volumes it made are
removed after it (images stay for the session). The machine's default Podman state is never used.

The engine is $PODSPEC_TEST_ENGINE: podman4 (the host's Podman 4.3, the default) or podman5
(Debian 13's Podman 5.4 in a mount namespace of its own; see tools/sandbox.py). Every test that
uses the sandbox is marked `podman`; with PODSPEC_TEST_ONLY_PODMAN=1 only those marked run, less those
of tests/integration that never use the private Podman (marked `engine_independent`): scripts/test.sh
runs the unit tests and those once, and the integration tests on each engine.
"""

from __future__ import annotations

import json
import os
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

from tests import sharding  # noqa: E402


@dataclass(frozen=True)
class PodmanSandbox:
    state: Path
    url: str
    engine: str = sandbox.DEFAULT_ENGINE  # podman4 or podman5

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run the podman CLI against the private storage (as a local client, not over the socket)."""
        return sandbox.podman(self.state, *args, check=check)

    def env(self) -> dict[str, str]:
        return sandbox.podman_env(self.state)

    def purge(self) -> None:
        sandbox.purge(self.state)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "engine_independent: an integration test that never uses the private Podman; run once, not on each engine")


@pytest.hookimpl(trylast=True)  # after tests/integration/conftest.py has marked its tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only_podman = os.environ.get("PODSPEC_TEST_ONLY_PODMAN") == "1"
    kept, dropped = [], []
    for item in items:
        # marked (tests/integration, the contract's real-Podman cases) or using the sandbox
        uses_podman = item.get_closest_marker("podman") is not None or "podman_sandbox" in getattr(item, "fixturenames", ())
        if uses_podman:
            item.add_marker(pytest.mark.podman)
        # The second engine's run: what uses Podman, not what gives the same result on either engine.
        wanted = uses_podman and item.get_closest_marker("engine_independent") is None
        (kept if wanted or not only_podman else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    _keep_shard(config, items)
    rootless = os.geteuid() != 0
    for item in items:
        if rootless and item.get_closest_marker("root_only") is not None:
            item.add_marker(pytest.mark.skip(reason="needs root; these tests run as an ordinary user"))
        if not rootless and item.get_closest_marker("rootless") is not None:
            item.add_marker(pytest.mark.skip(reason="rootless Podman only: scripts/test-rootless.sh runs it as an ordinary user"))


def _keep_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PODSPEC_TEST_SHARD=I/N: only the files of shard I (tests/sharding.py; scripts/test.sh)."""
    value = os.environ.get("PODSPEC_TEST_SHARD")
    if not value:
        return
    try:
        index, count = sharding.parse_shard(value)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    per_file: dict[str, tuple[int, bool]] = {}
    for item in items:
        name = item.nodeid.split("::")[0]
        tests, podman_marked = per_file.get(name, (0, False))
        per_file[name] = (tests + 1, podman_marked or item.get_closest_marker("podman") is not None)
    recorded = sharding.load_record(sandbox.engine_choice())
    mine = set(sharding.split(sharding.weights(per_file, recorded), count)[index - 1])
    kept = [item for item in items if item.nodeid.split("::")[0] in mine]
    dropped = [item for item in items if item.nodeid.split("::")[0] not in mine]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# Seconds spent per test file (setup, call and teardown), written at the end of the session when
# PODSPEC_TEST_DURATIONS_OUT names a directory: the record tests/durations.json is merged from these.
_SECONDS_PER_FILE: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    name = report.nodeid.split("::")[0]
    _SECONDS_PER_FILE[name] = _SECONDS_PER_FILE.get(name, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("PODSPEC_TEST_DURATIONS_OUT")
    if not out or not _SECONDS_PER_FILE:
        return
    engine = sandbox.engine_choice()
    shard = os.environ.get("PODSPEC_TEST_SHARD", "1/1").replace("/", "of")
    Path(out).mkdir(parents=True, exist_ok=True)
    record = {"engine": engine, "files": {k: round(v, 2) for k, v in sorted(_SECONDS_PER_FILE.items())}}
    (Path(out) / f"{engine}-{shard}-{os.getpid()}.json").write_text(json.dumps(record, indent=1) + "\n")


# What the session's sandbox really ran, for the summary (a silent fallback shows there too).
_ENGINE_SEEN: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    if _ENGINE_SEEN:
        terminalreporter.write_line(
            f"Podman engine: {_ENGINE_SEEN['engine']} (service version {_ENGINE_SEEN.get('version', '?')}), "
            + (f"rootless, as uid {os.geteuid()}" if os.geteuid() != 0 else "as root"))


def service_version(url: str) -> str:
    """The version the service itself reports (GET /version over its socket, standard library)."""
    path = url[len("unix://"):]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"GET /v4.0.0/libpod/version HTTP/1.0\r\nHost: podman\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n", 1)[0], raw[:200]
    return str(json.loads(body)["Version"])


@pytest.fixture(scope="session")
def podman_sandbox(tmp_path_factory: pytest.TempPathFactory):
    engine = sandbox.engine_choice()
    if engine == "podman4" and shutil.which("podman") is None:
        pytest.fail("podman is not installed: run scripts/bootstrap.sh (the README's test command does)")
    state = tmp_path_factory.mktemp("podman")
    try:
        url = sandbox.up(state, engine)
    except SystemExit as exc:  # the harness's own one-line message (the Podman 5 tree not built, ...)
        sandbox.stop_namespace(state)
        # Every test would fail the same way: end the run at once, with that one line.
        pytest.exit(f"cannot start the {engine} sandbox: {exc}", returncode=1)
    box = PodmanSandbox(state=state, url=url, engine=engine)
    _ENGINE_SEEN.update(engine=engine, version=service_version(url))
    try:
        yield box
    finally:
        box.purge()
        sandbox.stop_service(state)
        sandbox.stop_pause(state)  # before the reset, which removes its PID file
        sandbox.podman(state, "system", "reset", "--force", check=False)
        sandbox.stop_namespace(state)


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
