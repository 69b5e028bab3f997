"""Plain-data hosts for unit tests of the pure core: the ObservedState podspec would find after
applying a desired state, built with the same labels the planner gives objects."""

from __future__ import annotations

from dataclasses import replace

from podspec import labels as L
from podspec.model import (
    Container,
    DesiredState,
    EnvVar,
    InitContainerType,
    Pod,
    PortMapping,
    PullPolicy,
    Volume,
    VolumeClaim,
    VolumeKind,
    VolumeMount,
)
from podspec.names import container_name
from podspec.observed import (
    ContainerState,
    ObservedContainer,
    ObservedImage,
    ObservedNetwork,
    ObservedPod,
    ObservedState,
    ObservedVolume,
    PodStatus,
)
from podspec.reconcile.intent import container_labels, pod_intent, pod_labels

HTDOCS = (VolumeMount("webserver-data-pvc", "/usr/local/apache2/htdocs"),)
SIDECAR = 'while true; do echo "Index Updated @$(date)" >> /usr/local/apache2/htdocs/index.html; sleep 10; done'
IMAGES = (
    ObservedImage("a" * 64, ("docker.io/library/alpine:latest",)),
    ObservedImage("b" * 64, ("docker.io/library/busybox:latest",)),
    ObservedImage("c" * 64, ("docker.io/library/httpd:2.4",)),
)


def webserver(port: int = 8080, sidecar: str = SIDECAR, **changes) -> Pod:
    pod = Pod(
        name="dynamic-webserver",
        labels=(("app", "dynamic-webserver"),),
        init_container_type=InitContainerType.ALWAYS,
        termination_grace_period_seconds=2,
        init_containers=(
            Container(
                "apache-httpd-init", "docker.io/library/busybox:latest", PullPolicy.ALWAYS,
                command=("sh", "-c", 'echo "Static Website Init" > /usr/local/apache2/htdocs/index.html'),
                volume_mounts=HTDOCS,
            ),
        ),
        containers=(
            Container("apache-httpd", "docker.io/library/httpd:2.4", ports=(PortMapping(80, port),), volume_mounts=HTDOCS),
            Container(
                "apache-httpd-index-updater", "docker.io/library/alpine:latest", PullPolicy.ALWAYS,
                command=("sh", "-c", sidecar), volume_mounts=HTDOCS,
            ),
        ),
        volumes=(Volume("webserver-data-pvc", VolumeKind.CLAIM, claim_name="webserver-data"),),
    )
    return replace(pod, **changes)


def state(*pods: Pod) -> DesiredState:
    return DesiredState(pods=tuple(sorted(pods, key=lambda p: p.name)), claims=(VolumeClaim("webserver-data"),))


def with_container(pod: Pod, name: str, **changes) -> Pod:
    return replace(pod, containers=tuple(replace(c, **changes) if c.name == name else c for c in pod.containers))


def applied(desired: DesiredState, project: str = "demo", status: PodStatus = PodStatus.RUNNING,
            origin: str = "") -> ObservedState:
    """The host right after podspec applied `desired` for `project` (from the source `origin`, if given):
    the project network, each pod's infra container attached to it, the names record."""
    from podspec.reconcile.network import NamesRecord, names_volume, network_name, on_network, pod_names, service_spec

    mark = {L.ORIGIN: origin} if origin else {}
    pods, containers = [], []
    joined = [p for p in desired.pods if on_network(p)]
    for pod in desired.pods:
        intent = pod_intent(pod)
        pod_id = f"{pod.name}-id"
        pods.append(ObservedPod(pod_id, pod.name, status, f"{pod_id}-infra", {**pod_labels(project, intent, pod.workload), **mark}))
        ports = tuple(intent.spec.get("ports", ()))
        containers.append(ObservedContainer(
            f"{pod_id}-infra", f"{pod_id[:12]}-infra", pod_id, pod.name, ContainerState.RUNNING,
            "localhost/podman-pause", "p" * 64, is_infra=True, labels=pod_labels(project, intent), ports=ports,
            networks=(network_name(project),) if on_network(pod) else (),
        ))
        for c in intent.containers:
            running = c.role.value == "container" and status is PodStatus.RUNNING
            containers.append(ObservedContainer(
                f"{pod.name}-{c.name}-id", container_name(pod.name, c.name), pod_id, pod.name,
                ContainerState.RUNNING if running else ContainerState.EXITED,
                c.image, _image_id(c.image), labels={**container_labels(project, pod.name, c), **mark},
            ))
    volumes = [ObservedVolume(v, {**L.for_volume(project), **mark}) for v in desired.volume_names()]
    networks: tuple[ObservedNetwork, ...] = ()
    if joined:
        record = NamesRecord({p.name: pod_names(desired, p) for p in joined},
                             {s.name: service_spec(s, desired.pods) for s in desired.services})
        volumes.append(ObservedVolume(names_volume(project), {**L.for_volume(project), L.NAMES: record.text(), **mark}))
        networks = (ObservedNetwork(network_name(project), L.for_volume(project), ("10.90.0.0/22",), True),)
    return ObservedState(tuple(pods), tuple(containers), tuple(sorted(volumes, key=lambda v: v.name)), IMAGES,
                         networks=networks)


def _image_id(reference: str) -> str:
    return next(i.id for i in IMAGES if reference in i.names)


def without_container(observed: ObservedState, name: str) -> ObservedState:
    return replace(observed, containers=tuple(c for c in observed.containers if c.name != name))


def with_state(observed: ObservedState, name: str, state: ContainerState) -> ObservedState:
    return replace(observed, containers=tuple(replace(c, state=state) if c.name == name else c for c in observed.containers))


__all__ = ["EnvVar", "PortMapping", "Volume", "VolumeKind", "VolumeMount", "Container"]
