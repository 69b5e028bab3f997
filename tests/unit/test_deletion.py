"""What `podspec delete` removes, on plain data."""

from __future__ import annotations

from dataclasses import replace

from podspec import labels as L
from podspec.model import Volume, VolumeKind, VolumeMount
from podspec.observed import ObservedPod, ObservedState, ObservedVolume, PodStatus
from podspec.plan import StepKind
from podspec.reconcile import delete as deletion
from tests.unit.hosts import applied, state, webserver, with_container, without_container


def kinds(plan):
    return [(s.kind, s.target) for s in plan.steps]


def test_pods_removed_volumes_kept_unless_asked():
    desired = state(webserver())
    host = applied(desired)
    kept = deletion.plan(desired, host, "demo", volumes=False)
    assert kinds(kept.plan) == [(StepKind.STOP_POD, "dynamic-webserver"), (StepKind.REMOVE_POD, "dynamic-webserver"),
                                (StepKind.REMOVE_VOLUME, "podspec-names.demo"), (StepKind.REMOVE_NETWORK, "podspec-demo")]
    assert kept.plan.steps[0].timeout == 2 and kept.skipped == ()
    gone = deletion.plan(desired, host, "demo", volumes=True)
    assert kinds(gone.plan)[-1] == (StepKind.REMOVE_VOLUME, "webserver-data")


def test_objects_podspec_did_not_create_are_left_alone():
    desired = state(webserver())
    host = ObservedState(pods=(ObservedPod("h", "dynamic-webserver", PodStatus.RUNNING),),
                         volumes=(ObservedVolume("webserver-data"),))
    result = deletion.plan(desired, host, "demo", volumes=True)
    assert result.plan.empty
    assert result.skipped == (
        "pod dynamic-webserver: not created by podspec for project 'demo'; left alone",
        "volume webserver-data: not created by podspec for project 'demo'; left alone",
    )
    other_project = deletion.plan(desired, applied(desired, project="other"), "demo", volumes=True)
    assert other_project.plan.empty and len(other_project.skipped) == 2


def test_a_volume_another_pod_still_mounts_is_kept():
    web, other = webserver(), replace(webserver(port=9090), name="other")
    host = applied(state(web, other))
    result = deletion.plan(state(web), host, "demo", volumes=True)
    assert (StepKind.REMOVE_VOLUME, "webserver-data") not in kinds(result.plan)
    assert result.skipped == ("volume webserver-data: still mounted by pod other; kept",)


def test_empty_dir_volumes_go_with_their_pod():
    pod = replace(
        with_container(webserver(), "apache-httpd", volume_mounts=(VolumeMount("scratch", "/scratch"),)),
        volumes=webserver().volumes + (Volume("scratch", VolumeKind.EMPTY_DIR),),
    )
    desired = state(pod)
    host = applied(desired)
    host = replace(host, volumes=host.volumes + (
        ObservedVolume("dynamic-webserver_scratch", L.for_empty_dir("demo", "dynamic-webserver")),
    ))
    result = deletion.plan(desired, host, "demo", volumes=False)
    assert (StepKind.REMOVE_VOLUME, "dynamic-webserver_scratch") in kinds(result.plan)
    assert (StepKind.REMOVE_VOLUME, "webserver-data") not in kinds(result.plan)


def test_volumes_other_projects_or_removed_init_containers_mount_are_kept():
    web = webserver()
    mine = applied(state(web))
    theirs = applied(state(replace(web, name="theirs-pod")), project="theirs")
    host = replace(mine, pods=mine.pods + theirs.pods, containers=mine.containers + theirs.containers)
    result = deletion.plan(state(web), host, "demo", volumes=True)
    assert (StepKind.REMOVE_VOLUME, "webserver-data") not in kinds(result.plan)
    assert result.skipped == ("volume webserver-data: still mounted by pod theirs-pod (project theirs); kept",)

    # Another pod of the project mounts it only in a `once` init container, which Podman removed
    # after its run: its pod's last-applied label still says so.
    other = replace(web, name="other", containers=(replace(web.containers[0], volume_mounts=()),))
    both = applied(state(web, other))
    both = without_container(both, "other-apache-httpd-init")
    result = deletion.plan(state(web), both, "demo", volumes=True)
    assert result.skipped == ("volume webserver-data: still mounted by pod other; kept",)
