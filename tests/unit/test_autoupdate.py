"""Image updates decided (reconcile/autoupdate.py): what to watch, what moved, how to ask."""

from __future__ import annotations

from podspec.model import AutoUpdate, Container, DesiredState, Pod
from podspec.observed import ContainerState, ObservedContainer, ObservedImage, ObservedState
from podspec.reconcile import autoupdate
from podspec.reconcile.notices import ImageChange

REF = "127.0.0.1:5000/app:1"


def desired() -> DesiredState:
    return DesiredState(pods=(
        Pod("a", containers=(Container("main", REF, auto_update=AutoUpdate.LOCAL),
                             Container("side", "docker.io/library/busybox:latest"))),
        Pod("b", containers=(Container("main", REF, auto_update=AutoUpdate.REGISTRY),
                             Container("pinned", "127.0.0.1:5000/app@sha256:" + "1" * 64, auto_update=AutoUpdate.REGISTRY))),
    ))


def observed(local: str = "new") -> ObservedState:
    def c(name: str, image_id: str) -> ObservedContainer:
        return ObservedContainer(name, name, "p", name.split("-")[0], ContainerState.RUNNING, REF, image_id)

    return ObservedState(
        containers=(c("a-main", "old"), c("b-main", "old")),
        images=(ObservedImage("old", (REF,) if local == "old" else (), ("127.0.0.1:5000/app@sha256:aaa",)),
                ObservedImage("new", (REF,) if local == "new" else (), ("127.0.0.1:5000/app@sha256:bbb",))),
    )


def test_one_watch_per_distinct_image_registry_wins_and_digests_never_move():
    assert autoupdate.watched(desired()) == (autoupdate.Watch(REF, AutoUpdate.REGISTRY, ("a-main", "b-main")),)


def test_notify_only_drops_the_policies():
    held = autoupdate.without_updates(desired())
    assert all(c.auto_update is None for p in held.pods for c in p.containers)
    assert autoupdate.watched(held) == ()


def test_local_change_names_the_containers_behind_the_tag():
    watch = autoupdate.Watch(REF, AutoUpdate.LOCAL, ("a-main", "b-main", "gone-main"))
    assert autoupdate.local_change(watch, observed("new")) == ImageChange(REF, "old", "new", ("a-main", "b-main"))
    assert autoupdate.local_change(watch, observed("old")) is None


def test_registry_change_compares_the_running_images_digests():
    watch = autoupdate.Watch(REF, AutoUpdate.REGISTRY, ("a-main", "b-main"))
    assert autoupdate.registry_change(watch, "sha256:aaa", observed()) is None
    assert autoupdate.registry_change(watch, "sha256:bbb", observed()) == ImageChange(
        REF, "sha256:aaa", "sha256:bbb", ("a-main", "b-main"))


def test_manifest_requests_and_insecure_registries():
    hub = autoupdate.manifest_request("docker.io/library/alpine:3.20")
    assert hub.url("https") == "https://registry-1.docker.io/v2/library/alpine/manifests/3.20"
    local = autoupdate.manifest_request("127.0.0.1:5000/team/app:1")
    assert local.url("http") == "http://127.0.0.1:5000/v2/team/app/manifests/1"
    conf = '[[registry]]\nlocation = "127.0.0.1"\ninsecure = true\n[[registry]]\nlocation = "quay.io"\n'
    assert autoupdate.insecure(conf, "127.0.0.1:5000/app:1")
    assert not autoupdate.insecure(conf, "127.0.0.10:5000/app:1") and not autoupdate.insecure(conf, "quay.io/x:1")
    assert autoupdate.insecure('[registries.insecure]\nregistries = ["reg.lan:5000"]\n', "reg.lan:5000/app:1")
    assert not autoupdate.insecure("not toml [", "reg.lan:5000/app:1")


def test_challenge():
    assert autoupdate.challenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a,b:pull"') == (
        "bearer", {"realm": "https://auth.example/token", "service": "reg", "scope": "repository:a,b:pull"})
    assert autoupdate.challenge('Basic realm="podspec-test"') == ("basic", {"realm": "podspec-test"})


def test_the_auto_update_annotations_pass_the_baseline_policy_as_podspec_acts_on_them():
    from podspec.policy import runtime_annotation

    assert not runtime_annotation("io.containers.autoupdate") and not runtime_annotation("io.containers.autoupdate/web")
    assert runtime_annotation("io.containers.autoupdate.authfile") and runtime_annotation("io.containers.trace-syscall")
