"""The planner: pure. Turns a diff into ordered steps; one step is one engine call with a cause.

Order: volumes are created before the pods that mount them; for each pod (sorted by name) the
steps that empty a place come before the steps that fill it; volumes are removed last, and only
with --prune-volumes. Conflicts make no plan: they are errors for the caller to report.

A pod's steps share a lane (the pod's name): they must run in order, but different pods' lanes
touch different objects and may run side by side. Volume steps and the removal of pods that left
the manifests have no lane: they run alone, before anything that could need what they free.
"""

from __future__ import annotations

from dataclasses import replace

from podspec import labels as L
from podspec.errors import ConflictError
from podspec.labels import Role
from podspec.model import HOST_PATH_CREATE_TYPES, Container, Pod, VolumeKind
from podspec.names import empty_dir_volume
from podspec.plan import Plan, Step, StepKind
from podspec.reconcile.changes import Action
from podspec.reconcile.diff import Diff
from podspec.reconcile.intent import ContainerIntent, container_labels, pod_labels
from podspec.reconcile.network import AttachAction, Attachment, NetworkChanges, names_volume
from podspec.reconcile.pod_diff import ContainerDiff, PodDiff


def build(diff: Diff) -> Plan:
    if diff.conflicts:
        raise ConflictError(
            "objects that are not this project's stand in the way:\n  " + "\n  ".join(diff.conflicts),
            "remove or rename them (each line says why); objects podspec did not make: --adopt replaces such pods "
            "and containers and uses such volumes as they are; objects another source applied: use another --project, "
            "or pass --force-conflicts to take them over",
        )
    steps: list[Step] = [
        Step(StepKind.CREATE_SECRET, s.name, s.cause, labels=s.labels, data=s.data)
        for s in diff.secrets if s.action is Action.CREATE
    ]
    for v in diff.volumes:
        if v.action is Action.CREATE:
            steps.append(
                Step(StepKind.CREATE_VOLUME, v.name, v.cause, labels=_sorted(
                    L.for_empty_dir(diff.project, v.empty_dir_of) if v.empty_dir_of
                    else {**dict(v.labels), **L.for_volume(diff.project)}  # podspec's own labels win
                ))
            )
    network = diff.network
    steps += _network_first(diff.project, network)
    # Pods that leave go first, one step at a time, so that what they free (host ports, names)
    # is free before any other pod is created; the other pods each get a lane.
    leaving = [p for p in diff.pods if p.action is Action.REMOVE]
    for p in leaving:
        steps += _pod_steps(diff.project, p)
    names = network.names if network is not None else {}
    net = network.network if network is not None else ""
    lanes: dict[str, list[Step]] = {}
    for p in diff.pods:
        if p.action is not Action.REMOVE:
            lanes[p.name] = _pod_steps(diff.project, p, net if p.name in names else "", names.get(p.name, ()))
    for pod_name in sorted(lanes):
        steps += [replace(step, lane=pod_name) for step in lanes[pod_name]]
    # One pod at a time, after the lanes: aardvark-dns 1.4 (Podman 4.3) was seen to lose the names of
    # pods reconnected side by side.
    for a in network.attachments if network is not None else ():
        steps += _attachment_steps(a)
    for v in diff.volumes:
        if v.action is Action.REMOVE:
            steps.append(Step(StepKind.REMOVE_VOLUME, v.name, v.cause))
    for s in diff.secrets:  # last: after the containers that read them were removed or recreated
        if s.action is Action.REMOVE:
            steps.append(Step(StepKind.REMOVE_SECRET, s.name, s.cause))
    steps += _network_last(diff.project, network)
    if diff.origin:  # every object created carries the source of the manifests
        steps = [replace(step, labels=_sorted({**dict(step.labels), L.ORIGIN: diff.origin})) if step.kind in _CREATES else step
                 for step in steps]
    return Plan(project=diff.project, steps=tuple(steps))


_CREATES = frozenset({StepKind.CREATE_VOLUME, StepKind.CREATE_POD, StepKind.CREATE_CONTAINER, StepKind.CREATE_SECRET,
                      StepKind.CREATE_NETWORK})


