"""What rootless Podman cannot do, found before any change (pure).

    limits(desired, facts, readable) -> every problem, with its file:line:col and what to do instead

From the facts the engine read once (HostFacts: rootless or root, the unprivileged port start) and
which host paths the service's user can read. Root Podman has none of these limits: the result is
then empty.

- A host port below net.ipv4.ip_unprivileged_port_start (1024 unless lowered) cannot be published:
  rootless Podman's port forwarder binds it as the user.
- With hostNetwork, a container binds its containerPort on the host itself, as the user: the same
  limit applies to every containerPort. The host's network belongs to the host's user namespace,
  so NET_ADMIN, NET_RAW and NET_BIND_SERVICE added to such a container do nothing there either.
- A hostPath the user cannot read cannot be mounted (Podman mounts it as the user).
- Resource requests and limits need the cgroup controller (cpu, memory) delegated to the user: none
  is on cgroups v1, where Podman drops them with a warning ("Resource limits are not supported and
  ignored on cgroups V1 rootless systems"); on cgroups v2, those systemd delegates (`podman info`:
  cgroupControllers).
- Some capabilities are checked against the host's own user namespace, which a rootless container
  is never in: adding them is accepted by Podman and silently useless. They are refused here, each
  with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from podspec.errors import Problem
from podspec.model import Container, DesiredState, FieldPath, Pod, Resources, VolumeKind
from podspec.observed import HostFacts

# Capabilities the kernel checks in the initial user namespace (capable(), not ns_capable()): a
# container of rootless Podman, in a user namespace of the user's, never holds them for real.
ROOTLESS_CAPABILITIES: dict[str, str] = {
    "AUDIT_CONTROL": "the audit system answers only the host's user namespace",
    "AUDIT_READ": "the audit system answers only the host's user namespace",
    "BLOCK_SUSPEND": "blocking suspend is checked in the host's user namespace",
    "BPF": "loading BPF programs is checked in the host's user namespace",
    "IPC_LOCK": "locking memory beyond RLIMIT_MEMLOCK is checked in the host's user namespace",
    "LINUX_IMMUTABLE": "setting immutable and append-only flags is checked in the host's user namespace",
    "MAC_ADMIN": "security modules are configured from the host's user namespace only",
    "MAC_OVERRIDE": "security modules are configured from the host's user namespace only",
    "MKNOD": "device nodes can only be made from the host's user namespace",
    "PERFMON": "performance monitoring is checked in the host's user namespace",
    "SYS_MODULE": "kernel modules can only be loaded from the host's user namespace",
    "SYS_NICE": "raising priorities is checked in the host's user namespace",
    "SYS_PACCT": "process accounting is checked in the host's user namespace",
    "SYS_RAWIO": "raw I/O is checked in the host's user namespace",
    "SYS_RESOURCE": "raising hard resource limits is checked in the host's user namespace",
    "SYS_TIME": "the clock is the host's: setting it is checked in the host's user namespace",
    "SYS_TTY_CONFIG": "virtual terminals are the host's",
    "SYSLOG": "the kernel log is the host's",
    "WAKE_ALARM": "wake alarms are the host's",
}
# With hostNetwork, the network is the host's: these act on it only from its user namespace.
HOST_NETWORK_CAPABILITIES = ("NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW")
ROOT_PODMAN = "or apply these manifests with root Podman (sudo podspec ..., or --url unix:///run/podman/podman.sock)"


def limits(desired: DesiredState, facts: HostFacts, readable: Mapping[str, bool | None]) -> tuple[Problem, ...]:
    """Every rootless limit the manifests run into on this host, sorted by place; () for root Podman."""
    if not facts.rootless:
        return ()
    found: set[Problem] = set()
    for pod in desired.pods:
        found.update(_Pod(pod, facts, readable).problems())
    return tuple(sorted(found))


def host_paths(desired: DesiredState) -> tuple[str, ...]:
    """The hostPath directories and files the manifests mount (whose access the engine reads)."""
    return tuple(sorted({v.host_path for p in desired.pods for v in p.volumes if v.kind is VolumeKind.HOST_PATH}))


def needs_check(desired: DesiredState, port_start: int) -> bool:
    """Whether anything in the manifests could meet a rootless limit, the port start being
    `port_start` (else the host need not be asked)."""
    return any(_could_meet(p, port_start) for p in desired.pods)


def _could_meet(pod: Pod, port_start: int) -> bool:
    if pod.host_network or any(v.kind is VolumeKind.HOST_PATH for v in pod.volumes):
        return True
    for c in pod.all_containers():
        if c.resources != Resources() or any(name in ROOTLESS_CAPABILITIES for name in c.security.capabilities_add):
            return True
        if any(port.host_port is not None and port.host_port < port_start for port in c.ports):
            return True
    return False


class _Pod:
    def __init__(self, pod: Pod, facts: HostFacts, readable: Mapping[str, bool | None]) -> None:
        self.pod, self.facts, self.readable = pod, facts, readable
        start = facts.port_start
        self.sysctl = (f"net.ipv4.ip_unprivileged_port_start is {start} on this host"
                       if facts.unprivileged_port_start is not None else
                       f"net.ipv4.ip_unprivileged_port_start could not be read on this host; assuming Linux's default, {start}")

    def problem(self, path: FieldPath, message: str, hint: str) -> Problem:
        return Problem(self.pod.locations.of(path), self.pod.locations.shown(path), f"{self.facts.kind} Podman: {message}", hint)

    def problems(self) -> Iterator[Problem]:
        yield from self.volumes()
        for kind, containers in (("initContainers", self.pod.init_containers), ("containers", self.pod.containers)):
            for index, container in enumerate(containers):
                yield from self.ports(("spec", kind, index), container)
                yield from self.capabilities(("spec", kind, index), container)
                yield from self.resources(("spec", kind, index), container)

    def ports(self, path: FieldPath, container: Container) -> Iterator[Problem]:
        start = self.facts.port_start
        for index, port in enumerate(container.ports):
            if self.pod.host_network and port.container_port < start:
                yield self.problem(
                    path + ("ports", index, "containerPort"),
                    f"with hostNetwork the container binds port {port.container_port} on the host itself, as the "
                    f"user, and cannot below {start} ({self.sysctl})",
                    f"listen on a port of {start} or above, drop hostNetwork and publish the port with a hostPort "
                    f"of {start} or above, {ROOT_PODMAN}",
                )
            elif not self.pod.host_network and port.host_port is not None and port.host_port < start:
                yield self.problem(
                    path + ("ports", index, "hostPort"),
                    f"host port {port.host_port} cannot be published: it is below {start} ({self.sysctl})",
                    f"use a hostPort of {start} or above (e.g. {_suggest(port.host_port, start)}), {ROOT_PODMAN}, "
                    f"or let users bind it (as root: sysctl net.ipv4.ip_unprivileged_port_start={port.host_port})",
                )

    def capabilities(self, path: FieldPath, container: Container) -> Iterator[Problem]:
        where = path + ("securityContext", "capabilities", "add")
        for name in container.security.capabilities_add:
            reason = ROOTLESS_CAPABILITIES.get(name)
            if reason is None and self.pod.host_network and name in HOST_NETWORK_CAPABILITIES:
                reason = "with hostNetwork the network is the host's, which belongs to the host's user namespace"
            if reason is not None:
                yield self.problem(
                    where, f"a rootless container cannot hold capability {name}: {reason}",
                    f"remove {name} from capabilities.add, {ROOT_PODMAN}",
                )

    def resources(self, path: FieldPath, container: Container) -> Iterator[Problem]:
        available = self.facts.cgroup_controllers
        if available is None:
            return
        r = container.resources
        wanted = (("cpu", r.cpu_limit_millis is not None or r.cpu_request_millis is not None),
                  ("memory", r.memory_limit_bytes is not None or r.memory_request_bytes is not None))
        for controller, asked in wanted:
            if asked and controller not in available:
                version = f"cgroups {self.facts.cgroup_version}" if self.facts.cgroup_version else "this host"
                why = ("on cgroups v1 rootless Podman sets no limits at all" if self.facts.cgroup_version == "v1" else
                       f"the {controller} controller is not delegated to the user")
                yield self.problem(
                    path + ("resources",),
                    f"{controller} requests and limits would be ignored: {why} ({version}; "
                    f"controllers the user has: {', '.join(available) or 'none'})",
                    f"remove the {controller} requests and limits, run on cgroups v2 with the {controller} controller "
                    f"delegated to the user (systemd: Delegate=yes for user@.service), {ROOT_PODMAN}",
                )

    def volumes(self) -> Iterator[Problem]:
        for index, volume in enumerate(self.pod.volumes):
            if volume.kind is VolumeKind.HOST_PATH and self.readable.get(volume.host_path) is False:
                who = f"uid {self.facts.uid}" if self.facts.uid is not None else "the user"
                yield self.problem(
                    ("spec", "volumes", index, "hostPath", "path"),
                    f"hostPath {volume.host_path} cannot be mounted: the user Podman runs as ({who}) cannot read it",
                    "give that user read access (chmod, chown or setfacl -m u:USER:rX, on the path and the "
                    f"directories above it), mount a directory of the user's own, use a persistentVolumeClaim, {ROOT_PODMAN}",
                )


def _suggest(port: int, start: int) -> int:
    """A port to suggest instead of `port`: 8080 for 80, 8443 for 443, else port + 8000 (at least start)."""
    return max(start, {80: 8080, 443: 8443}.get(port, port + 8000))
