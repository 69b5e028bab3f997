"""PodmanEngine without a Podman: its calls answered by the recorded answers of each version.

Proves the calls podman.py makes (which endpoint, how many) and that it hands every answer to
parse.py and every error to the one error tree, on each version recorded in tests/fixtures/podman/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pytest

from podspec.engine.connection import Endpoint
from podspec.engine.podman import PodmanEngine
from podspec.engine.transport import Reply
from podspec.errors import EngineError
from podspec.plan import Step, StepKind
from tests.unit.test_engine_parse import FIXTURES, VERSIONS


class Replay:
    """A transport that answers each call with the recorded answer to the same request (the host
    after the recorder started its pod: the list made before that is left out)."""

    def __init__(self, version: str, leave_out: tuple[str, ...] = ("containers-created",)) -> None:
        self.dir = FIXTURES / version
        index = json.loads((self.dir / "index.json").read_text())["answers"]
        self.answers: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for name, request in index.items():
            if name in leave_out:
                continue
            self.answers.setdefault((request["method"], request["path"]), []).append((name, request))
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply:
        self.calls.append((method.upper(), path))
        candidates = self.answers.get((method.upper(), path), [])
        for name, request in candidates:
            if all(str((params or {}).get(k)) == str(v) for k, v in request["params"].items()):
                return Reply(request["status"], (self.dir / f"{name}.json").read_bytes())
        raise AssertionError(f"no recorded answer to {method} {path} {params}")

    def call_stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float | None = None, compat: bool = False):
        """The engine pulls through the Docker-compatible /images/create; the recordings hold
        libpod's /images/pull of the same reference, whose failure is the same `{"error": ...}`
        object (checked against both services in tests/integration/test_registry_pulls.py)."""
        if compat and path == "/images/create":
            path, params = "/images/pull", {"reference": (params or {}).get("fromImage"), "quiet": "true"}
        reply = self.request(method, path, params)
        yield reply.status_code, b""
        yield from ((0, line) for line in reply.content.splitlines() if line.strip())

    def close(self) -> None:
        pass


@pytest.fixture(params=VERSIONS)
def engine(request) -> PodmanEngine:
    engine = PodmanEngine(Endpoint(url="unix:///nonexistent/podman.sock", how="a test"))
    engine.transport = Replay(request.param)
    return engine


def replay(engine: PodmanEngine) -> Replay:
    assert isinstance(engine.transport, Replay)
    return engine.transport


def test_observe_is_five_list_calls(engine):
    state = engine.observe()
    assert replay(engine).calls == [
        ("GET", "/containers/json"), ("GET", "/volumes/json"), ("GET", "/images/json"), ("GET", "/secrets/json"),
        ("GET", "/networks/json"),
    ]
    assert [(n.name, n.dns) for n in state.networks] == [("podman", False), ("proj", True)]
    assert state.network("proj").subnets == ("10.90.0.0/22",)
    assert [s.name for s in state.secrets] == ["rec-secret"]
    assert [p.name for p in state.pods] == ["rec-bad", "rec-web"]
    assert state.container("rec-web-done").exit_code == 3
    assert [v.name for v in state.volumes] == ["rec-data"]


@pytest.mark.parametrize("version", VERSIONS)
def test_observe_over_a_transport_taking_calls_at_once_reads_the_same(version):
    """The local socket's transport takes calls from several threads: the four short lists are
    read while the container list is; the state is the same, and an error of any call is raised."""

    class AtOnce(Replay):
        concurrent = True

        def __init__(self, version: str, failing: str = "") -> None:
            super().__init__(version)
            self.failing = failing

        def request(self, method, path, params=None, body=None, timeout=None):
            if path == self.failing:
                return Reply(500, b'{"cause": "injected", "message": "injected failure", "response": 500}')
            return super().request(method, path, params, body, timeout)

    one_by_one = PodmanEngine(Endpoint("unix:///replay.sock", "a recording"), transport=Replay(version)).observe()
    at_once = PodmanEngine(Endpoint("unix:///replay.sock", "a recording"), transport=AtOnce(version)).observe()
    assert at_once == one_by_one and at_once.secrets == one_by_one.secrets
    for failing in ("/containers/json", "/images/json", "/secrets/json", "/networks/json"):
        with pytest.raises(EngineError, match="injected failure"):
            PodmanEngine(Endpoint("unix:///replay.sock", "a recording"), transport=AtOnce(version, failing)).observe()


def test_reads(engine):
    assert engine.pod_names() == ("rec-bad", "rec-web")
    assert engine.version() == json.loads((replay(engine).dir / "index.json").read_text())["version"]
    assert engine.inspect_pod("rec-web")["Name"] == "rec-web"
    assert engine.inspect_volume("rec-data")["Labels"]["tier"] == "data"
    assert "initContainers" in engine.generate_kube("rec-web")


def test_a_refusal_is_an_engine_error_with_podmans_words_and_a_hint(engine):
    with pytest.raises(EngineError) as caught:
        engine.inspect_container("rec-nosuch")
    assert caught.value.message == (
        'Podman refused to inspect container rec-nosuch: no container with name or ID "rec-nosuch" found: no such container'
    )
    with pytest.raises(EngineError) as caught:
        engine.run(Step(StepKind.REMOVE_VOLUME, "rec-data", "test"))
    assert caught.value.message.startswith("Podman refused to remove volume rec-data: volume rec-data is being used")
    assert caught.value.hint == "the volume is still mounted by a container; it was not removed"


def test_a_failed_pull_is_an_engine_error(engine):
    with pytest.raises(EngineError) as caught:
        engine.pull("docker.io/library/nosuch:1")
    assert caught.value.message.startswith("cannot pull docker.io/library/nosuch:1: initializing source docker://nosuch:1")
    assert caught.value.hint == "check the image name and the registry"


def test_fixture_paths_are_this_repository():
    assert FIXTURES == Path(__file__).resolve().parents[1] / "fixtures" / "podman"


class Refusing:
    """A transport whose every call gets the same error answer."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply:
        return Reply(self.status, json.dumps({"cause": self.message, "message": self.message, "response": self.status}).encode())

    def close(self) -> None:
        pass


def test_a_lock_removed_from_the_database_is_released_even_if_its_directory_is_not():
    engine = PodmanEngine(Endpoint(url="unix:///nonexistent/podman.sock", how="a test"))
    engine.transport = Refusing(500, 'cleaning up volume storage for "podspec_lock_shop": unlinkat '
                                     "/var/lib/containers/storage/volumes/podspec_lock_shop: directory not empty")
    engine.remove_lock("podspec_lock_shop")  # released: Podman dropped it from its database first
    engine.transport = Refusing(404, "no such volume podspec_lock_shop")
    engine.remove_lock("podspec_lock_shop")
    engine.transport = Refusing(500, "volume is being used")
    with pytest.raises(EngineError, match="remove the lock volume podspec_lock_shop: volume is being used"):
        engine.remove_lock("podspec_lock_shop")
