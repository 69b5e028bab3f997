"""The model's classes that only some manifests need (model.py's EXTRA): probes, Services, a
Deployment's rollout and its `replicas: 0` pods, the files of configMap, secret and projected volumes,
image mounts, host aliases, SOPS-encrypted documents. Imported as `from podspec.model import Service`:
model.py defines them here at their first use, so that a diff of plain pods does not define them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from podspec.model import NOWHERE, KeyRef, Locations, Protocol, SourceKind

if TYPE_CHECKING:
    from podspec.errors import Origin
    from podspec.model import Pod


class ProbeHandler(str, Enum):
    EXEC = "exec"
    HTTP_GET = "httpGet"
    TCP_SOCKET = "tcpSocket"


@dataclass(frozen=True)
class Probe:
    handler: ProbeHandler
    command: tuple[str, ...] = ()  # exec
    path: str = ""  # httpGet
    port: int | None = None  # httpGet, tcpSocket
    host: str = ""
    scheme: str = "HTTP"
    headers: tuple[tuple[str, str], ...] = ()  # httpGet httpHeaders: (name, value), as written
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3


@dataclass(frozen=True)
class ImageMount:
    """One VOLUME path of an image, mounted read-only at the same path (with that path as subPath)."""

    path: str
    image: str


@dataclass(frozen=True)
class KeyToPath:
    """An `items` entry of a configMap or secret volume, as written."""

    key: str
    path: str
    mode: int | None = None


@dataclass(frozen=True)
class Projection:
    """A configMap or secret source of a projected volume, as written (linked into files)."""

    kind: SourceKind
    source: str
    items: tuple[KeyToPath, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class ProjectedFile:
    """A file of a configMap or secret volume (linked by the loader): its path below the mount
    path, its mode, and the key it holds."""

    path: str
    mode: int
    ref: KeyRef


@dataclass(frozen=True)
class HostAlias:
    ip: str
    hostnames: tuple[str, ...]


@dataclass(frozen=True)
class Rollout:
    """How a Deployment's copies are replaced (not intent: it changes how, not what, runs; see
    reconcile/rollout.py): `surge` copies at a time started under their other name beside the old
    ones (maxSurge, rounded up), and `batch` more replaced in place (maxUnavailable, rounded down; at
    least 1 when nothing surges; all of them for strategy Recreate), each batch ready within
    `deadline` seconds (progressDeadlineSeconds) before the next is touched. `in_place`: why the
    copies cannot surge on one host although maxSurge asks for it ("hostPort 80"), else ""."""

    batch: int = 1
    deadline: int = 600
    surge: int = 0
    in_place: str = ""


@dataclass(frozen=True)
class AbsentPod:
    """A pod the manifests want absent: the pod of a Deployment with `replicas: 0`."""

    name: str
    reason: str  # "Deployment web has replicas: 0"
    locations: Locations = NOWHERE
    workload: str = ""  # "Deployment web": its other copies, if any are on the host, go too


class ServiceType(str, Enum):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"  # also published on the host, on its nodePort
    LOAD_BALANCER = "LoadBalancer"  # also published on the host, on its port (k3s's ServiceLB on one node)


@dataclass(frozen=True)
class ServicePort:
    """One port of a Service: `port` is what clients connect to on the Service's names;
    `target_port` the pods' port (a number, or the name of a container port). `node_port`: a
    NodePort Service's port on the host, as written or chosen by the loader (None otherwise)."""

    port: int
    target_port: int | str
    protocol: Protocol = Protocol.TCP
    name: str = ""
    node_port: int | None = None


@dataclass(frozen=True)
class Service:
    """A v1 Service of type ClusterIP (or headless), NodePort or LoadBalancer: names on the project
    network for the pods its selector picks, and for the last two a balancer pod that publishes it
    on the host (docs/services.md). ExternalName is refused by the loader."""

    name: str
    namespace: str = "default"
    selector: tuple[tuple[str, str], ...] = ()  # sorted by key; empty: picks no pod
    ports: tuple[ServicePort, ...] = ()
    headless: bool = False  # clusterIP: None (the same names on one host; kept for export)
    labels: tuple[tuple[str, str], ...] = ()
    locations: Locations = NOWHERE
    type: ServiceType = ServiceType.CLUSTER_IP

    @property
    def published(self) -> bool:
        """Whether the Service is also published on the host (NodePort, LoadBalancer)."""
        return self.type is not ServiceType.CLUSTER_IP

    def host_port(self, port: ServicePort) -> int | None:
        """The host port a port of this Service is published on: a LoadBalancer's `port` (as k3s's
        ServiceLB binds it), a NodePort's `nodePort`; None for ClusterIP."""
        if self.type is ServiceType.LOAD_BALANCER:
            return port.port
        if self.type is ServiceType.NODE_PORT:
            return port.node_port
        return None

    @property
    def origin(self) -> Origin:
        return self.locations.of(())

    def selects(self, pod: Pod) -> bool:
        labels = dict(pod.labels)
        return bool(self.selector) and all(labels.get(k) == v for k, v in self.selector)


@dataclass(frozen=True)
class EncryptedDocument:
    """A manifest document that was SOPS-encrypted in its file (loader/sops.py)."""

    file: str
    kind: str  # "Secret"; "" when the kind itself is encrypted (then so may the name be)
    name: str
    decrypted: bool  # False: validate checked its shape only (no key needed), its values unread

    def __str__(self) -> str:
        what = f"{self.kind} {self.name}".strip() or "a document"
        return f"{self.file}: {what}"
