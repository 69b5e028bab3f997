"""Intent: the canonical, JSON-able form of what a pod and each of its containers should be.

The desired model becomes intent here; the same intent is stored in labels on the objects podspec
creates (the last-applied spec, as kubectl's annotation), so that desired and last-applied compare
as equals and a field removed from a manifest shows as a change. Values equal to their default are
left out, so that a field added to podspec later does not change every hash.

The pod intent holds only what lives on the pod itself (its infra container) or cannot change in a
running pod; each container's intent holds everything that recreating that container changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from podspec import labels as L
from podspec.labels import Role
from podspec.model import (
    AutoUpdate,
    Container,
    InitContainerType,
    KeyRef,
    Pod,
    PullPolicy,
    Resources,
    SourceKind,
    VolumeKind,
    container_annotations,
)
from podspec.names import empty_dir_volume, file_note, mount_source, podman_secret_name, port_text
from podspec.probe_record import probe_spec
from podspec.secrets import stored_env_value

SpecDict = dict[str, Any]


@dataclass(frozen=True)
class ContainerIntent:
    """A container's intent: its canonical spec (kept in its last-applied label) and that spec's hash."""

    name: str  # the manifest's name; the Podman container is `<pod>-<name>`
    role: Role
    spec: SpecDict
    hash: str
    image: str
    pull_policy: PullPolicy
    refs: tuple[KeyRef, ...] = ()  # the ConfigMap and Secret keys it reads from Podman secrets
    auto_update: AutoUpdate | None = None  # io.containers.autoupdate: its image moving is a change


@dataclass(frozen=True)
class PodIntent:
    """A pod's intent: its own canonical spec and hash, and its containers' intents."""

    name: str
    spec: SpecDict
    hash: str
    containers: tuple[ContainerIntent, ...]  # init containers first, in manifest order
    init_type: InitContainerType
    volumes: tuple[str, ...]  # named volumes (claims) the pod mounts

    def container(self, name: str) -> ContainerIntent | None:
        return next((c for c in self.containers if c.name == name), None)


def empty_dir_volumes(pod: Pod) -> tuple[str, ...]:
    """The Podman volumes behind a pod's emptyDirs (a `medium: Memory` one is a tmpfs, no volume)."""
    return tuple(sorted(
        empty_dir_volume(pod.name, v.name) for v in pod.volumes if v.kind is VolumeKind.EMPTY_DIR and not v.medium
    ))


def spec_hash(spec: SpecDict) -> str:
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()[:16]


def canonical_json(spec: SpecDict) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _pruned(spec: dict) -> dict:
    """Drop keys whose value is a default (None, "", False, empty)."""
    return {k: v for k, v in spec.items() if v not in (None, "", False, (), [], {})}


def pod_ports(pod: Pod) -> list[str]:
    return sorted(
        {
            port_text(p.host_ip, p.host_port, p.container_port, p.protocol.value)
            for c in pod.all_containers()
            for p in c.ports
            if p.host_port is not None
        }
    )


# ------------------------------------------------------------------ ConfigMaps and Secrets


def container_refs(pod: Pod, container: Container) -> tuple[KeyRef, ...]:
    """Every ConfigMap and Secret key the container consumes: env, envFrom and mounted files;
    sorted, without duplicates. Absent optional keys are left out."""
    refs: set[KeyRef] = set()
    for var in container.env:
        if var.ref is not None:
            refs.add(var.ref)
    for source in container.env_from:
        refs.update(source.entries)
    volumes = {v.name: v for v in pod.volumes}
    for m in container.volume_mounts:
        volume = volumes.get(m.name)
        if volume is not None:
            refs.update(f.ref for _, f in volume.files_at(m.sub_path))
    return tuple(sorted((_plain(r) for r in refs if r.present), key=lambda r: (r.kind.value, r.source, r.key)))


def _plain(ref: KeyRef) -> KeyRef:
    """The reference without how it was written (optional) or the ConfigMap's value."""
    return KeyRef(ref.kind, ref.source, ref.key, digest=ref.digest, host=ref.host)


def secret_refs(pod: Pod, container: Container) -> tuple[KeyRef, ...]:
    """The keys the container reads from Podman secrets: every Secret key it consumes, and the
    ConfigMap keys it mounts as files (env values of a ConfigMap are plain env, as kube play sets them)."""
    volumes = {v.name: v for v in pod.volumes}
    mounted = {
        _plain(f.ref)
        for m in container.volume_mounts
        if m.name in volumes
        for _, f in volumes[m.name].files_at(m.sub_path)
    }
    return tuple(r for r in container_refs(pod, container) if r.kind is SourceKind.SECRET or r.host or r in mounted)


