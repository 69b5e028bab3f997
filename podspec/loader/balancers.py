"""NodePort and LoadBalancer Services on one host, as k3s's ServiceLB makes them on a single node
(pure): each such Service gets a balancer pod, `svclb-<service>`, that publishes the Service's
host ports and forwards every connection to the Service's name on the project network, where it
reaches the ready pods the selector picks on their targetPort (through their proxies when the
port differs; loader/services.py). A LoadBalancer is published on its `port`, a NodePort on its
`nodePort` (written, or chosen here from the Service's name: the same every time).

The balancer is an ordinary pod of the project, so everything a pod goes through holds for it:
the plan shows it, the security policy and the rootless limits check its host ports, a host port
in use is named before any change. It carries the workload label `Service <name>`: a Service that
stops being published takes its balancer with it (reconcile/pod_diff.py), and export writes the
Service, not the pod. Changing the Service's selector changes names only; changing its ports
replaces the balancer only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Sequence

from podspec.errors import Problem
from podspec.model import (
    SERVICE_WORKLOAD,
    Container,
    FieldPath,
    Locations,
    Pod,
    PortMapping,
    Protocol,
    PullPolicy,
    SecurityContext,
    Service,
    ServiceType,
)

BALANCER_PREFIX = "svclb-"
BALANCER_GRACE = 2  # seconds: nc as PID 1 ignores SIGTERM; its connections are cut either way


def balancer_name(service: str) -> str:
    return f"{BALANCER_PREFIX}{service}"


def chosen_node_port(service: Service, index: int, taken: set[int]) -> int:
    """A nodePort for a port that has none written: from a hash of the Service's namespace, name and
    port (stable across runs and hosts), the next free one after it when taken."""
    from podspec.loader.services import NODE_PORTS

    port = service.ports[index]
    key = f"{service.namespace}/{service.name}/{port.name or port.port}".encode()
    start = int.from_bytes(hashlib.sha256(key).digest()[:4], "big") % len(NODE_PORTS)
    for step in range(len(NODE_PORTS)):
        candidate = NODE_PORTS[(start + step) % len(NODE_PORTS)]
        if candidate not in taken:
            return candidate
    raise ValueError("every node port is taken")  # 2768 ports: not reachable from real manifests


def with_node_ports(services: Sequence[Service]) -> tuple[list[Service], list[Problem]]:
    """NodePort Services with every port's nodePort set (the written ones first, then the chosen
    ones in name order), and the host ports two published Services would both take."""
    problems: list[Problem] = []
    taken: dict[int, str] = {}

    def claim(service: Service, index: int, host_port: int, field: str) -> None:
        if host_port in taken and taken[host_port] != f"{service.name}:{index}":
            problems.append(Problem(service.locations.of(("spec", "ports", index, field)), f"spec.ports[{index}].{field}",
                                    f"host port {host_port} is published by Service {taken[host_port].split(':')[0]} "
                                    f"too", "give one of them another port"))
        taken.setdefault(host_port, f"{service.name}:{index}")

    ordered = sorted(services, key=lambda s: s.name)
    for service in ordered:
        for index, port in enumerate(service.ports):
            if service.type is ServiceType.LOAD_BALANCER:
                claim(service, index, port.port, "port")
            elif port.node_port is not None:
                claim(service, index, port.node_port, "nodePort")
    made: dict[str, Service] = {}
    for service in ordered:
        if service.type is ServiceType.NODE_PORT and any(p.node_port is None for p in service.ports):
            ports = list(service.ports)
            for index, port in enumerate(ports):
                if port.node_port is None:
                    chosen = chosen_node_port(service, index, set(taken))
                    taken[chosen] = f"{service.name}:{index}"
                    ports[index] = replace(port, node_port=chosen)
            service = replace(service, ports=tuple(ports))
        made[service.name] = service
    return [made.get(s.name, s) for s in services], problems


def balancer_pods(services: Sequence[Service], pods: Sequence[Pod]) -> tuple[list[Pod], list[Problem]]:
    """One balancer pod per NodePort or LoadBalancer Service (refused: a name a pod of the manifests
    already has)."""
    problems: list[Problem] = []
    names = {p.name for p in pods}
    made = []
    for service in services:
        if not service.published or not service.ports:
            continue
        pod = balancer(service)
        if pod.name in names:
            problems.append(Problem(service.origin, "metadata.name",
                                    f"Service {service.name} is {service.type.value}: podspec publishes it with a pod "
                                    f"named {pod.name}, which the manifests already define",
                                    "rename that pod, or the Service"))
            continue
        made.append(pod)
    return made, problems


def balancer(service: Service) -> Pod:
    containers = []
    positions: dict[FieldPath, tuple[int, int]] = {(): _at(service, ()), ("metadata", "name"): _at(service, ("metadata", "name"))}
    for index, port in enumerate(service.ports):
        host_port = service.host_port(port)
        assert host_port is not None  # with_node_ports chose every NodePort's
        written = ("spec", "ports", index, "nodePort" if service.type is ServiceType.NODE_PORT else "port")
        path: FieldPath = ("spec", "containers", index)
        positions[path] = _at(service, ("spec", "ports", index))
        for field in ("hostPort", "containerPort"):
            positions[path + ("ports", 0, field)] = _at(service, written)
        containers.append(Container(
            name=f"lb-{host_port}",
            image=BALANCER_IMAGE,
            pull_policy=PullPolicy.IF_NOT_PRESENT,
            # Each connection to the host port opens one to the Service's name on the project network,
            # resolved then (the pods that run at that moment).
            command=("nc", "-ll", "-p", str(host_port), "-e", "nc", service.name, str(port.port)),
            ports=(PortMapping(container_port=host_port, host_port=host_port, protocol=Protocol.TCP),),
            security=SecurityContext(
                capabilities_drop=("ALL",),
                capabilities_add=("NET_BIND_SERVICE",) if host_port < 1024 else (),
                run_as_user=BALANCER_USER,
                run_as_non_root=True,
                allow_privilege_escalation=False,
                read_only_root_filesystem=True,
                seccomp_profile="RuntimeDefault",
            ),
        ))
    return Pod(
        name=balancer_name(service.name),
        containers=tuple(containers),
        termination_grace_period_seconds=BALANCER_GRACE,
        workload=f"{SERVICE_WORKLOAD} {service.name}",
        locations=ServiceLocations(service.locations.file, MappingProxyType(positions), service=service),
    )


@dataclass(frozen=True, eq=False)
class ServiceLocations(Locations):
    """A balancer pod's places: in its Service's document. A message about one of its fields (a host
    port the policy or a rootless Podman refuses) points at, and names, the Service's field that
    asked for it."""

    service: Service | None = None

    def shown(self, path: FieldPath) -> str:
        if self.service is None or len(path) < 3 or path[:2] != ("spec", "containers") or not isinstance(path[2], int):
            return ""
        field = "nodePort" if self.service.type is ServiceType.NODE_PORT else "port"
        return f"spec.ports[{path[2]}].{field}"


def _at(service: Service, path: FieldPath) -> tuple[int, int]:
    origin = service.locations.of(path)
    return (origin.line or 0, origin.column or 0)


# busybox's nc, as the Service proxies use it (loader/services.py); pulled like any image a pod names.
BALANCER_IMAGE = "docker.io/library/busybox:latest"
BALANCER_USER = 65534  # nobody
