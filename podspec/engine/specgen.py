"""Desired pods and containers as Podman's REST create bodies (libpod SpecGenerator JSON).

Mirrors what `podman kube play` does with the same fields, so that a manifest behaves the same
under podspec: containers are named `<pod>-<container>`, ports go on the pod's infra container,
named volumes and bind mounts on each container that mounts them.
"""

from __future__ import annotations

from typing import Any

from podspec import labels as L
from podspec.labels import Role
from podspec.model import (
    FILE_VOLUMES,
    Container,
    KeyRef,
    Pod,
    Probe,
    Resources,
    SecurityContext,
    Volume,
    VolumeKind,
    VolumeMount,
    container_annotations,
    podman_capability,
    seccomp_file,
    signal_number,
    volumes_from_entries,
)
from podspec.names import PODMAN_RESTART, container_name, empty_dir_volume, podman_secret_name

NANOS = 1_000_000_000
HEALTH_ON_FAILURE_RESTART = 3  # libpod's HealthCheckOnFailureAction "restart" (4.3 and 5: none 1, kill 2, restart 3, stop 4)
CPU_PERIOD = 100_000


def pod_body(pod: Pod, labels: dict[str, str], network: str = "", aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    """The pod's create body; with `network`, the pod joins it (its infra container's attachment)
    under `aliases`, the pod's names there, instead of Podman's default network."""
    body: dict[str, Any] = {"name": pod.name, "labels": labels}
    if network and not pod.host_network:
        body["netns"] = {"nsmode": "bridge"}
        body["Networks"] = {network: {"aliases": list(aliases)}}
    ports = []
    for c in pod.all_containers():
        for p in c.ports:
            if p.host_port is None:
                continue
            ports.append(
                {
                    "container_port": p.container_port,
                    "host_port": p.host_port,
                    "host_ip": p.host_ip,
                    "protocol": p.protocol.value.lower(),
                }
            )
    # With the host's network the container ports are the host's ports already; Podman refuses
    # port mappings there (and `podman kube play` drops them too).
    if ports and not pod.host_network:
        body["portmappings"] = ports
    if pod.hostname:
        body["hostname"] = pod.hostname
    if pod.host_network:
        body["netns"] = {"nsmode": "host"}
    if pod.host_pid:
        body["pidns"] = {"nsmode": "host"}
    if pod.host_ipc:
        body["ipcns"] = {"nsmode": "host"}
    hosts = [f"{name}:{alias.ip}" for alias in pod.host_aliases for name in alias.hostnames]
    if hosts:
        body["hostadd"] = hosts
    body.update(_pod_dns(pod))
    body.update(_pod_namespaces(pod))
    body.update(_resources(pod.resources))  # pod-level: the pod's cgroup, shared by its containers
    return body


def _pod_dns(pod: Pod) -> dict[str, Any]:
    """dnsConfig on the infra container, as `podman kube play` sets it."""
    body: dict[str, Any] = {}
    if pod.dns_nameservers:
        body["dns_server"] = list(pod.dns_nameservers)
    if pod.dns_searches:
        body["dns_search"] = list(pod.dns_searches)
    if pod.dns_options:
        body["dns_option"] = list(pod.dns_options)
    return body


# What `podman kube play` shares in every pod; shareProcessNamespace adds pid.
KUBE_SHARED_NAMESPACES = ("ipc", "net", "uts")


def _pod_namespaces(pod: Pod) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if pod.share_process_namespace:
        body["shared_namespaces"] = [*KUBE_SHARED_NAMESPACES, "pid"]
    if not pod.host_users:
        body["userns"] = {"nsmode": "auto"}
    return body


def _memory_volume(m: VolumeMount, volume: Volume) -> dict[str, Any]:
    """An emptyDir with medium Memory: a tmpfs of sizeLimit (Podman's default size without one)."""
    options = ["rw", "nosuid", "nodev"]
    if volume.size_limit_bytes is not None:
        options.append(f"size={volume.size_limit_bytes}")
    return {"Type": "tmpfs", "Source": "tmpfs", "Destination": m.mount_path, "Options": options}


def _lifecycle_and_labels(container: Container) -> dict[str, Any]:
    """lifecycle.stopSignal and seLinuxOptions, as `podman kube play` applies them."""
    body: dict[str, Any] = {}
    if container.stop_signal:
        body["stop_signal"] = signal_number(container.stop_signal)  # the loader checked the name
    if container.security.se_linux_options:
        body["selinux_opts"] = list(container.security.se_linux_options)
    return body



def _healthcheck(probe: Probe) -> dict[str, Any]:
    """An exec probe as Podman's health check (Container.health_probe): what `podman ps` and
    `podman healthcheck run` show. podspec runs the probes itself (run/probes.py); httpGet and
    tcpSocket probes are made from outside the container and are no Podman health check."""
    test = ["CMD", *probe.command]
    return {
        "Test": test,
        "Interval": probe.period_seconds * NANOS,
        "Timeout": probe.timeout_seconds * NANOS,
        "Retries": probe.failure_threshold,
        "StartPeriod": probe.initial_delay_seconds * NANOS,
    }


def container_body(pod: Pod, container: Container, role: Role, labels: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": container_name(pod.name, container.name),
        "pod": pod.name,
        "image": container.image,
        "labels": labels,
        "stop_timeout": pod.termination_grace_period_seconds,
    }
    annotations = container_annotations(pod, container.name)
    if annotations:
        body["annotations"] = annotations  # as `podman kube play` does: the pod's, on each container
    # The project names the Podman secrets; it is the one on the container's labels.
    project = labels.get(L.PROJECT, "")
    body.update(_process(container, project))
    if role is Role.INIT:
        body["init_container_type"] = pod.init_container_type.value
    else:
        body["restart_policy"] = PODMAN_RESTART[pod.restart_policy]
    body.update(_mounts(pod, container))
    files = _secret_files(pod, container, project)
    if files:
        body["secrets"] = files
    body.update(_security(pod, container.security))
    body.update(_resources(container.resources))
    probe = container.health_probe()
    if probe is not None and role is Role.CONTAINER:
        body["healthconfig"] = _healthcheck(probe)
        if probe is container.liveness_probe:
            # Where Podman's health checks run (systemd timers), its --health-on-failure=restart
            # carries an exec liveness probe even with no podspec process running.
            body["health_check_on_failure_action"] = HEALTH_ON_FAILURE_RESTART
    body.update(_lifecycle_and_labels(container))
    shared = _volumes_from(pod, container)
    if shared:
        body["volumes_from"] = shared
    if container.stdin:
        body["stdin"] = True
    if container.tty:
        body["terminal"] = True
    return body


def _process(container: Container, project: str) -> dict[str, Any]:
    """What runs: entrypoint, command, working directory, environment.

    Plain values (ConfigMap values too, as kube play sets them) are env; a Secret's value is
    Podman's secret env, which Podman adds at start (and `podman inspect` masks from 5.3 on).
    `$(VAR)` in command, args and env values is expanded as Kubernetes expands it (expansion.py),
    except a Secret's variable."""
    from podspec.expansion import expand_container

    body: dict[str, Any] = {}
    process = expand_container(container)
    if process.command:
        body["entrypoint"] = list(process.command)
    if process.args:
        body["command"] = list(process.args)
    if container.working_dir:
        body["work_dir"] = container.working_dir
    env = process.env
    plain = {name: value for name, value in env if isinstance(value, str)}
    if plain:
        body["env"] = plain
    from_secrets = {name: podman_secret_name(project, value) for name, value in env if isinstance(value, KeyRef)}
    if from_secrets:
        body["secret_env"] = from_secrets
    return body


def _mounts(pod: Pod, container: Container) -> dict[str, Any]:
    """Named volumes (claims, and the pod's own volume for an emptyDir), bind mounts (hostPath) and
    image volumes."""
    volumes = {v.name: v for v in pod.volumes}
    named, mounts, image_volumes = [], [], []
    for m in _volume_mounts(pod, container):  # configMap and secret files: see _secret_files
        volume = volumes[m.name]
        options = ["ro"] if (m.read_only or volume.read_only) else []
        if m.relabel:
            options.append(m.relabel)
        if volume.kind is VolumeKind.IMAGE:
            # Read-only whatever the mount says, as on Kubernetes (and as `podman kube play` does).
            image_volume: dict[str, Any] = {"Source": volume.image, "Destination": m.mount_path, "ReadWrite": False}
            if m.sub_path:
                image_volume["subPath"] = m.sub_path
            image_volumes.append(image_volume)
            continue
        if volume.kind is VolumeKind.EMPTY_DIR and volume.medium == "Memory":
            mounts.append(_memory_volume(m, volume))
            continue
        if volume.kind is VolumeKind.HOST_PATH:
            source = volume.host_path + ("/" + m.sub_path if m.sub_path else "")
            mounts.append(
                {"Type": "bind", "Source": source, "Destination": m.mount_path, "Options": ["rbind", *options]}
            )
            continue
        # persistentVolumeClaim: the named volume; emptyDir: the pod's own volume (created with
        # podspec's labels before the pod, removed with it).
        name = volume.claim_name if volume.kind is VolumeKind.CLAIM else empty_dir_volume(pod.name, volume.name)
        entry: dict[str, Any] = {"Name": name, "Dest": m.mount_path, "Options": options}
        if m.sub_path:
            entry["SubPath"] = m.sub_path
        named.append(entry)
    # io.podman.annotations.kube.image.volumes.mount: each VOLUME path of the images, from that path
    # of the image, read-only (reconcile/imagemounts.py), as `podman kube play` mounts it
    image_volumes += [{"Source": m.image, "Destination": m.path, "ReadWrite": False, "subPath": m.path}
                      for m in container.image_mounts]
    body: dict[str, Any] = {}
    if named:
        body["volumes"] = named
    if mounts:
        body["mounts"] = mounts
    if image_volumes:
        body["image_volumes"] = image_volumes
    return body


def _volume_mounts(pod: Pod, container: Container) -> list[VolumeMount]:
    """The mounts of claims, emptyDirs and host paths (not of configMap and secret volumes)."""
    kinds = {v.name: v.kind for v in pod.volumes}
    return [m for m in container.volume_mounts if kinds[m.name] not in FILE_VOLUMES]


def _secret_files(pod: Pod, container: Container, project: str) -> list[dict[str, Any]]:
    """configMap and secret volumes: each file is a Podman secret mounted at its path with its
    mode, read-only, owned by root (group fsGroup when set), as the kubelet writes them."""
    volumes = {v.name: v for v in pod.volumes}
    files = []
    for m in container.volume_mounts:
        volume = volumes[m.name]
        if volume.kind not in FILE_VOLUMES:
            continue
        for path, f in volume.files_at(m.sub_path):
            target = f"{m.mount_path.rstrip('/')}/{path}" if path else m.mount_path
            files.append({"Source": podman_secret_name(project, f.ref), "Target": target,
                          "UID": 0, "GID": pod.fs_group or 0, "Mode": f.mode})
    return sorted(files, key=lambda f: f["Target"])


def _security(pod: Pod, s: SecurityContext) -> dict[str, Any]:
    """The container's securityContext, with the pod-level fields Podman sets per container."""
    body: dict[str, Any] = {}
    if s.privileged:
        body["privileged"] = True
    if s.capabilities_add:
        body["cap_add"] = [podman_capability(c) for c in s.capabilities_add]
    if s.capabilities_drop:
        body["cap_drop"] = [podman_capability(c) for c in s.capabilities_drop]
    body.update(_apparmor(s.app_armor_profile))
    if s.proc_mount == "Unmasked":
        body["unmask"] = ["ALL"]
    body.update(_identity(pod, s))
    if s.read_only_root_filesystem:
        body["read_only_filesystem"] = True
    if s.allow_privilege_escalation is False:
        body["no_new_privileges"] = True
    body.update(_seccomp(s.seccomp_profile))
    return body


def _apparmor(profile: str | None) -> dict[str, Any]:
    if profile == "Unconfined":
        return {"apparmor_profile": "unconfined"}
    if profile and profile.startswith("Localhost:"):
        return {"apparmor_profile": profile.split(":", 1)[1]}
    return {}


def _identity(pod: Pod, s: SecurityContext) -> dict[str, Any]:
    """Sysctls, supplemental groups (fsGroup among them) and the user to run as."""
    body: dict[str, Any] = {}
    if pod.sysctls:
        body["sysctl"] = dict(pod.sysctls)
    if pod.supplemental_groups or pod.fs_group is not None:
        groups = sorted(set(pod.supplemental_groups) | ({pod.fs_group} if pod.fs_group is not None else set()))
        body["groups"] = [str(g) for g in groups]
    if s.run_as_user is not None:
        body["user"] = str(s.run_as_user) + (f":{s.run_as_group}" if s.run_as_group is not None else "")
    return body


def _seccomp(profile: str | None) -> dict[str, Any]:
    if profile == "Unconfined":
        return {"seccomp_policy": "default", "seccomp_profile_path": "unconfined"}
    if profile and profile.startswith("Localhost:"):
        return {"seccomp_profile_path": seccomp_file(profile.split(":", 1)[1])}  # under the one root, never as given
    return {}


def _resources(r: Resources) -> dict[str, Any]:
    """Requests and limits as cgroup settings (CPU in CFS quota/period and shares)."""
    limits: dict[str, Any] = {}
    if r.memory_limit_bytes is not None:
        limits.setdefault("memory", {})["limit"] = r.memory_limit_bytes
    if r.memory_request_bytes is not None:
        limits.setdefault("memory", {})["reservation"] = r.memory_request_bytes
    if r.cpu_limit_millis is not None:
        limits.setdefault("cpu", {}).update({"quota": r.cpu_limit_millis * CPU_PERIOD // 1000, "period": CPU_PERIOD})
    if r.cpu_request_millis is not None:
        limits.setdefault("cpu", {})["shares"] = max(2, r.cpu_request_millis * 1024 // 1000)
    return {"resource_limits": limits} if limits else {}


def _volumes_from(pod: Pod, container: Container) -> list[str]:
    """Podman's --volumes-from of the container, from the pod's annotation as `podman kube play`
    reads it (loader/volumes_from.py checked it)."""
    return list(volumes_from_entries(pod, container.name))
