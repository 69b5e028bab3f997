"""The diff on plain data: intent changes, drift, conflicts, consequences, redaction."""

from __future__ import annotations

from dataclasses import replace

import pytest

from podspec.model import EnvVar, PortMapping, Resources, SecurityContext, VolumeMount
from podspec.observed import ContainerState, ObservedContainer, ObservedPod, ObservedState, ObservedVolume, PodStatus
from podspec.reconcile import diff as differ
from podspec.reconcile.changes import UNSET, Action, FieldChange
from tests.unit.hosts import SIDECAR, applied, state, webserver, with_container, with_state, without_container

UPDATER = "dynamic-webserver-apache-httpd-index-updater"
HTTPD = "dynamic-webserver-apache-httpd"


def test_empty_host_creates_everything():
    result = differ.compute(state(webserver()), ObservedState(), "demo")
    assert [(v.name, v.action) for v in result.volumes] == [("webserver-data", Action.CREATE)]
    (pod,) = result.pods
    assert pod.action is Action.CREATE
    assert [c.name for c in pod.containers] == [
        "dynamic-webserver-apache-httpd-init", HTTPD, UPDATER,
    ]
    assert result.summary()["create"] == 3 and result.has_changes  # the volume, the project network, the pod


def test_applied_state_has_no_changes():
    desired = state(webserver())
    result = differ.compute(desired, applied(desired), "demo")
    assert not result.has_changes
    assert result.unchanged_pods == ("dynamic-webserver",)


CONTAINER_FIELD_CHANGES = [
    ("image", dict(image="docker.io/library/httpd:2.5"), "containers[apache-httpd].image"),
    ("command", dict(command=("httpd", "-f")), "containers[apache-httpd].command"),
    ("args", dict(args=("-v",)), "containers[apache-httpd].args"),
    ("workingDir", dict(working_dir="/srv"), "containers[apache-httpd].workingDir"),
    ("env", dict(env=(EnvVar("A", "1"),)), "containers[apache-httpd].env"),
    ("volumeMounts", dict(volume_mounts=(VolumeMount("webserver-data-pvc", "/usr/local/apache2/htdocs", read_only=True),)),
     "containers[apache-httpd].volumeMounts[/usr/local/apache2/htdocs].readOnly"),
    ("resources", dict(resources=Resources(memory_limit_bytes=64 << 20)), "containers[apache-httpd].resources"),
    ("securityContext", dict(security=SecurityContext(capabilities_drop=("NET_RAW",))), "containers[apache-httpd].securityContext"),
    ("tty", dict(tty=True), "containers[apache-httpd].tty"),
    ("stdin", dict(stdin=True), "containers[apache-httpd].stdin"),
]


@pytest.mark.parametrize("label,changes,path", CONTAINER_FIELD_CHANGES, ids=[c[0] for c in CONTAINER_FIELD_CHANGES])
def test_container_field_change_recreates_that_container_only(label, changes, path):
    before = state(webserver())
    after = state(with_container(webserver(), "apache-httpd", **changes))
    result = differ.compute(after, applied(before), "demo")
    (pod,) = result.pods
    assert pod.action is None
    assert [(c.name, c.action) for c in pod.containers] == [(HTTPD, Action.RECREATE)]
    assert path in [f.path for f in pod.containers[0].fields]


def test_sidecar_command_change_reports_index_path_and_values():
    result = differ.compute(state(webserver(sidecar=SIDECAR.replace("sleep 10", "sleep 5"))), applied(state(webserver())), "demo")
    (change,) = result.pods[0].containers
    assert change.fields == (
        FieldChange("containers[apache-httpd-index-updater].command[2]", SIDECAR, SIDECAR.replace("sleep 10", "sleep 5")),
    )


POD_FIELD_CHANGES = [
    ("ports", dict(port=9090), "ports[0]"),
    ("hostname", dict(hostname="web"), "hostname"),
    ("hostNetwork", dict(host_network=True), "hostNetwork"),
    ("labels", dict(labels=(("app", "other"),)), "labels[app]"),
]


@pytest.mark.parametrize("label,changes,path", POD_FIELD_CHANGES, ids=[c[0] for c in POD_FIELD_CHANGES])
def test_pod_level_change_replaces_pod_and_says_why(label, changes, path):
    port = changes.pop("port", 8080)
    result = differ.compute(state(webserver(port=port, **changes)), applied(state(webserver())), "demo")
    (pod,) = result.pods
    assert pod.action is Action.REPLACE
    assert "cannot" in pod.cause
    assert path in [f.path for f in pod.fields]


