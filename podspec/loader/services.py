"""Service documents -> model.Service (over the document's reporter), and the checks that need
the pods (link_services): a selector that picks nothing, hostNetwork pods, named target ports.

What one host can give a Service is names on the project network (docs/services.md): ClusterIP
and headless Services are built; NodePort and LoadBalancer Services too, and are published on the
host by a balancer pod (loader/balancers.py); ExternalName is refused with the reason, never
accepted and ignored. Fields about a cluster's virtual IPs and traffic policies are warnings, as
other cluster-only fields are.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Sequence

from podspec.errors import Origin, Problem
from podspec.loader import semantics
from podspec.loader.reporter import Reporter
from podspec.model import (
    Container,
    FieldPath,
    Pod,
    Protocol,
    PullPolicy,
    RestartPolicy,
    SecurityContext,
    Service,
    ServicePort,
    ServiceType,
)

# Kubernetes: a Service's name is a DNS-1035 label (it becomes a host name).
SERVICE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")

# spec fields accepted for Kubernetes and meaning nothing on one host: (field, what it is about).
CLUSTER_ONLY_SERVICE_FIELDS = {
    "clusterIPs": "a cluster's virtual Service addresses",
    "externalIPs": "addresses a cluster's nodes route to the Service",
    "sessionAffinity": "kube-proxy's choice of backend",
    "sessionAffinityConfig": "kube-proxy's choice of backend",
    "loadBalancerIP": "a cloud load balancer",
    "loadBalancerSourceRanges": "a cloud load balancer",
    "loadBalancerClass": "a cloud load balancer",
    "allocateLoadBalancerNodePorts": "a cloud load balancer",
    "externalTrafficPolicy": "traffic between a cluster's nodes",
    "internalTrafficPolicy": "traffic between a cluster's nodes",
    "healthCheckNodePort": "a cloud load balancer",
    "ipFamilies": "a cluster's address families",
    "ipFamilyPolicy": "a cluster's address families",
    "trafficDistribution": "traffic between a cluster's zones",
}

REFUSED_TYPES = {
    "ExternalName": (
        "an ExternalName Service is a DNS alias (CNAME) for an outside name; Podman's DNS (aardvark-dns) "
        "serves no aliases of that kind",
        "give the clients the outside name, or add it with the pods' hostAliases",
    ),
}
# The range Kubernetes takes nodePorts from (kube-apiserver's --service-node-port-range default).
NODE_PORTS = range(30000, 32768)


def service(r: Reporter, data: dict[str, Any]) -> Service:
    meta, spec = data["metadata"], data.get("spec") or {}
    name = meta["name"]
    r.problems += semantics.metadata_problems(  # no io.podspec. label or annotation, as on every object
        tuple((meta.get("labels") or {}).items()), tuple((meta.get("annotations") or {}).items()),
        lambda path: Origin(r.document.file, *r.document.key_at(path)), r.document.file,
    )
    if not SERVICE_NAME.fullmatch(name):
        r.problem(("metadata", "name"), f"Service name {name!r} is not a DNS-1035 label, so it cannot be a host name",
                     "use at most 63 lowercase letters, digits and '-', starting with a letter")
    kind = spec.get("type", "ClusterIP")
    if kind in REFUSED_TYPES:
        why, instead = REFUSED_TYPES[kind]
        r.problem(("spec", "type"), f"type: {kind} is not supported: {why}", instead)
    service_type = ServiceType(kind) if kind not in REFUSED_TYPES else ServiceType.CLUSTER_IP
    published = service_type is not ServiceType.CLUSTER_IP
    cluster_ip = spec.get("clusterIP", "")
    if published and cluster_ip == "None":
        r.problem(("spec", "clusterIP"), f"a headless Service (clusterIP: None) cannot be of type {kind}",
                  "remove clusterIP: None, or make the Service type ClusterIP (as Kubernetes requires)")
    if cluster_ip not in ("", "None"):
        cluster_only(r, ("spec", "clusterIP"), "a cluster's virtual Service address (here the names answer "
                                                 "with the pods' own addresses)")
    for key in spec:
        if key in CLUSTER_ONLY_SERVICE_FIELDS:
            cluster_only(r, ("spec", key), CLUSTER_ONLY_SERVICE_FIELDS[key])
    ports = []
    seen: dict[tuple[int, str], int] = {}
    for index, raw in enumerate(spec.get("ports") or []):
        protocol = Protocol(raw.get("protocol", "TCP"))
        node_port = raw.get("nodePort")
        if node_port is not None and not published:
            r.problem(("spec", "ports", index, "nodePort"), "nodePort is only for type NodePort or LoadBalancer",
                         "remove it")
            node_port = None
        elif node_port is not None and node_port not in NODE_PORTS:
            r.problem(("spec", "ports", index, "nodePort"),
                      f"nodePort {node_port} is outside {NODE_PORTS.start}-{NODE_PORTS.stop - 1}, the range Kubernetes "
                      "takes node ports from", "choose a port in that range, or leave nodePort out (one is chosen)")
        elif node_port is not None and service_type is ServiceType.LOAD_BALANCER:
            r.problem_to(r.warnings, r.base + ("spec", "ports", index, "nodePort"),
                         f"nodePort is not published on a single Podman host for a LoadBalancer Service (it is "
                         f"published on its port, {raw['port']}, as k3s's ServiceLB does)",
                         "keep it for Kubernetes; --strict makes this an error", key=True)
        if published and protocol is not Protocol.TCP:
            r.problem(("spec", "ports", index, "protocol"),
                      f"a {kind} Service port is published on the host by a forwarder that carries TCP only, "
                      f"not {protocol.value}", "publish the pod's port with ports[].hostPort on its container instead")
        port = ServicePort(port=raw["port"], target_port=raw.get("targetPort", raw["port"]), protocol=protocol,
                           name=raw.get("name", ""), node_port=node_port if service_type is ServiceType.NODE_PORT else
                           None)
        if (port.port, protocol.value) in seen:
            r.problem(("spec", "ports", index, "port"),
                         f"port {port.port}/{protocol.value} is listed twice (also ports[{seen[port.port, protocol.value]}])",
                         "keep one")
        seen[port.port, protocol.value] = index
        if len(spec.get("ports") or []) > 1 and not port.name:
            r.problem(("spec", "ports", index), "a Service with several ports must name each one (ports[].name)",
                         "add a name, as Kubernetes requires")
        ports.append(port)
    return Service(
        name=name,
        namespace=meta.get("namespace") or "default",
        selector=tuple(sorted((spec.get("selector") or {}).items())),
        ports=tuple(ports),
        headless=cluster_ip == "None",
        labels=tuple(sorted((meta.get("labels") or {}).items())),
        locations=r.locations(),
        type=service_type,
    )

def cluster_only(r: Reporter, path: FieldPath, what: str) -> None:
    origin = r.locations().of(path)
    r.warnings.append(Problem(origin, ".".join(str(p) for p in path),
                                 f"{path[-1]} is ignored on a single Podman host (it is about {what})",
                                 "keep it for Kubernetes; --strict makes this an error"))


def target_port(service_port: ServicePort, pod: Pod) -> int | None:
    """The pod's port a Service port reaches: a number as written, or the container port of that
    name (None when the pod has no port of that name: Kubernetes then leaves the pod out)."""
    if isinstance(service_port.target_port, int):
        return service_port.target_port
    for c in pod.containers:
        for p in c.ports:
            if p.name == service_port.target_port and p.protocol is service_port.protocol:
                return p.container_port
    return None


def link_services(services: Sequence[Service], pods: Sequence[Pod]) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) that need the pods: unique names, a selector that picks nothing, the
    hostNetwork pods a selector picks, and named target ports that a picked pod does not have."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    first: dict[str, Service] = {}
    for service in services:
        if service.name in first:
            problems.append(Problem(service.origin, "metadata.name",
                                    f"Service {service.name} is defined twice (also at {first[service.name].origin})",
                                    "rename or remove one"))
            continue
        first[service.name] = service
        picked = [p for p in pods if service.selects(p)]
        if not picked:
            what = "has no selector" if not service.selector else "selects no pod of these manifests"
            warnings.append(Problem(service.locations.of(("spec", "selector")), "spec.selector",
                                    f"Service {service.name} {what}: its names resolve to nothing",
                                    "select the pods by their labels (spec.selector)"))
        for pod in picked:
            if pod.host_network:
                warnings.append(Problem(service.locations.of(("spec", "selector")), "spec.selector",
                                        f"Service {service.name} selects pod {pod.name}, which uses the host's network: "
                                        "it is on no project network, so the Service's names do not reach it",
                                        "reach that pod on the host's address and its own ports"))
            for index, port in enumerate(service.ports):
                reached = target_port(port, pod)
                if reached is None:
                    problems.append(Problem(
                        service.locations.of(("spec", "ports", index, "targetPort")), f"spec.ports[{index}].targetPort",
                        f"pod {pod.name} has no {port.protocol.value} container port named {port.target_port!r}",
                        "name the port in the pod's containers[].ports[].name, or give targetPort as a number"))
    return problems, warnings


# The proxies' image: busybox's nc forwards a port (`nc -ll -p PORT -e nc 127.0.0.1 TARGET`). Pulled
# like any image a pod names (IfNotPresent).
PROXY_IMAGE = "docker.io/library/busybox:latest"
PROXY_USER = 65534  # nobody


def proxy_name(port: int) -> str:
    """The proxy container of a pod's Service port (`<pod>-svc-proxy-8080` on Podman)."""
    return f"svc-proxy-{port}"


