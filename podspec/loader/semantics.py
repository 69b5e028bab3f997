"""Semantic checks: what a schema cannot say, over the built models of every file at once.

- pod names unique across all files; PersistentVolumeClaim names unique;
- container names unique within a pod (init containers included), and the Podman container
  names `<pod>-<container>` unique across pods;
- volume names unique within a pod; every volumeMount names a declared volume; mount paths
  unique within a container;
- env var names unique within a container (a later duplicate is an error: Kubernetes keeps the
  last one silently, which hides mistakes);
- resource requests not above limits;
- no pod label or annotation, nor PersistentVolumeClaim label, under podspec's own `io.podspec.`
  prefix (its ownership labels:
  a user's `io.podspec.managed-by` would pass for podspec's, or be overwritten by it);
- with hostNetwork, a hostPort equals its containerPort;
- no two pods, containers or port entries claim the same hostIP/hostPort/protocol (hostIP ""
  means every address and clashes with any address on that port and protocol; with hostNetwork
  the containerPort itself is taken on the host).

Each problem points at the later of two clashing nodes, and its hint names the first.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable

from podspec.errors import Origin, Problem
from podspec.model import ConfigMap, Container, FieldPath, Pod, Protocol, Resources, Secret, VolumeClaim, VolumeKind, dotted
from podspec.names import container_name, copy_of, empty_dir_volume, other_name, reserved_volume

if TYPE_CHECKING:
    from podspec.model import AbsentPod

# podspec's ownership labels (podspec.labels.PREFIX; kept here so the loader does not import them).
RESERVED_PREFIX = "io.podspec."


def check(
    pods: Iterable[Pod], claims: Iterable[VolumeClaim], config_maps: Iterable[ConfigMap] = (),
    secrets: Iterable[Secret] = (), absent: Iterable[AbsentPod] = (),
) -> list[Problem]:
    """Every semantic problem of the whole desired state."""
    pods, claims = list(pods), list(claims)
    problems: list[Problem] = []
    problems += _unique_objects([*pods, *absent], "pod")
    problems += _unique_objects(claims, "PersistentVolumeClaim")
    problems += _unique_objects(list(config_maps), "ConfigMap")
    problems += _unique_objects(list(secrets), "Secret")
    problems += _unique_container_names(pods + _surge_copies(pods))
    problems += _surge_names(pods, [*pods, *absent])
    for pod in pods:
        problems += _pod(pod)
    for claim in claims:
        problems += _metadata(claim.labels, (), claim.locations.of, claim.locations.file)
    sources: list[ConfigMap | Secret] = [*config_maps, *secrets]
    for source in sources:
        problems += _metadata(source.labels, (), source.locations.of, source.locations.file)
    problems += _host_ports(pods)
    problems += _empty_dir_names(pods, claims)
    problems += _reserved_volumes(pods, claims)
    return problems


def _empty_dir_names(pods: list[Pod], claims: list[VolumeClaim]) -> list[Problem]:
    """A pod's emptyDir is the Podman volume `<pod>_<volume>`; a claim (Podman volume names may hold
    `_`) must not take that name."""
    wanted = {c.name for c in claims} | {name for pod in pods for name in pod.claim_names()}
    problems = []
    for pod in pods:
        for i, volume in enumerate(pod.volumes):
            name = empty_dir_volume(pod.name, volume.name)
            if volume.kind is VolumeKind.EMPTY_DIR and not volume.medium and name in wanted:
                problems.append(_problem(
                    pod, ("spec", "volumes", i, "name"),
                    f"the emptyDir's Podman volume {name} has the name of a persistentVolumeClaim",
                    "rename the volume or the claim",
                ))
    return problems


def secret_references(pods: Iterable[Pod]) -> list[Problem]:
    """Warnings: each `$(VAR)` in a container's command, args or env values that names a variable
    whose value is a Secret's (or an env value that holds one). podspec expands the others as
    Kubernetes does (expansion.py); these it leaves as written: a Secret's value is never put on
    a command line nor in a plain env value, where `podman inspect` shows it."""
    from podspec.expansion import expand_container

    warnings = []
    for pod in pods:
        for field, containers in (("initContainers", pod.init_containers), ("containers", pod.containers)):
            for i, c in enumerate(containers):
                for place, name in expand_container(c).withheld:
                    warnings.append(_problem(
                        pod, ("spec", field, i, *place),
                        f"$({name}) refers to {name}, whose value comes from a Secret: podspec never puts a Secret's "
                        "value on the command line or in a plain env value (podman inspect shows them), so it is "
                        "not expanded and the container gets the text $(...) as written (Kubernetes would expand it)",
                        f"read the variable in a shell instead: command: [sh, -c, 'exec app --password=\"${name}\"']; "
                        "--strict makes this an error",
                    ))
    return warnings


def _reserved_volumes(pods: list[Pod], claims: list[VolumeClaim]) -> list[Problem]:
    """No claim, nor volume a pod mounts (a claimName, a hostPath volume name, an emptyDir's or
    cluster storage's volume), may take a name podspec keeps for its own objects (names.reserved_volume)."""
    problems = []

    def refused(name: str, what: str) -> tuple[str, str]:
        return (f"volume {name} would take a name podspec keeps for {what}",
                "rename it; no volume name may begin with podspec_lock_, podspec-names., podspec-stopped., "
                "podspec-restarts. or podspec-history")

    for claim in claims:
        if what := reserved_volume(claim.name):
            problems.append(_problem(claim, ("metadata", "name"), *refused(claim.name, what)))
    for pod in pods:
        for i, volume in enumerate(pod.volumes):
            if volume.kind is VolumeKind.CLAIM:
                name = volume.claim_name
            elif volume.kind is VolumeKind.EMPTY_DIR and not volume.medium:
                name = empty_dir_volume(pod.name, volume.name)
            else:
                continue
            if what := reserved_volume(name):
                problems.append(_problem(pod, ("spec", "volumes", i), *refused(name, what)))
    return problems


def _problem(pod_or_claim: Pod | VolumeClaim, path: FieldPath, message: str, hint: str = "") -> Problem:
    return Problem(pod_or_claim.locations.of(path), pod_or_claim.locations.shown(path), message, hint)


def _unique_objects(objects: list, what: str) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, Origin] = {}
    for obj in objects:  # in the order read
        origin = obj.locations.of(("metadata", "name"))
        if obj.name in first:
            problems.append(Problem(
                origin, "metadata.name", f"{what} {obj.name} is defined twice",
                f"first defined at {first[obj.name]}; rename or remove one",
            ))
        else:
            first[obj.name] = origin
    return problems


