"""A diff reads only the images its manifests name (issue 29: Podman's whole image list costs ~5 ms
of its CPU an image on the host, a filtered list ~4 ms): which filters, when the whole list is read
instead, and that a reference the diff did not read is a mistake raised, never an image taken for
absent. Podman's own matching of the filters is proved on both versions in
tests/contract/test_engine_contract.py."""

from __future__ import annotations

import pytest

from podspec.engine import parse
from podspec.engine.fake import FakeEngine
from podspec.loader import load
from podspec.observed import ObservedImage, ObservedState
from podspec.reconcile.pulls import references


def test_short_names_are_filtered_as_written_and_full_names_as_podman_stores_them():
    assert parse.image_filters(["busybox", "user/app:1", "docker.io/httpd:2.4", "quay.io/team/web:2",
                                "localhost/built:1", "127.0.0.1:5000/app:1", "docker.io/library/alpine:3"], True) == [
        "127.0.0.1:5000/app:1", "busybox", "docker.io/library/alpine:3", "docker.io/library/httpd:2.4",
        "localhost/built:1", "quay.io/team/web:2", "user/app:1"]


def test_no_reference_reads_no_image():
    assert parse.image_filters([], True) == [] and parse.image_filters((), False) == []


@pytest.mark.parametrize("reference", [
    "docker.io/library/busybox@sha256:" + "a" * 64,  # a digest: no name to filter on
    "sha256:" + "b" * 64,  # an image ID
    "b9cde100cd14",  # a short one
])
def test_a_digest_or_an_id_reads_the_whole_list(reference):
    assert parse.image_filters(["busybox", reference], True) is None


def test_many_references_or_calls_one_after_another_read_the_whole_list():
    many = [f"app{i}:1" for i in range(parse.IMAGE_FILTERS_AT_MOST + 1)]
    assert parse.image_filters(many, True) is None
    assert parse.image_filters(many[:parse.IMAGE_FILTERS_AT_MOST], True) == sorted(many[:parse.IMAGE_FILTERS_AT_MOST])
    # over ssh:// (one call at a time) one filtered list still beats the whole one, two do not
    assert parse.image_filters(["busybox"], False) == ["busybox"]
    assert parse.image_filters(["busybox", "alpine"], False) is None


def test_the_answers_are_merged_each_image_once():
    a = {"Id": "a", "Names": ["docker.io/library/busybox:latest", "localhost/busybox:latest"]}
    b = {"Id": "b", "Names": ["docker.io/library/alpine:latest"]}
    merged = parse.merged_lists([[a], [b, a], None])
    assert merged == [a, b]
    assert [i.id for i in parse.images(merged)] == ["a", "b"]


def test_an_image_not_read_is_a_mistake_not_an_absent_image():
    state = ObservedState(images=(ObservedImage("a", ("docker.io/library/busybox:latest",)),),
                          image_scope=frozenset({"busybox"}))
    assert state.image_id("busybox") == "a"
    with pytest.raises(LookupError, match="image alpine was not read"):
        state.image_id("alpine")
    assert ObservedState().image_id("alpine") is None  # the whole list read: absent


PROBED = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  initContainers:
    - {name: init, image: "busybox:1"}
  containers:
    - name: app
      image: quay.io/team/web:2
      readinessProbe: {httpGet: {path: /, port: 80}}
  volumes:
    - name: made
      hostPath: {path: /srv/podspec-test, type: DirectoryOrCreate}
"""


def test_the_references_a_diff_reads_are_every_image_it_looks_up(tmp_path):
    from podspec.model import HOST_PATH_HELPER_IMAGE

    path = tmp_path / "web.yaml"
    path.write_text(PROBED)
    desired = load([str(path)])
    assert references(desired, "docker.io/library/probe:1") == {
        "busybox:1", "quay.io/team/web:2", "docker.io/library/probe:1", HOST_PATH_HELPER_IMAGE}
    assert references(desired) == {"busybox:1", "quay.io/team/web:2", HOST_PATH_HELPER_IMAGE}


def test_the_fake_reads_the_images_named_as_podman_does():
    with FakeEngine(images=("docker.io/library/busybox:latest", "docker.io/library/alpine:latest")) as fake:
        state = fake.observe(images=["busybox", "nosuch:1"])
        assert [i.names for i in state.images] == [("docker.io/library/busybox:latest",)]
        assert state.image_scope == {"busybox", "nosuch:1"} and state.image_id("nosuch:1") is None
        assert fake.observe(images=()).images == ()
        assert [i.names for i in fake.images_named(["alpine"])] == [("docker.io/library/alpine:latest",)]
