"""The project network and the names on it (pure): which network a project's pods join, which
names each pod answers to (its own, and those of the Services that select it), and what must
change on the host for that: create the network, connect a pod, reconnect it with other names,
take it off Podman's default network, remove the network when the project is gone.

A pod's names are network aliases of its infra container's attachment. Podman cannot change the
aliases of an attachment, and lists none of them (a container inspect per pod would): the names
each pod was last given are kept in a record, a volume of the project's own whose label holds
them (`podspec-names.<project>`), read with the volume list that observe makes anyway. A pod
whose names change is disconnected and connected again with the new ones: no container is
recreated. The record is removed before any such change and written again after the last one,
so that a run that stops half-way leaves no record, and the next run reconnects every pod (it
cannot trust what it does not know). A plan that changes no pod's names (it makes pods with the
names the record has for them, or new ones, and removes pods) leaves the record true at every step:
it is then replaced after the last change, and a run that stops half-way (an apply whose rollout
does not become ready, before its rollback) leaves it, so that the next run reconnects no pod that
serves. See docs/services.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from podspec import labels as L
from podspec.model import DesiredState, Pod
from podspec.names import NAMES_PREFIX
from podspec.observed import ObservedNetwork, ObservedState
from podspec.reconcile.changes import Action

if TYPE_CHECKING:
    from podspec.model import Service

NETWORK_PREFIX = "podspec-"
DEFAULT_NETWORK = "podman"  # Podman's default network: every pod an earlier podspec made is on it
CLUSTER_DOMAIN = "cluster.local"
# The project networks' subnets: /22 (1022 addresses: hundreds of pods; Podman's own default pool
# hands out /24s, 254 pods), taken from 10.90.0.0/15, apart from Podman's 10.88.0.0/16 and its
# default pool 10.89.0.0/16, and free of every subnet of the host's other Podman networks.
SUBNET_POOL = ipaddress.IPv4Network("10.90.0.0/15")
SUBNET_PREFIX = 22


def network_name(project: str) -> str:
    return f"{NETWORK_PREFIX}{project}"


def names_volume(project: str) -> str:
    return f"{NAMES_PREFIX}{project}"


def service_names(service: Service) -> tuple[str, ...]:
    """The names Kubernetes' DNS gives a Service: svc, svc.NS, svc.NS.svc, svc.NS.svc.cluster.local."""
    short, ns = service.name, service.namespace
    return (short, f"{short}.{ns}", f"{short}.{ns}.svc", f"{short}.{ns}.svc.{CLUSTER_DOMAIN}")


def on_network(pod: Pod) -> bool:
    """Whether the pod joins the project network (a hostNetwork pod uses the host's)."""
    return not pod.host_network


def pod_names(desired: DesiredState, pod: Pod) -> tuple[str, ...]:
    """Every name the pod answers to on the project network, sorted: its own, and each selecting
    Service's."""
    names = {pod.name}
    for service in desired.services:
        if service.selects(pod):
            names.update(service_names(service))
    return tuple(sorted(names))


def selected_by(desired: DesiredState, pod: Pod) -> tuple[str, ...]:
    return tuple(s.name for s in desired.services if s.selects(pod))


def service_spec(service: Service, pods: tuple[Pod, ...] = ()) -> dict[str, Any]:
    """A Service as the record keeps it (export writes it back from there). A named targetPort is
    kept as the number it names in the pods (export cannot give the pods' ports their names back)."""
    from podspec.loader.services import target_port

    picked = [p for p in pods if service.selects(p)]

    def target(port: Any) -> int | str:
        numbers = {target_port(port, p) for p in picked} - {None}
        return numbers.pop() if len(numbers) == 1 else port.target_port  # type: ignore[return-value]

    spec: dict[str, Any] = {"namespace": service.namespace, "selector": dict(service.selector),
                            "ports": [{k: v for k, v in (("name", p.name), ("port", p.port), ("targetPort", target(p)),
                                                         ("protocol", p.protocol.value)) if v not in ("", "TCP")}
                                      for p in service.ports]}
    for index, port in enumerate(service.ports):
        if port.node_port is not None:
            spec["ports"][index]["nodePort"] = port.node_port
    if service.published:
        spec["type"] = service.type.value
    if service.headless:
        spec["clusterIP"] = "None"
    if service.labels:
        spec["labels"] = dict(service.labels)
    return spec


