"""Host ports in use (pure): a host port the plan would publish that another pod holds (of another
project, made by hand, or of this project but left out of the manifests) is named before any
change, instead of Podman's "internal libpod error" after the steps before it changed the host.

What any other process holds is found by the engine where it can see the host (a local service:
engine/local.py binds each port for a moment); `to_probe` says which ports to ask about.
"""

from __future__ import annotations

from dataclasses import dataclass

from podspec.observed import ObservedState
from podspec.reconcile.changes import Action
from podspec.reconcile.pod_diff import PodDiff


@dataclass(frozen=True, order=True)
class HostPort:
    port: int
    protocol: str  # "tcp", "udp", "sctp"
    ip: str = ""  # "" = every address

    def meets(self, other: HostPort) -> bool:
        return (self.port, self.protocol) == (other.port, other.protocol) and (
            not self.ip or not other.ip or self.ip == other.ip)

    def __str__(self) -> str:
        return f"{self.ip + ':' if self.ip else ''}{self.port}/{self.protocol}"


def parse(text: str) -> HostPort | None:
    """A published port as names.port_text writes it ("127.0.0.1:8080->80/TCP")."""
    left, arrow, rest = text.partition("->")
    if not arrow:
        return None
    ip, _, port = left.rpartition(":")
    protocol = rest.rpartition("/")[2].lower()
    return HostPort(int(port), protocol, ip) if port.isdigit() else None


def _wanted(p: PodDiff) -> list[HostPort]:
    if p.pod is None or p.pod.host_network:
        return []
    return [HostPort(port.host_port, port.protocol.value.lower(), port.host_ip)
            for c in p.pod.all_containers() for port in c.ports if port.host_port is not None]


def _creating(pods: tuple[PodDiff, ...] | list[PodDiff]) -> list[PodDiff]:
    return [p for p in pods if p.action in (Action.CREATE, Action.REPLACE)]


def _held(observed: ObservedState, pods: tuple[PodDiff, ...] | list[PodDiff]) -> list[tuple[str, str, HostPort]]:
    """(pod, owner, port) of every port published on the host by a pod this plan keeps."""
    leaving = {p.name for p in pods if p.action in (Action.REMOVE, Action.REPLACE)}
    held = []
    for obs in observed.pods:
        if obs.name in leaving:
            continue
        infra = observed.infra_of(obs)
        owner = f"project {obs.project!r}" if obs.project else "made by hand, not by podspec"
        for text in infra.ports if infra is not None else ():
            port = parse(text)
            if port is not None:
                held.append((obs.name, owner, port))
    return held


def conflicts(observed: ObservedState, pods: tuple[PodDiff, ...] | list[PodDiff]) -> list[str]:
    found = []
    held = _held(observed, pods)
    for p in _creating(pods):
        for port in _wanted(p):
            for pod, owner, other in held:
                if pod != p.name and port.meets(other):
                    found.append(f"pod {p.name}: host port {port} is published by pod {pod} ({owner}); "
                                 "use another hostPort, or remove that pod first")
    return found


def to_probe(observed: ObservedState, pods: tuple[PodDiff, ...] | list[PodDiff]) -> tuple[tuple[str, HostPort], ...]:
    """(pod, port): the host ports the plan publishes that no pod on the host publishes now (those
    are Podman's to hold, or were named as conflicts) nor frees in this plan: any process holding
    one stands in the way."""
    published = [port for _, _, port in _held(observed, [])]
    wanted = []
    for p in _creating(pods):
        for port in _wanted(p):
            if not any(port.meets(other) for other in published):
                wanted.append((p.name, port))
    return tuple(wanted)
