"""export/reading.py against the FakeEngine: which reads export makes, how few, and what comes back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from podspec.engine.fake import FakeEngine
from podspec.errors import PodNotFound
from podspec.export import inspected as exporter
from podspec.export.reading import init_container_names, pod_names, read_pods
from podspec.model import InitContainerType
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.run.executor import execute
from tests.unit.hosts import state, webserver

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
POD = "dynamic-webserver"


def host(*pods):
    engine = FakeEngine(images=IMAGES)
    execute(planner.build(differ.compute(state(*pods), engine.observe(), "demo")), engine)
    engine.calls.clear()
    return engine


def test_one_pod_is_read_in_a_bounded_number_of_calls():
    engine = host(webserver())
    (data,) = read_pods(engine, [POD])
    assert data.pod["Name"] == POD
    names = sorted(c["Name"] for c in data.containers)
    assert names == [f"{POD}-apache-httpd", f"{POD}-apache-httpd-index-updater", f"{POD}-apache-httpd-init"]
    assert all(not c["IsInfra"] for c in data.containers)  # the infra one is left out
    assert set(data.images) == {c["Image"] for c in data.containers}
    assert set(data.volumes) == {"webserver-data"}
    assert data.init_names == (f"{POD}-apache-httpd-init",)
    assert engine.count("pod_names") == 1
    assert engine.count("inspect_pod") == 1
    assert engine.count("inspect_container") == 3
    assert engine.count("inspect_image") == 3
    assert engine.count("inspect_volume") == 1
    assert engine.count("generate_kube") == 1
    assert engine.count("observe") == 0


def test_images_and_volumes_are_read_once_for_several_pods():
    engine = host(webserver(), webserver(name="second", port=9090))
    first, second = read_pods(engine, [POD, "second"])
    assert second.pod["Name"] == "second" and first.pod["Name"] == POD
    assert engine.count("inspect_image") == 3 and engine.count("inspect_volume") == 1
    assert set(second.images) == set(first.images) and set(second.volumes) == {"webserver-data"}


def test_unknown_pods_are_all_named():
    engine = host(webserver())
    with pytest.raises(PodNotFound) as caught:
        read_pods(engine, ["nope", POD, "gone"])
    assert "'nope', 'gone'" in caught.value.message and engine.url in caught.value.message
    assert caught.value.hint == f"pods here: {POD} (see `podman pod ps`)"
    assert engine.count("inspect_pod") == 0


def test_an_empty_host_says_so():
    with pytest.raises(PodNotFound) as caught:
        read_pods(FakeEngine(), ["x"])
    assert caught.value.hint.startswith("pods here: none")
    assert pod_names(FakeEngine()) == ()


def test_once_init_containers_are_gone_after_the_start_and_not_read():
    engine = host(replace(webserver(), init_container_type=InitContainerType.ONCE))
    (data,) = read_pods(engine, [POD])
    assert len(data.containers) == 2 and data.init_names == ()
    assert init_container_names(engine, POD) == ()


def test_what_is_read_exports_to_the_pod_that_made_it():
    engine = host(webserver())
    exported = exporter.export(read_pods(engine, [POD]))
    (pod,) = exported.pods
    desired = webserver()
    assert pod.name == desired.name
    assert [c.name for c in pod.init_containers] == ["apache-httpd-init"]
    assert [c.name for c in pod.containers] == ["apache-httpd", "apache-httpd-index-updater"]
    assert pod.init_container_type is InitContainerType.ALWAYS
    assert [c.image for c in pod.all_containers()] == [c.image for c in desired.all_containers()]
    assert [c.command for c in pod.all_containers()] == [c.command for c in desired.all_containers()]
    assert pod.containers[0].ports == desired.containers[0].ports
    assert [v.claim_name for v in pod.volumes] == ["webserver-data"]
    assert [c.name for c in exported.claims] == ["webserver-data"]
