"""The engine's parsing on answers recorded from real Podman services, 4.3 and 5.4 alike.

tests/fixtures/recorded-pods/podman-<version>.json holds what tools/record_pods.py recorded: every GET
that `observe()`, `version()` and the export's `read_pods()` made against a sandbox holding the pods
tutorial's pod made by hand with the podman CLI (`by-hand`), the same pod applied by podspec
(`applied`) and, on Podman 5, a pod with an image volume (`image-volume`). The engine reads them
through a transport that replays them: no Podman needed, and both versions' shapes stay covered.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from record_pods import IMAGE_VOLUME, key

from podspec import labels as L
from podspec.engine.connection import Endpoint
from podspec.engine.podman import PodmanEngine
from podspec.engine.transport import Reply
from podspec.export.inspected import export
from podspec.export.reading import read_pods
from podspec.loader import load
from podspec.model import InitContainerType
from podspec.observed import ContainerState

ROOT = Path(__file__).resolve().parents[2]
RECORDED = sorted((ROOT / "tests" / "fixtures" / "recorded-pods").glob("podman-*.json"))


class Replay:
    """A transport answering from a recording; a call that was not recorded fails the test."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers

    def request(self, method, path, params=None, body=None, timeout=None) -> Reply:
        answer = self.answers.get(key(method, path, params))
        assert answer is not None, f"not recorded: {key(method, path, params)}"
        return Reply(answer["status"], answer["body"].encode())

    def close(self) -> None:
        pass


def engine_for(path: Path) -> tuple[PodmanEngine, dict]:
    data = json.loads(path.read_text())
    return PodmanEngine(Endpoint("unix:///recorded/podman.sock", "a recording"), transport=Replay(data["answers"])), data


def exported(path: Path) -> dict:
    engine, data = engine_for(path)
    result = export(read_pods(engine, data["pods"]))
    return {p.name: p for p in result.pods}


def applied_manifest(tmp_path: Path) -> Path:
    """manifests/webserver.yaml as the recorder applied it."""
    text = ((ROOT / "manifests" / "webserver.yaml").read_text().replace("hostPort: 8080", "hostPort: 18081")
            .replace("dynamic-webserver", "applied").replace("webserver-data", "applied-data"))
    path = tmp_path / "applied.yaml"
    path.write_text(text)
    return path


def test_both_podman_versions_are_recorded():
    assert {p.name.split("-")[1].split(".")[0] for p in RECORDED} == {"4", "5"}


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_version_and_observed_state(path):
    engine, data = engine_for(path)
    assert engine.version() == data["version"] == path.stem.removeprefix("podman-")
    observed = engine.observe()
    assert sorted(p.name for p in observed.pods) == sorted(data["pods"])
    by_name = {c.name: c for c in observed.containers}
    assert sum(c.is_infra for c in observed.containers) == len(data["pods"])
    for name in ("apache-httpd", "apache-httpd-index-updater", "applied-apache-httpd", "applied-apache-httpd-index-updater"):
        assert by_name[name].state is ContainerState.RUNNING, name
    infra = next(c for c in observed.containers if c.is_infra and c.pod_name == "applied")
    assert infra.ports == ("18081->80/TCP",)
    applied = next(p for p in observed.pods if p.name == "applied")
    assert L.project_of(applied.labels) == "recorded"
    assert {v.name for v in observed.volumes} >= {"webserver-data", "applied-data"}
    assert any("docker.io/library/httpd:2.4" in i.names for i in observed.images)


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_the_pod_applied_by_podspec_exports_as_its_manifest(path, tmp_path):
    [manifest] = load([str(applied_manifest(tmp_path))]).pods
    assert exported(path)["applied"] == manifest


def test_the_pod_made_by_hand_exports_the_same_on_both_versions():
    by_version = {path.stem: exported(path)["by-hand"] for path in RECORDED}
    first, *others = by_version.values()
    assert all(other == first for other in others), by_version
    assert first.init_container_type is InitContainerType.ALWAYS
    assert [c.name for c in first.init_containers] == ["apache-httpd-init"]
    assert [c.name for c in first.containers] == ["apache-httpd", "apache-httpd-index-updater"]
    assert first.hostname == "" and first.annotations == ()  # Podman 5's bookkeeping annotations are gone too


def test_podman_5_image_volume_exports_as_its_manifest(tmp_path):
    [path] = [p for p in RECORDED if p.stem.startswith("podman-5")]
    source = tmp_path / "image.yaml"
    source.write_text(IMAGE_VOLUME)
    [manifest] = load([str(source)]).pods
    pod = exported(path)["image-volume"]
    assert pod == manifest
    assert replace(pod.volumes[0], name="") == replace(manifest.volumes[0], name="")