def _containers(pod: Pod) -> Iterable[tuple[FieldPath, Container]]:
    for i, container in enumerate(pod.init_containers):
        yield ("spec", "initContainers", i), container
    for i, container in enumerate(pod.containers):
        yield ("spec", "containers", i), container


def _unique_container_names(pods: list[Pod]) -> list[Problem]:
    """`<pod>-<container>` is the Podman container name; pods a-b/c and a/b-c would collide."""
    problems: list[Problem] = []
    first: dict[str, tuple[Pod, FieldPath]] = {}
    for pod in pods:  # in the order read
        seen_in_pod: set[str] = set()
        for path, container in _containers(pod):
            if container.name in seen_in_pod:
                continue  # reported by _pod
            seen_in_pod.add(container.name)
            full = container_name(pod.name, container.name)
            if full in first and first[full][0].name != pod.name:
                other, other_path = first[full]
                problems.append(_problem(
                    pod, path + ("name",), f"the Podman container name {full} is also used by pod {other.name}",
                    f"see {other.locations.of(other_path + ('name',))}; rename a pod or a container",
                ))
            first.setdefault(full, (pod, path))
    return problems


def _surge_copies(pods: list[Pod]) -> list[Pod]:
    """A Deployment's copies under the other Podman name a rollout starts them under (names.py)."""
    return [replace(p, name=other_name(p.name, p.workload)) for p in pods
            if p.rollout is not None and p.rollout.surge and copy_of(p.name, p.workload)]


def _surge_names(pods: list[Pod], named: list) -> list[Problem]:
    """Another pod may not have the name a Deployment's copy takes during a rollout."""
    taken = {p.name: p for p in _surge_copies(pods)}
    return [Problem(obj.locations.of(("metadata", "name")), "metadata.name",
                    f"pod {obj.name} has the name {taken[obj.name].workload}'s copy {copy_of(obj.name, taken[obj.name].workload)} "
                    "runs under during a rollout (a new version starts beside the old one under it)",
                    "rename the pod, or the Deployment")
            for obj in named if obj.name in taken]


def _requests_within_limits(pod: Pod, resources: Resources, path: FieldPath) -> list[Problem]:
    """A container's or the pod's requests are not above their limits."""
    problems = []
    for name, request, limit in (
        ("cpu", resources.cpu_request_millis, resources.cpu_limit_millis),
        ("memory", resources.memory_request_bytes, resources.memory_limit_bytes),
    ):
        if request is not None and limit is not None and request > limit:
            problems.append(_problem(
                pod, path + ("resources", "requests", name), f"{name} request is above its limit",
                "a request must be less than or equal to the limit",
            ))
    return problems


def _pod(pod: Pod) -> list[Problem]:
    problems: list[Problem] = []
    problems += _metadata(pod.labels, pod.annotations, pod.locations.of, pod.locations.file)
    problems += _requests_within_limits(pod, pod.resources, ("spec",))
    names: dict[str, FieldPath] = {}
    for path, container in _containers(pod):
        if container.name in names:
            problems.append(_problem(
                pod, path + ("name",), f"container name {container.name} is used twice in pod {pod.name}",
                f"first used at {pod.locations.of(names[container.name] + ('name',))}; "
                "init containers and containers share one namespace",
            ))
        else:
            names[container.name] = path
    volumes: dict[str, int] = {}
    for i, volume in enumerate(pod.volumes):
        if volume.name in volumes:
            problems.append(_problem(
                pod, ("spec", "volumes", i, "name"), f"volume name {volume.name} is declared twice",
                f"first declared at {pod.locations.of(('spec', 'volumes', volumes[volume.name], 'name'))}",
            ))
        else:
            volumes[volume.name] = i
    for path, container in _containers(pod):
        problems += _container(pod, path, container, sorted(volumes))
    return problems