def _network_first(project: str, network: NetworkChanges | None) -> list[Step]:
    """The project network before the pods that join it; the names record removed before any pod's
    names change (see reconcile/network.py)."""
    steps: list[Step] = []
    if network is None:
        return steps
    if network.diff is not None and network.diff.action is Action.CREATE:
        steps.append(Step(StepKind.CREATE_NETWORK, network.diff.name, network.diff.cause, labels=network.diff.labels,
                          subnet=network.diff.subnet))
    removing = network.diff is not None and network.diff.action is Action.REMOVE
    if network.record_exists and ((network.record is not None and not network.record_holds) or removing):
        steps.append(Step(StepKind.REMOVE_VOLUME, names_volume(project),
                          "the names record is written again after the last change of the pods on the network" if not removing
                          else "the project's names record goes with its network"))
    return steps


def _network_last(project: str, network: NetworkChanges | None) -> list[Step]:
    steps: list[Step] = []
    if network is None:
        return steps
    if network.record is not None and network.record_exists and network.record_holds:
        steps.append(Step(StepKind.REMOVE_VOLUME, names_volume(project),
                          "the names record is replaced after the last change (it held true until then)"))
    if network.record is not None:
        steps.append(Step(StepKind.CREATE_VOLUME, names_volume(project), "record each pod's names on the project network",
                          labels=_sorted({**L.for_volume(project), L.NAMES: network.record.text()})))
    if network.diff is not None and network.diff.action is Action.REMOVE:
        steps.append(Step(StepKind.REMOVE_NETWORK, network.diff.name, network.diff.cause))
    return steps


def _attachment_steps(a: Attachment) -> list[Step]:
    names = f"names: {', '.join(a.names)}"
    if a.action is AttachAction.CONNECT:
        return [Step(StepKind.CONNECT_NETWORK, a.infra, f"{a.cause}; {names}", network=a.network, aliases=a.names,
                     pod_name=a.pod)]
    if a.action is AttachAction.RECONNECT:
        return [Step(StepKind.DISCONNECT_NETWORK, a.infra, a.cause, network=a.network, pod_name=a.pod),
                Step(StepKind.CONNECT_NETWORK, a.infra, f"{a.cause}; {names}", network=a.network, aliases=a.names,
                     pod_name=a.pod)]
    return [Step(StepKind.DISCONNECT_NETWORK, a.infra, a.cause, network=a.network, pod_name=a.pod)]