def _sources_spec(pod: Pod, container: Container) -> dict[str, dict[str, str]]:
    """{"configMaps": {name: digest}, "secrets": {name: digest}}: one digest per ConfigMap or
    Secret over the keys the container consumes and their values, so that a changed key
    recreates exactly the containers that read it. An optional source that is absent is noted, so
    that its arrival recreates them too."""
    found: dict[str, dict[str, list[str]]] = {"configMaps": {}, "secrets": {}, "downwardAPI": {}}
    group = {SourceKind.CONFIG_MAP: "configMaps", SourceKind.SECRET: "secrets", SourceKind.DOWNWARD_API: "downwardAPI"}
    for ref in container_refs(pod, container):
        found[group[ref.kind]].setdefault(ref.source, []).append(f"{ref.key}={ref.digest}")
    volumes = {v.name: v for v in pod.volumes}
    optional = [(s.kind, s.source) for s in container.env_from if s.optional and not s.entries]
    optional += [(v.ref.kind, v.ref.source) for v in container.env if v.ref is not None and not v.ref.present]
    for m in container.volume_mounts:
        volume = volumes.get(m.name)
        if volume is not None and volume.kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET) and volume.optional and not volume.files:
            kind = SourceKind.CONFIG_MAP if volume.kind is VolumeKind.CONFIG_MAP else SourceKind.SECRET
            optional.append((kind, volume.source))
    for kind, source in optional:
        found[group[kind]].setdefault(source, [])
    out: dict[str, dict[str, str]] = {}
    for name, sources in found.items():
        if sources:
            out[name] = {
                source: "sha256:" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16] if keys else "(absent)"
                for source, keys in sorted(sources.items())
            }
    return out


def describe_ref(ref: KeyRef) -> str:
    return f"{ref.kind.value} {ref.source} key {ref.key}"


def container_spec(pod: Pod, container: Container) -> SpecDict:
    volumes = {v.name: v for v in pod.volumes}
    mounts = {}
    for m in container.volume_mounts:
        volume = volumes.get(m.name)
        files = volume.files_at(m.sub_path) if volume is not None and volume.files else ()
        mounts[m.mount_path] = _pruned(
            {
                "volume": m.name,
                "source": mount_source(volume) if volume else "",
                "readOnly": m.read_only,
                "subPath": m.sub_path,
                "relabel": m.relabel,
                "files": [file_note(volume, path, f) for path, f in files] if volume is not None else [],
            }
        )
    r = container.resources
    s = container.security
    return _pruned(
        {
            "image": container.image,
            "command": list(container.command),
            "args": list(container.args),
            "workingDir": container.working_dir,
            "env": {
                name: stored_env_value(name, value) if isinstance(value, str) else f"({describe_ref(value)})"
                for name, value in container.effective_env()
            },
            # Which env values come from a ConfigMap (env holds their values): for export.
            "configMapEnv": {
                name: describe_ref(value) for name, value in container.env_sources()
                if isinstance(value, KeyRef) and value.kind is SourceKind.CONFIG_MAP
            },
            "ports": sorted(
                port_text(p.host_ip, p.host_port, p.container_port, p.protocol.value) for p in container.ports
            ),
            "volumeMounts": mounts,
            "resources": _resources_spec(r),
            "securityContext": _pruned(
                {
                    "privileged": s.privileged,
                    "capabilitiesAdd": list(s.capabilities_add),
                    "capabilitiesDrop": list(s.capabilities_drop),
                    "runAsUser": s.run_as_user,
                    "runAsGroup": s.run_as_group,
                    "runAsNonRoot": s.run_as_non_root,
                    "readOnlyRootFilesystem": s.read_only_root_filesystem,
                    "allowPrivilegeEscalation": s.allow_privilege_escalation,
                    "seccompProfile": s.seccomp_profile,
                    "procMount": s.proc_mount,
                    "appArmorProfile": s.app_armor_profile,
                    "seLinuxOptions": list(s.se_linux_options),
                }
            ),
            "livenessProbe": probe_spec(container.liveness_probe),
            "readinessProbe": probe_spec(container.readiness_probe),
            "startupProbe": probe_spec(container.startup_probe),
            "stopSignal": container.stop_signal,
            "stdin": container.stdin,
            "tty": container.tty,
            "restartPolicy": pod.restart_policy.value,
            "serviceProxy": container.service_proxy,
            "terminationGracePeriodSeconds": pod.termination_grace_period_seconds,
            "annotations": container_annotations(pod, container.name),
            # io.podman.annotations.kube.image.volumes.mount: path -> image (reconcile/imagemounts.py)
            "imageMounts": {m.path: m.image for m in container.image_mounts},
            "sysctls": dict(pod.sysctls),
            "supplementalGroups": list(pod.supplemental_groups),
            "fsGroup": pod.fs_group,
            **_sources_spec(pod, container),
        }
    )