def test_init_container_change_replaces_pod():
    pod = webserver()
    changed = replace(pod, init_containers=(replace(pod.init_containers[0], command=("sh", "-c", "true")),))
    result = differ.compute(state(changed), applied(state(pod)), "demo")
    assert result.pods[0].action is Action.REPLACE
    assert "init container" in result.pods[0].cause
    assert result.pods[0].fields[0].path.startswith("initContainers[apache-httpd-init].command")


def test_removed_container_env_and_mount_are_reported():
    pod = with_container(webserver(), "apache-httpd", env=(EnvVar("A", "1"), EnvVar("B", "2")))
    before = state(pod)
    # container removed
    fewer = replace(pod, containers=pod.containers[:1])
    result = differ.compute(state(fewer), applied(before), "demo")
    assert [(c.name, c.action, c.cause) for c in result.pods[0].containers] == [
        (UPDATER, Action.REMOVE, "no longer in the manifest")
    ]
    # env var removed
    result = differ.compute(state(with_container(pod, "apache-httpd", env=(EnvVar("A", "1"),))), applied(before), "demo")
    assert result.pods[0].containers[0].fields == (FieldChange("containers[apache-httpd].env[B]", "2", UNSET),)
    # volume mount removed
    result = differ.compute(state(with_container(pod, "apache-httpd", volume_mounts=())), applied(before), "demo")
    assert result.pods[0].containers[0].fields[0].path == "containers[apache-httpd].volumeMounts"
    assert result.pods[0].containers[0].fields[0].new is UNSET


def test_drift_container_removed_stopped_and_extra():
    desired = state(webserver())
    host = applied(desired)
    result = differ.compute(desired, without_container(host, UPDATER), "demo")
    assert [(c.name, c.action) for c in result.pods[0].containers] == [(UPDATER, Action.CREATE)]

    result = differ.compute(desired, with_state(host, HTTPD, ContainerState.EXITED), "demo")
    assert [(c.name, c.action) for c in result.pods[0].containers] == [(HTTPD, Action.START)]

    extra = ObservedContainer("x", "intruder", "dynamic-webserver-id", "dynamic-webserver", ContainerState.RUNNING, "alpine", "a" * 64)
    result = differ.compute(desired, replace(host, containers=host.containers + (extra,)), "demo")
    assert [(c.name, c.action, c.cause) for c in result.pods[0].containers] == [
        ("intruder", Action.REMOVE, "added to the pod by hand")
    ]


def test_drift_pod_stopped_starts_pod():
    desired = state(webserver())
    result = differ.compute(desired, applied(desired, status=PodStatus.EXITED), "demo")
    assert result.pods[0].action is Action.START
    assert result.pods[0].containers == ()


@pytest.mark.parametrize("status", list(PodStatus), ids=[s.value for s in PodStatus])
def test_diff_starts_a_pod_exactly_when_status_reports_it_stopped(status):
    from podspec.reconcile import status as statuses

    desired = state(webserver())
    host = applied(desired, status=status)
    starts = any(pod.action is Action.START for pod in differ.compute(desired, host, "demo").pods)
    (report,) = statuses.report(host, "demo")
    assert starts == (f"pod is {status.value.lower()}" in report.drift)
    assert starts == (status in (PodStatus.EXITED, PodStatus.STOPPED, PodStatus.CREATED))


def test_drift_ports_differ_replaces_pod():
    desired = state(webserver())
    host = applied(desired)
    infra = next(c for c in host.containers if c.is_infra)
    host = replace(host, containers=tuple(replace(c, ports=("9999->80/TCP",)) if c is infra else c for c in host.containers))
    result = differ.compute(desired, host, "demo")
    assert result.pods[0].action is Action.REPLACE
    assert result.pods[0].fields == (FieldChange("ports", ["9999->80/TCP"], ["8080->80/TCP"]),)


def test_drift_always_init_container_missing_replaces_pod():
    desired = state(webserver())
    result = differ.compute(desired, without_container(applied(desired), "dynamic-webserver-apache-httpd-init"), "demo")
    assert result.pods[0].action is Action.REPLACE


def test_drift_image_tag_moved_recreates_with_always_policy_only():
    desired = state(webserver())
    host = applied(desired)
    moved = replace(host, containers=tuple(replace(c, image_id="0" * 64) if c.name in (UPDATER, HTTPD) else c for c in host.containers))
    result = differ.compute(desired, moved, "demo")
    # the sidecar (alpine:latest, Always) is recreated; httpd:2.4 (IfNotPresent) is left alone
    assert [(c.name, c.action) for c in result.pods[0].containers] == [(UPDATER, Action.RECREATE)]


def test_missing_volume_is_created():
    desired = state(webserver())
    host = replace(applied(desired), volumes=())
    assert [(v.name, v.action) for v in differ.compute(desired, host, "demo").volumes] == [("webserver-data", Action.CREATE)]