def _container(pod: Pod, path: FieldPath, container: Container, volumes: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    mount_paths: dict[str, int] = {}
    for i, mount in enumerate(container.volume_mounts):
        where = path + ("volumeMounts", i)
        if mount.name not in volumes:
            close = difflib.get_close_matches(mount.name, volumes, n=1) if len(mount.name) <= 100 else []
            if close:
                hint = f"did you mean {close[0]}?"
            elif volumes:
                hint = f"declared volumes: {', '.join(volumes)}"
            else:
                hint = "declare it under spec.volumes"
            problems.append(_problem(pod, where + ("name",), f"volume {mount.name} is not declared in spec.volumes", hint))
        if mount.mount_path in mount_paths:
            problems.append(_problem(
                pod, where + ("mountPath",), f"mountPath {mount.mount_path} is mounted twice in container {container.name}",
                f"first at {pod.locations.of(path + ('volumeMounts', mount_paths[mount.mount_path], 'mountPath'))}",
            ))
        else:
            mount_paths[mount.mount_path] = i
    env: dict[str, int] = {}
    for i, var in enumerate(container.env):
        if var.name in env:
            problems.append(_problem(
                pod, path + ("env", i, "name"), f"env var {var.name} is set twice in container {container.name}",
                f"first set at {pod.locations.of(path + ('env', env[var.name], 'name'))}; keep one",
            ))
        else:
            env[var.name] = i
    problems += _requests_within_limits(pod, container.resources, path)
    if pod.host_network:
        for i, port in enumerate(container.ports):
            if port.host_port is not None and port.host_port != port.container_port:
                problems.append(_problem(
                    pod, path + ("ports", i, "hostPort"),
                    f"with hostNetwork, hostPort {port.host_port} must equal containerPort {port.container_port}",
                    "omit hostPort; with hostNetwork the containerPort is opened on the host",
                ))
    return problems


def metadata_problems(labels: tuple, annotations: tuple, where, file: str) -> list[Problem]:
    """Labels and annotations of any object (also a workload's own, which no pod carries)."""
    return _metadata(labels, annotations, where, file)


def _metadata(labels: tuple, annotations: tuple, where, file: str) -> list[Problem]:
    """podspec's own prefix is reserved. (Keys and values Kubernetes would refuse, Podman takes:
    portable.py warns about those.)"""
    problems: list[Problem] = []
    for group, pairs in (("labels", labels), ("annotations", annotations)):
        for key, _ in pairs:
            path = ("metadata", group, key)
            if key.startswith(RESERVED_PREFIX):
                problems.append(Problem(
                    where(path), dotted(path),
                    f"{group[:-1]} {key}: the {RESERVED_PREFIX} prefix is reserved for podspec's ownership labels",
                    "rename it",
                ))
    return problems


@dataclass(frozen=True)
class _Claim:
    """A host port one container publishes, and where the manifests say so."""

    pod: Pod
    container: str
    path: FieldPath
    host_ip: str
    host_port: int
    protocol: Protocol

    def where(self) -> Origin:
        return self.pod.locations.of(self.path)


def _host_ports(pods: list[Pod]) -> list[Problem]:
    by_port: dict[tuple[int, Protocol], list[_Claim]] = {}
    for pod in pods:  # in the order read
        for path, container in _containers(pod):
            for i, port in enumerate(container.ports):
                host_port = port.host_port if port.host_port is not None else (port.container_port if pod.host_network else None)
                if host_port is None:
                    continue
                key = "hostPort" if port.host_port is not None else "containerPort"
                claim = _Claim(pod, container.name, path + ("ports", i, key), port.host_ip, host_port, port.protocol)
                by_port.setdefault((host_port, port.protocol), []).append(claim)
    problems: list[Problem] = []
    for (host_port, protocol), claims in sorted(by_port.items(), key=lambda item: (item[0][0], item[0][1].value)):
        for n, claim in enumerate(claims):
            for earlier in claims[:n]:
                if claim.host_ip and earlier.host_ip and claim.host_ip != earlier.host_ip:
                    continue
                address = f"{claim.host_ip or '*'}:{host_port}/{protocol.value}"
                problems.append(Problem(
                    claim.where(), dotted(claim.path),
                    f"host port {address} is already claimed by pod {earlier.pod.name}, container {earlier.container}",
                    f"see {earlier.where()}; use another hostPort or hostIP",
                ))
                break
    return problems