def _resources_spec(r: Resources) -> SpecDict:
    return _pruned({
        "cpuLimitMillis": r.cpu_limit_millis,
        "memoryLimitBytes": r.memory_limit_bytes,
        "cpuRequestMillis": r.cpu_request_millis,
        "memoryRequestBytes": r.memory_request_bytes,
    })


def pod_spec(pod: Pod) -> SpecDict:
    """What lives on the pod (its infra container) or cannot change in a running pod."""
    return _pruned(
        {
            "ports": pod_ports(pod),
            "hostname": pod.hostname,
            "hostNetwork": pod.host_network,
            "hostPID": pod.host_pid,
            "hostIPC": pod.host_ipc,
            "hostAliases": sorted(f"{a.ip} {' '.join(a.hostnames)}" for a in pod.host_aliases),
            "labels": dict(pod.labels),
            "initContainerType": pod.init_container_type.value if pod.init_containers else "",
            "initContainers": {c.name: container_spec(pod, c) for c in pod.init_containers},
            "dnsNameservers": list(pod.dns_nameservers),
            "dnsSearches": list(pod.dns_searches),
            "dnsOptions": list(pod.dns_options),
            "shareProcessNamespace": pod.share_process_namespace,
            "privateUsers": not pod.host_users,
            "resources": _resources_spec(pod.resources),
        }
    )


def pod_intent(pod: Pod) -> PodIntent:
    spec = pod_spec(pod)
    containers = []
    for role, group in ((Role.INIT, pod.init_containers), (Role.CONTAINER, pod.containers)):
        for c in group:
            cspec = container_spec(pod, c)
            containers.append(
                ContainerIntent(
                    name=c.name, role=role, spec=cspec, hash=spec_hash(cspec), image=c.image, pull_policy=c.pull_policy,
                    refs=secret_refs(pod, c), auto_update=c.auto_update,
                )
            )
    return PodIntent(
        name=pod.name,
        spec=spec,
        hash=spec_hash(spec),
        containers=tuple(containers),
        init_type=pod.init_container_type,
        volumes=pod.claim_names(),
    )


# ------------------------------------------------------------------------- ownership labels


def pod_labels(project: str, intent: PodIntent, workload: str = "") -> dict[str, str]:
    """The pod's own labels and podspec's; `workload` (not intent: the Deployment a copy belongs to,
    so that copies beyond its replicas are found and removed)."""
    labels = dict(intent.spec.get("labels", {}))
    if workload:
        labels[L.WORKLOAD] = workload
    labels.update(
        {
            L.MANAGED_BY: L.MANAGER,
            L.PROJECT: project,
            L.POD: intent.name,
            L.HASH: intent.hash,
            L.LAST_APPLIED: canonical_json(intent.spec),
            L.INIT_TYPE: intent.init_type.value,
            L.CONTAINERS: ",".join(c.name for c in intent.containers),
        }
    )
    return labels


def container_labels(project: str, pod: str, intent: ContainerIntent) -> dict[str, str]:
    return {
        L.MANAGED_BY: L.MANAGER,
        L.PROJECT: project,
        L.POD: pod,
        L.CONTAINER: intent.name,
        L.ROLE: intent.role.value,
        L.HASH: intent.hash,
        L.LAST_APPLIED: canonical_json(intent.spec),
        L.PULL_POLICY: intent.pull_policy.value,
        **({L.SECRETS: ",".join(sorted({podman_secret_name(project, r) for r in intent.refs}))} if intent.refs else {}),
    }


def secret_labels(project: str, ref: KeyRef) -> dict[str, str]:
    """A Podman secret podspec makes: owned like every other object, and saying what it holds
    (never the value: the digest only)."""
    return {
        L.MANAGED_BY: L.MANAGER,
        L.PROJECT: project,
        L.SOURCE: f"{ref.kind.value}/{ref.source}",
        L.KEY: ref.key,
        L.DIGEST: ref.digest,
    }