def _sorted(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _find(pod: Pod, intent: ContainerIntent) -> Container:
    group = pod.init_containers if intent.role is Role.INIT else pod.containers
    return next(c for c in group if c.name == intent.name)


def _create_container(project: str, p: PodDiff, c: ContainerDiff, cause: str) -> list[Step]:
    """Create the container; then make the sub-path directories its named volumes must have."""
    assert p.pod is not None and c.intent is not None
    container = _find(p.pod, c.intent)
    return [
        Step(
            StepKind.CREATE_CONTAINER,
            c.name,
            cause,
            pod=p.pod,
            container=container,
            role=c.intent.role,
            labels=_sorted(container_labels(project, p.name, c.intent)),
            pod_name=p.name,
        ),
        *_sub_path_steps(p.pod, container, c.name),
    ]


def _sub_path_steps(pod: Pod, container: Container, name: str) -> list[Step]:
    """A subPath of a named volume (claim or emptyDir) must exist before the container starts:
    Podman 5 refuses to start it otherwise, and Kubernetes creates it. One step per mount, after
    the container is created (the directory is made through it) and before anything starts it;
    an existing directory is left exactly as it is. (Podman before 5.0 is refused earlier: it
    ignores subPath on named volumes.)"""
    volumes = {v.name: v for v in pod.volumes}
    steps = []
    for m in container.volume_mounts:
        volume = volumes.get(m.name)
        if not m.sub_path or volume is None or volume.kind not in (VolumeKind.CLAIM, VolumeKind.EMPTY_DIR):
            continue
        source = volume.claim_name if volume.kind is VolumeKind.CLAIM else empty_dir_volume(pod.name, volume.name)
        steps.append(Step(
            StepKind.CREATE_SUB_PATH, name,
            f"subPath {m.sub_path!r} of volume {source}: made when missing, as Kubernetes does",
            pod=pod, container=container, path=m.mount_path.rstrip("/") + "/" + m.sub_path.strip("/"),
            pod_name=pod.name,
        ))
    return steps


HOST_PATH_CREATED = {
    "DirectoryOrCreate": "made with its missing parents, mode 0755",
    "FileOrCreate": "made empty, mode 0644 (its directory must exist)",
}


def _host_path_steps(pod: Pod, containers: list[Container]) -> list[Step]:
    """hostPath volumes of type DirectoryOrCreate / FileOrCreate that these containers mount: made on
    the Podman host when missing, before the container that mounts them is created (Podman refuses
    a bind mount of a missing path), as `podman kube play` makes them when it plays the pod. A path
    that exists is not touched."""
    mounted = {m.name for c in containers for m in c.volume_mounts}
    return [Step(StepKind.CREATE_HOST_PATH, v.host_path,
                 f"hostPath {v.host_path_type} of volume {v.name} (pod {pod.name}): {HOST_PATH_CREATED[v.host_path_type]} "
                 "if missing, as podman kube play does; an existing path is left as it is",
                 pod_name=pod.name, host_path_type=v.host_path_type, path=v.host_path)
            for v in pod.volumes if v.kind is VolumeKind.HOST_PATH and v.host_path_type in HOST_PATH_CREATE_TYPES
            and v.name in mounted]


def _new_pod_steps(project: str, p: PodDiff, cause: str, network: str = "", names: tuple[str, ...] = ()) -> list[Step]:
    assert p.pod is not None and p.intent is not None
    labels = pod_labels(project, p.intent, p.pod.workload)
    steps = _host_path_steps(p.pod, list(p.pod.all_containers()))
    steps.append(Step(StepKind.CREATE_POD, p.name, cause, pod=p.pod, labels=_sorted(labels), network=network,
                      aliases=names))
    for c in p.containers:
        if c.action is Action.CREATE:
            steps += _create_container(project, p, c, f"part of {cause}")
    steps.append(Step(StepKind.START_POD, p.name, f"start the {cause}"))
    return steps


def _pod_steps(project: str, p: PodDiff, network: str = "", names: tuple[str, ...] = ()) -> list[Step]:
    if p.action is Action.CREATE:
        strays = [
            Step(StepKind.REMOVE_CONTAINER, c.name, c.cause, timeout=p.stop_timeout, pod_name=p.name)
            for c in p.containers
            if c.action is Action.REMOVE
        ]
        return strays + _new_pod_steps(project, p, "new pod" if p.cause in ("", "not on the host") else f"new pod ({p.cause})",
                                       network, names)
    if p.action is Action.REPLACE:
        return [
            Step(StepKind.STOP_POD, p.name, f"replace: {p.cause}", timeout=p.stop_timeout),
            Step(StepKind.REMOVE_POD, p.name, "replace: volumes are kept"),
            *_new_pod_steps(project, p, "replaced pod", network, names),
        ]
    if p.action is Action.REMOVE:
        return [
            Step(StepKind.STOP_POD, p.name, p.cause, timeout=p.stop_timeout),
            Step(StepKind.REMOVE_POD, p.name, f"{p.cause}; volumes are kept"),
        ]
    # The pod stays: change its containers, then start what must run.
    assert p.pod is not None or not any(c.action in (Action.CREATE, Action.RECREATE) for c in p.containers)
    steps: list[Step] = _host_path_steps(p.pod, [_find(p.pod, c.intent) for c in p.containers if c.intent is not None
                                                 and c.action in (Action.CREATE, Action.RECREATE)]) if p.pod else []
    start_each = p.running and p.action is not Action.START
    for c in p.containers:
        if c.action is Action.REMOVE:
            steps.append(Step(StepKind.REMOVE_CONTAINER, c.name, c.cause, timeout=p.stop_timeout, pod_name=p.name))
        elif c.action is Action.RECREATE:
            steps.append(Step(StepKind.REMOVE_CONTAINER, c.name, f"recreate: {c.cause}", timeout=p.stop_timeout,
                              pod_name=p.name))
            steps += _create_container(project, p, c, f"recreate: {c.cause}")
            if start_each:
                steps.append(Step(StepKind.START_CONTAINER, c.name, f"recreate: {c.cause}", pod_name=p.name))
        elif c.action is Action.CREATE:
            steps += _create_container(project, p, c, c.cause)
            if start_each:
                steps.append(Step(StepKind.START_CONTAINER, c.name, c.cause, pod_name=p.name))
        elif c.action is Action.START and start_each:
            steps.append(Step(StepKind.START_CONTAINER, c.name, c.cause, pod_name=p.name))
    if p.action is Action.START:
        steps.append(Step(StepKind.START_POD, p.name, p.cause))
    return steps