def test_conflicts_with_objects_podspec_did_not_create():
    desired = state(webserver())
    hand_pod = ObservedPod("h", "dynamic-webserver", PodStatus.RUNNING)
    hand_volume = ObservedVolume("webserver-data")
    result = differ.compute(desired, replace(applied(state()), pods=(hand_pod,), volumes=(hand_volume,)), "demo")
    assert result.pods[0].action is Action.CONFLICT
    assert "podspec did not create" in result.pods[0].cause
    assert result.volumes[0].action is Action.CONFLICT
    assert len(result.conflicts) == 2

    adopted = differ.compute(desired, replace(applied(state()), pods=(hand_pod,), volumes=(hand_volume,)), "demo", adopt=True)
    assert adopted.pods[0].action is Action.REPLACE
    assert [(v.name, v.action) for v in adopted.volumes] == [("webserver-data", Action.ADOPT)]


def test_other_project_pod_is_a_conflict():
    desired = state(webserver())
    result = differ.compute(desired, applied(desired, project="other"), "demo")
    assert result.pods[0].action is Action.CONFLICT
    assert "project 'other'" in result.pods[0].cause


def test_prune_removes_only_this_projects_pods():
    desired = state(webserver())
    host = applied(desired)
    assert differ.compute(state(), host, "demo").pods == ()
    pruned = differ.compute(state(), host, "demo", prune=True)
    assert [(p.name, p.action) for p in pruned.pods] == [("dynamic-webserver", Action.REMOVE)]
    assert pruned.volumes == ()
    assert differ.compute(state(), host, "elsewhere", prune=True).pods == ()
    with_volumes = differ.compute(DesiredStateEmpty(), host, "demo", prune=True, prune_volumes=True)
    assert [(v.name, v.action) for v in with_volumes.volumes] == [("webserver-data", Action.REMOVE)]


def DesiredStateEmpty():
    from podspec.model import DesiredState

    return DesiredState()


def test_secret_env_values_are_redacted():
    before = state(with_container(webserver(), "apache-httpd", env=(EnvVar("DB_PASSWORD", "hunter2"), EnvVar("MODE", "a"))))
    after = state(with_container(webserver(), "apache-httpd", env=(EnvVar("DB_PASSWORD", "s3cret"), EnvVar("MODE", "b"))))
    fields = differ.compute(after, applied(before), "demo").pods[0].containers[0].fields
    assert fields == (
        FieldChange("containers[apache-httpd].env[DB_PASSWORD]", "(redacted)", "(redacted)"),
        FieldChange("containers[apache-httpd].env[MODE]", "a", "b"),
    )
    added = differ.compute(after, applied(state(webserver())), "demo").pods[0].containers[0].fields
    assert added == (FieldChange("containers[apache-httpd].env", UNSET, {"DB_PASSWORD": "(redacted)", "MODE": "b"}),)


def test_port_change_on_container_is_a_pod_replacement_not_a_recreate():
    after = state(with_container(webserver(), "apache-httpd", ports=(PortMapping(80, 8080), PortMapping(443, 8443))))
    result = differ.compute(after, applied(state(webserver())), "demo")
    assert result.pods[0].action is Action.REPLACE


def test_empty_dir_volume_created_before_the_pod_and_removed_when_it_is_pruned():
    from podspec import labels as L
    from podspec.model import Volume, VolumeKind
    from podspec.plan import StepKind
    from podspec.reconcile import planner

    pod = replace(
        with_container(webserver(), "apache-httpd", volume_mounts=(VolumeMount("scratch", "/scratch"),)),
        volumes=webserver().volumes + (Volume("scratch", VolumeKind.EMPTY_DIR),),
    )
    result = differ.compute(state(pod), ObservedState(), "demo")
    assert ("dynamic-webserver_scratch", Action.CREATE, "dynamic-webserver") in [
        (v.name, v.action, v.empty_dir_of) for v in result.volumes
    ]
    plan = planner.build(result)
    create = next(s for s in plan.steps if s.target == "dynamic-webserver_scratch")
    assert dict(create.labels)[L.EMPTY_DIR] == "dynamic-webserver"
    assert plan.steps.index(create) < [s.kind for s in plan.steps].index(StepKind.CREATE_POD)

    host = applied(state(pod))
    host = replace(host, volumes=host.volumes + (ObservedVolume("dynamic-webserver_scratch", dict(create.labels)),))
    assert not differ.compute(state(pod), host, "demo").has_changes
    pruned = differ.compute(state(), host, "demo", prune=True)
    assert ("dynamic-webserver_scratch", Action.REMOVE) in [(v.name, v.action) for v in pruned.volumes]
    assert ("webserver-data", Action.REMOVE) not in [(v.name, v.action) for v in pruned.volumes]