@dataclass(frozen=True)
class NamesRecord:
    """What the record holds: the names each pod was last connected with, and the Services (for export)."""

    pods: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    services: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)

    def text(self) -> str:
        return json.dumps({"pods": {k: list(v) for k, v in sorted(self.pods.items())},
                           "services": dict(sorted(self.services.items()))}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def read(cls, text: str | None) -> NamesRecord | None:
        try:
            data = json.loads(text or "")
            pods = {str(k): tuple(str(n) for n in v) for k, v in data["pods"].items()}
            services = {str(k): dict(v) for k, v in data.get("services", {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return cls(pods, services)


def record_services(record: NamesRecord) -> tuple[Service, ...]:
    """The Services a record keeps, as the model holds them (export writes them back)."""
    from podspec.model import Protocol, Service, ServicePort, ServiceType

    found = []
    for name, spec in sorted(record.services.items()):
        try:
            ports = tuple(ServicePort(port=int(p["port"]), target_port=p.get("targetPort", p["port"]),
                                      protocol=Protocol(p.get("protocol", "TCP")), name=str(p.get("name", "")),
                                      node_port=int(p["nodePort"]) if "nodePort" in p else None)
                          for p in spec.get("ports", ()))
            found.append(Service(name=name, namespace=str(spec.get("namespace", "default")),
                                 selector=tuple(sorted(dict(spec.get("selector") or {}).items())), ports=ports,
                                 headless=spec.get("clusterIP") == "None",
                                 labels=tuple(sorted(dict(spec.get("labels") or {}).items())),
                                 type=ServiceType(spec.get("type", ServiceType.CLUSTER_IP.value))))
        except (KeyError, ValueError, TypeError, AttributeError):
            continue  # a record podspec cannot read is no Service to write
    return tuple(found)


def observed_record(observed: ObservedState, project: str) -> NamesRecord | None:
    found = observed.volume(names_volume(project))
    if found is None or L.project_of(found.labels) != project:
        return None
    return NamesRecord.read(found.labels.get(L.NAMES))


def later_subnets(subnet: str, count: int) -> tuple[str, ...]:
    """The `count` candidates of the pool after `subnet`, in free_subnet's order (wrapping around):
    what to try when the host refuses `subnet` for a reason its Podman does not list (a route)."""
    candidates = [str(c) for c in SUBNET_POOL.subnets(new_prefix=SUBNET_PREFIX)]
    start = candidates.index(subnet) + 1 if subnet in candidates else 0
    return tuple((candidates[start:] + candidates[:start])[:count])


def free_subnet(networks: tuple[ObservedNetwork, ...], project: str = "") -> str:
    """A /22 of the pool that overlaps no subnet of the host's networks: the first free one from a
    place that depends on the project's name, so that projects applied at the same moment (each under
    its own lock, each reading the same free subnets) rarely choose the same one. Podman refuses an
    overlapping subnet whatever podspec chose: two projects' networks never overlap."""
    used = []
    for n in networks:
        for text in n.subnets:
            try:
                used.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                continue
    candidates: list[ipaddress.IPv4Network] = list(SUBNET_POOL.subnets(new_prefix=SUBNET_PREFIX))
    start = int(hashlib.sha256(project.encode()).hexdigest(), 16) % len(candidates) if project else 0
    for candidate in candidates[start:] + candidates[:start]:
        if not any(candidate.overlaps(u) for u in used if u.version == 4):
            return str(candidate)
    raise ValueError(f"every /{SUBNET_PREFIX} of {SUBNET_POOL} is taken by another network")


@dataclass(frozen=True)
class NameCheck:
    """A Service name to look up on the project network (`apply --wait`): at the network's DNS server
    (aardvark-dns, on its gateway), from the network namespace of `pod`: a pod of the project, asked as
    a client asks (name_checks)."""

    service: str
    name: str
    pod: str
    infra_id: str
    server: str


def name_checks(desired: DesiredState, observed: ObservedState, project: str) -> tuple[NameCheck, ...]:
    """One look-up per Service that selects a pod on the project network: its short name (the four
    forms are aliases of the same attachments, given in one call). A Service that selects nothing on
    the network has nothing to answer (a warning already says so)."""
    network = observed.network(network_name(project))
    if network is None:
        return ()
    server = network.gateways[0] if network.gateways else ""
    if not server and network.subnets:
        try:
            server = str(ipaddress.ip_network(network.subnets[0], strict=False)[1])  # Podman's default gateway
        except (ValueError, IndexError):
            return ()
    attached = {}
    for pod in sorted((p for p in desired.pods if on_network(p)), key=lambda p: p.name):
        found = observed.pod(pod.name)
        infra = observed.infra_of(found) if found is not None else None
        if infra is not None and network.name in infra.networks:
            attached[pod.name] = (pod, infra.id)
    checks = []
    for service in desired.services:
        selected = [name for name, (pod, _) in attached.items() if service.selects(pod)]
        if not selected:
            continue
        # Asked as a client asks: from a pod the Service does not select where there is one (aardvark-dns
        # 1.4 may answer a reconnected pod's own new names before it answers the others), else a selected one.
        others = [name for name in attached if name not in selected]
        asker = (others or selected)[0]
        checks.append(NameCheck(service.name, service.name, asker, attached[asker][1], server))
    return tuple(checks)


class AttachAction(str, Enum):
    CONNECT = "connect"  # not on the project network: join it, with its names
    RECONNECT = "reconnect"  # on it, with other names: disconnect, then connect with the new ones
    LEAVE_DEFAULT = "leave-default"  # on Podman's default network too (applied by an earlier podspec)


@dataclass(frozen=True)
class NetworkDiff:
    """What happens to the project's network, and why."""

    name: str
    action: Action  # CREATE, REMOVE, CONFLICT or ADOPT
    cause: str
    subnet: str = ""
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A change of one existing pod's attachments; `infra` is its infra container's ID."""

    pod: str
    action: AttachAction
    infra: str
    network: str
    cause: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkChanges:
    """The project's network: its change, and the names and attachments its pods get."""

    network: str
    diff: NetworkDiff | None = None  # None: the network is there as it should be (or not wanted)
    names: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)  # pod -> names at create
    attachments: tuple[Attachment, ...] = ()
    record: NamesRecord | None = None  # what to write, when it must be (re)written
    record_exists: bool = False  # the record is on the host (removed before a rewrite)
    # The record on the host stays true whatever part of the plan is done (no pod that stays changes
    # its names; a pod made anew gets the names the record has for it, or is not in it): it is then
    # replaced after the last change, not removed before the first.
    record_holds: bool = False

    @property
    def changed(self) -> bool:
        return (self.diff is not None and self.diff.action is not Action.ADOPT) or bool(self.attachments) \
            or self.record is not None

    def conflicts(self) -> list[str]:
        if self.diff is not None and self.diff.action is Action.CONFLICT:
            return [f"network {self.diff.name}: {self.diff.cause}"]
        return []


def diff_network(desired: DesiredState, observed: ObservedState, project: str, created: set[str],
                 leaving: set[str], adopt: bool, prune: bool) -> NetworkChanges:
    """What the project network and its pods' names need. `created`: the pods the plan creates
    (or replaces): they get their names at create; `leaving`: the pods the plan removes."""
    name = network_name(project)
    found = observed.network(name)
    # Every project has its network (compose's model: its pods reach each other by pod name there),
    # unless all its pods use the host's network.
    wanted_pods = [p for p in desired.pods if on_network(p)]
    record = observed_record(observed, project)
    held = observed.volume(names_volume(project))  # only this project's record is ever removed
    record_exists = held is not None and L.project_of(held.labels) == project
    if not wanted_pods:
        # Removed once the project has no pod left on the host (pruned empty, or deleted).
        staying = [p for p in observed.pods if p.managed and p.project == project and p.name not in leaving]
        if found is not None and prune and not staying and L.project_of(found.labels) == project \
                and observed.scope is None:  # (only a read of every pod tells that none is left)
            return NetworkChanges(name, NetworkDiff(name, Action.REMOVE, "the project has no pods left (--prune)"),
                                  record_exists=record_exists)
        return NetworkChanges(name)
    diff = None
    if found is None:
        diff = NetworkDiff(name, Action.CREATE, "the project's pods reach each other by name on it",
                           subnet=free_subnet(observed.networks, project), labels=tuple(sorted(L.for_volume(project).items())))
    elif L.project_of(found.labels) != project:
        owner = L.project_of(found.labels)
        made_by = f"podspec project {owner!r}" if owner else "someone else (not podspec)"
        if adopt:
            diff = NetworkDiff(name, Action.ADOPT, f"made by {made_by}; used as it is")
        else:
            diff = NetworkDiff(name, Action.CONFLICT, f"a network with this name exists, made by {made_by} "
                               "(remove it, pass --project to choose another project name, or --adopt to use it as it is)")
    names = {p.name: pod_names(desired, p) for p in wanted_pods}
    attachments = []
    for pod in wanted_pods:
        if pod.name in created:
            continue
        obs = observed.pod(pod.name)
        infra = observed.infra_of(obs) if obs is not None else None
        if infra is None:
            continue
        networks = infra.networks
        if name not in networks:
            why = ("applied by an earlier podspec on Podman's default network: it moves to the project network"
                   if DEFAULT_NETWORK in networks else "not on the project network")
            attachments.append(Attachment(pod.name, AttachAction.CONNECT, infra.id, name, why, names[pod.name]))
        else:
            had = record.pods.get(pod.name) if record is not None else None
            if had != names[pod.name]:
                attachments.append(Attachment(pod.name, AttachAction.RECONNECT, infra.id, name,
                                              _names_cause(had, names[pod.name]), names[pod.name]))
        if DEFAULT_NETWORK in networks:
            attachments.append(Attachment(pod.name, AttachAction.LEAVE_DEFAULT, infra.id, DEFAULT_NETWORK,
                                          "leaves Podman's default network, where the pods of every project meet"))
    # Pods of the project the manifests no longer name but that stay (no --prune; or a project applied
    # file by file): they keep their names on the network, and the record keeps them, with the
    # Services whose names they carry (export writes those back).
    others = {p.name for p in observed.pods if p.managed and p.project == project} - set(names) - leaving
    if observed.scope is not None and record is not None:  # pods not read stay as the record has them
        others |= {pod for pod in record.pods if pod not in observed.scope} - set(names) - leaving
    kept = {pod: had for pod, had in (record.pods.items() if record is not None else ()) if pod in others}
    carried = {n for had in kept.values() for n in had}
    services = {s: spec for s, spec in (record.services.items() if record is not None else ()) if s in carried}
    services.update({s.name: service_spec(s, desired.pods) for s in desired.services})
    wanted_record = NamesRecord({**kept, **names}, services)
    rewrite = record is None or record.text() != wanted_record.text()
    holds = record is not None and all(a.action is AttachAction.LEAVE_DEFAULT for a in attachments) \
        and all(record.pods.get(pod) in (None, names[pod]) for pod in created if pod in names)
    return NetworkChanges(name, diff, names, tuple(attachments), wanted_record if rewrite else None, record_exists,
                          holds)


def _names_cause(had: tuple[str, ...] | None, want: tuple[str, ...]) -> str:
    if had is None:
        return "its names on the network are not on record (a run stopped half-way?): connected again with them"
    added = [n for n in want if n not in had]
    gone = [n for n in had if n not in want]
    parts = []
    if added:
        parts.append("gains " + ", ".join(added))
    if gone:
        parts.append("loses " + ", ".join(gone))
    return "names change: " + "; ".join(parts) + " (no container is recreated)"
