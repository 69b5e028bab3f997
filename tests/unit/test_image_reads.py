"""A diff reads only the images its manifests name (issue 29: Podman 4.3's whole image list costs ~5
ms of its CPU an image on the host, an inspect 1-2 ms): which names are asked for, when the whole list
is read instead, and that a reference the diff did not read is a mistake raised, never an image taken
for absent. That the inspected names find what the whole list finds is proved on both Podmans in
tests/contract/test_engine_contract.py."""

from __future__ import annotations

import pytest

from podspec.engine import parse
from podspec.engine.fake import FakeEngine
from podspec.loader import load
from podspec.observed import ObservedImage, ObservedState
from podspec.reconcile.pulls import references


def test_each_name_an_image_may_be_stored_under_is_asked_for():
    """A short name on the default registry and as built on the host; a full name as Podman stores it."""
    assert parse.image_names(["busybox", "user/app:1", "docker.io/httpd:2.4", "quay.io/team/web:2",
                              "localhost/built:1", "127.0.0.1:5000/app:1"], True) == [
        "127.0.0.1:5000/app:1", "docker.io/library/busybox:latest", "docker.io/library/httpd:2.4",
        "docker.io/user/app:1", "localhost/built:1", "localhost/busybox:latest", "localhost/user/app:1",
        "quay.io/team/web:2"]


def test_no_reference_reads_no_image():
    assert parse.image_names([], True) == [] and parse.image_names((), False) == []


@pytest.mark.parametrize("reference", [
    "docker.io/library/busybox@sha256:" + "a" * 64,  # a digest: no name to ask for
    "sha256:" + "b" * 64,  # an image ID
    "b9cde100cd14",  # a short one
])
def test_a_digest_or_an_id_reads_the_whole_list(reference):
    assert parse.image_names(["busybox", reference], True) is None


def test_many_names_or_calls_one_after_another_read_the_whole_list():
    many = [f"quay.io/team/app{i}:1" for i in range(parse.IMAGE_NAMES_AT_MOST + 1)]
    assert parse.image_names(many, True) is None
    assert parse.image_names(many[:parse.IMAGE_NAMES_AT_MOST], True) == sorted(many[:parse.IMAGE_NAMES_AT_MOST])
    assert parse.image_names([f"app{i}:1" for i in range(5)], True) is None  # two names each
    # over ssh:// (one call at a time) one inspect still beats the whole list, two do not
    assert parse.image_names(["quay.io/team/web:2"], False) == ["quay.io/team/web:2"]
    assert parse.image_names(["busybox"], False) is None


def test_the_inspected_images_are_read_as_the_list_shows_them_each_once():
    a = {"Id": "a", "RepoTags": ["localhost/busybox:latest", "docker.io/library/busybox:latest"],
         "RepoDigests": ["docker.io/library/busybox@sha256:" + "c" * 64]}
    b = {"Id": "b", "RepoTags": ["docker.io/library/alpine:latest"], "RepoDigests": None}
    found = parse.inspected_images([a, None, b, a])
    assert found == parse.images([a, b]) == (
        ObservedImage("a", ("docker.io/library/busybox:latest", "localhost/busybox:latest"),
                      ("docker.io/library/busybox@sha256:" + "c" * 64,)),
        ObservedImage("b", ("docker.io/library/alpine:latest",)))


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


def test_a_short_name_finds_the_image_built_here_as_podman_does():
    """`podman build -t team/tool:3` stores localhost/team/tool:3, and `podman run team/tool:3` runs
    it: so does a manifest's `image: team/tool:3` (and `image: myapp`, localhost/myapp:latest)."""
    state = ObservedState(images=(
        ObservedImage("tool", ("localhost/team/tool:3",)),
        ObservedImage("app", ("localhost/myapp:latest",)),
        ObservedImage("hub", ("docker.io/team/web:1",)),
    ))
    assert state.image_id("team/tool:3") == state.image_id("localhost/team/tool:3") == "tool"
    assert state.image_id("myapp") == state.image_id("myapp:latest") == "app"
    assert state.image_id("team/web:1") == "hub"
    # A name with a registry is that registry's, and another path or tag is another image.
    assert state.image_id("quay.io/team/tool:3") is None
    assert state.image_id("docker.io/team/tool:3") is None
    assert state.image_id("tool:3") is None and state.image_id("team/tool:4") is None