def test_secret_env_values_are_not_kept_in_labels():
    from podspec import labels as L
    from podspec.reconcile.intent import container_labels, pod_intent

    pod = with_container(webserver(), "apache-httpd", env=(EnvVar("DB_PASSWORD", "hunter2"), EnvVar("MODE", "a")))
    intent = next(c for c in pod_intent(pod).containers if c.name == "apache-httpd")
    stored = container_labels("demo", pod.name, intent)[L.LAST_APPLIED]
    assert "hunter2" not in stored and '"MODE":"a"' in stored
    changed = with_container(webserver(), "apache-httpd", env=(EnvVar("DB_PASSWORD", "s3cret"), EnvVar("MODE", "a")))
    result = differ.compute(state(changed), applied(state(pod)), "demo")
    assert result.pods[0].containers[0].fields == (
        FieldChange("containers[apache-httpd].env[DB_PASSWORD]", "(redacted)", "(redacted)"),
    )


def test_a_container_of_another_pod_holding_a_needed_name_is_a_conflict_not_removed():
    # pod "a" with container "b-c" and pod "a-b" with container "c" both want "a-b-c".
    from podspec.model import Container

    one = replace(webserver(), name="a", containers=(Container("b-c", "docker.io/library/busybox:latest"),),
                  init_containers=(), volumes=())
    two = replace(one, name="a-b", containers=(Container("c", "docker.io/library/busybox:latest"),))
    result = differ.compute(state(two), applied(state(one)), "demo")
    (pod,) = result.pods
    assert pod.action is Action.CONFLICT
    assert [(c.name, c.action) for c in pod.containers] == [("a-b-c", Action.CONFLICT)]
    assert "a container of pod a holds this name" in pod.containers[0].cause


def test_once_init_container_missing_before_the_first_start_replaces_the_pod():
    from podspec.model import InitContainerType

    pod = replace(webserver(), init_container_type=InitContainerType.ONCE)
    desired = state(pod)
    created = without_container(applied(desired, status=PodStatus.CREATED), "dynamic-webserver-apache-httpd-init")
    assert differ.compute(desired, created, "demo").pods[0].action is Action.REPLACE
    ran = without_container(applied(desired), "dynamic-webserver-apache-httpd-init")
    assert not differ.compute(desired, ran, "demo").has_changes  # Podman removed it after its run


def test_host_network_pods_publish_nothing_and_that_is_not_drift():
    pod = with_container(replace(webserver(), host_network=True), "apache-httpd", ports=(PortMapping(80, 80),))
    desired = state(pod)
    host = applied(desired)
    host = replace(host, containers=tuple(replace(c, ports=()) if c.is_infra else c for c in host.containers))
    assert not differ.compute(desired, host, "demo").has_changes


def test_a_volume_of_another_project_is_a_conflict_and_adopting_it_is_not_a_pending_change():
    from podspec import labels as L

    desired = state(webserver())
    theirs = ObservedVolume("webserver-data", L.for_volume("theirs"))
    host = replace(applied(state()), pods=(), containers=(), volumes=(theirs,))
    result = differ.compute(desired, host, "demo")
    assert [(v.action, v.cause) for v in result.volumes] == [(
        Action.CONFLICT,
        "a volume with this name exists, made by podspec project 'theirs' (pass --adopt to use it as it is: its data is kept)",
    )]
    pvc_only = differ.compute(DesiredStateEmpty().__class__(claims=desired.claims), host, "demo", adopt=True)
    assert [v.action for v in pvc_only.volumes] == [Action.ADOPT]
    assert not pvc_only.has_changes


def test_running_containers_are_stopped_with_the_grace_period_they_were_given():
    before = state(webserver())  # terminationGracePeriodSeconds 2
    after = state(replace(webserver(sidecar=SIDECAR.replace("sleep 10", "sleep 5")), termination_grace_period_seconds=1))
    assert differ.compute(after, applied(before), "demo").pods[0].stop_timeout == 2


def test_an_empty_dir_dropped_from_a_staying_pod_is_removed():
    from podspec import labels as L

    host = replace(applied(state(webserver())), volumes=applied(state(webserver())).volumes + (
        ObservedVolume("dynamic-webserver_old", L.for_empty_dir("demo", "dynamic-webserver")),
    ))
    result = differ.compute(state(webserver()), host, "demo")
    assert [(v.name, v.action, v.cause) for v in result.volumes] == [
        ("dynamic-webserver_old", Action.REMOVE, "emptyDir no longer in pod dynamic-webserver")
    ]