def is_proxy_name(container: str) -> bool:
    """The reader of proxy_name: whether a container's (short) name is a Service port's proxy."""
    tail = container.removeprefix("svc-proxy-")
    return tail != container and tail.isdigit()


def with_proxies(services: Sequence[Service], pods: Sequence[Pod]) -> tuple[list[Pod], list[Problem]]:
    """Each pod a Service reaches on another port than the Service's gets a proxy container:
    `port` on the pod's address forwards to `targetPort` on its loopback, as kube-proxy makes
    `svc:port` reach the pod's targetPort on a cluster. The pod's own containers are not touched;
    a change of the ports creates or removes proxies only. Refused, before any change: a non-TCP
    port, a port a container of the pod declares, one port forwarded to two targets, a pod that runs
    to completion (a proxy would keep it running)."""
    problems: list[Problem] = []
    made = []
    for pod in pods:
        forwards: dict[int, tuple[int, str]] = {}
        own = {p.container_port for c in pod.all_containers() for p in c.ports}
        for service in services:
            if not service.selects(pod) or pod.host_network:
                continue
            for index, port in enumerate(service.ports):
                reached = target_port(port, pod)
                if reached is None or reached == port.port:
                    continue
                where = service.locations.of(("spec", "ports", index))
                path = f"spec.ports[{index}]"

                def refuse(why: str, hint: str, where: Any = where, path: str = path) -> None:
                    problems.append(Problem(where, path, why, hint))

                said = f"Service {service.name} port {port.port} -> {reached} of pod {pod.name}"
                if port.protocol is not Protocol.TCP:
                    refuse(f"{said}: the proxy podspec makes for a port that differs from its targetPort forwards "
                           f"TCP only, not {port.protocol.value}", "give the Service port the pod's port")
                elif port.port in own:
                    refuse(f"{said}: a container of the pod already declares port {port.port}, where the proxy "
                           "would listen", "give the Service port the pod's port, or another port")
                elif port.port in forwards and forwards[port.port][0] != reached:
                    refuse(f"{said}: {forwards[port.port][1]} forwards the same port to {forwards[port.port][0]}",
                           "give the two Services different ports")
                elif pod.restart_policy is not RestartPolicy.ALWAYS:
                    refuse(f"{said}: the pod runs to completion (restartPolicy {pod.restart_policy.value}), and a "
                           "proxy would keep it running", "give the Service port the pod's port")
                else:
                    forwards.setdefault(port.port, (reached, f"Service {service.name}"))
        if not forwards:
            made.append(pod)
            continue
        proxies = tuple(_proxy(port, target) for port, (target, _) in sorted(forwards.items()))
        made.append(replace(pod, containers=pod.containers + proxies))
    return made, problems


def _proxy(port: int, target: int) -> Container:
    return Container(
        name=proxy_name(port),
        image=PROXY_IMAGE,
        pull_policy=PullPolicy.IF_NOT_PRESENT,
        command=("nc", "-ll", "-p", str(port), "-e", "nc", "127.0.0.1", str(target)),
        # What the restricted Pod Security Standard asks of every container (the policy checks the
        # proxy as any other): nobody, no capability but binding a port below 1024, no escalation.
        security=SecurityContext(
            capabilities_drop=("ALL",),
            capabilities_add=("NET_BIND_SERVICE",) if port < 1024 else (),
            run_as_user=PROXY_USER,
            run_as_non_root=True,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            seccomp_profile="RuntimeDefault",
        ),
        service_proxy=f"{port}->{target}",  # not the Service's name: renaming it recreates no proxy
    )
