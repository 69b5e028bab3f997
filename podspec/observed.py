"""What the host has: pods, containers, volumes, Podman secrets and images, as the engine read them in one pass.

Plain frozen data; the engine fills it from Podman's list calls, tests build it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property
from typing import Collection, Mapping

from podspec import labels as L


class ContainerState(str, Enum):
    RUNNING = "running"
    CREATED = "created"
    EXITED = "exited"
    STOPPED = "stopped"
    PAUSED = "paused"
    OTHER = "other"

    @classmethod
    def parse(cls, text: str | None) -> ContainerState:
        text = (text or "").lower()
        if text == "configured":
            return cls.CREATED
        return next((s for s in cls if s.value == text), cls.OTHER)


class PodStatus(str, Enum):
    RUNNING = "Running"
    DEGRADED = "Degraded"
    CREATED = "Created"
    EXITED = "Exited"
    STOPPED = "Stopped"
    PAUSED = "Paused"
    OTHER = "Other"

    @classmethod
    def parse(cls, text: str | None) -> PodStatus:
        return next((s for s in cls if s.value.lower() == (text or "").lower()), cls.OTHER)


@dataclass(frozen=True)
class ObservedContainer:
    """One container on the host, as the container list shows it."""

    id: str
    name: str
    pod_id: str
    pod_name: str
    state: ContainerState
    image: str
    image_id: str
    is_infra: bool = False
    exit_code: int = 0
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    ports: tuple[str, ...] = ()  # published ports, as names.port_text writes them
    networks: tuple[str, ...] = ()  # infra container: the networks it is attached to, sorted
    started_at: int = field(default=0, compare=False)  # when it last started (unix seconds; 0: never, unknown)

    @property
    def managed(self) -> bool:
        return L.is_managed(self.labels)


@dataclass(frozen=True)
class ProbeResult:
    """What one probe of a container said (engine.probe; reconcile/probing.py counts them)."""

    ok: bool
    output: str = ""  # what the probe said (last line, short), for messages


@dataclass(frozen=True)
class ObservedPod:
    """One pod on the host, as its infra container shows it."""

    id: str
    name: str
    status: PodStatus
    infra_id: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def managed(self) -> bool:
        return L.is_managed(self.labels)

    @property
    def project(self) -> str | None:
        return L.project_of(self.labels)


@dataclass(frozen=True)
class ObservedVolume:
    """One named volume on the host, with its labels."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def managed(self) -> bool:
        return L.is_managed(self.labels)


@dataclass(frozen=True)
class ObservedNetwork:
    """A Podman network: its name, labels, subnets (CIDR text) and whether its DNS is on."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    subnets: tuple[str, ...] = ()
    dns: bool = False
    gateways: tuple[str, ...] = ()  # the subnets' gateways: where the network's DNS server (aardvark-dns) answers

    @property
    def managed(self) -> bool:
        return L.is_managed(self.labels)


@dataclass(frozen=True)
class ObservedSecret:
    """A Podman secret: its name and labels (Podman never lists a secret's value)."""

    id: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    # Podman 4.3 stores a secret's labels but leaves them out of its secret list; then podspec
    # knows its own secrets by their names (see names.podman_secret_name).
    labels_listed: bool = True


@dataclass(frozen=True)
class ObservedImage:
    """One image on the host: its ID, names and digests."""

    id: str
    names: tuple[str, ...]
    digests: tuple[str, ...] = ()  # repo@sha256:... of the manifests it was pulled by (RepoDigests)


@dataclass(frozen=True)
class PullProgress:
    """How far one pull is: layers known and done, bytes done and expected (0 when the service
    has not said; small layers finish before any byte count is reported)."""

    reference: str
    layers_total: int = 0
    layers_done: int = 0
    bytes_done: int = 0
    bytes_total: int = 0


@dataclass(frozen=True)
class PulledImage:
    """What a finished pull left on the host: the image the reference now names, and its size."""

    reference: str
    id: str
    size: int = 0
    layers: int = 0


@dataclass(frozen=True)
class ObservedState:
    """What one read of the host found: pods, containers, volumes, images, secrets, networks."""

    pods: tuple[ObservedPod, ...] = ()
    containers: tuple[ObservedContainer, ...] = ()
    volumes: tuple[ObservedVolume, ...] = ()
    images: tuple[ObservedImage, ...] = ()
    secrets: tuple[ObservedSecret, ...] = ()  # sorted by name
    networks: tuple[ObservedNetwork, ...] = ()  # sorted by name
    # The VOLUME paths (Config.Volumes) of the images an image-volumes-mount annotation names, read
    # only for those (run/pulls.py) and only when present: (reference, paths sorted), sorted
    image_volumes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # None: every container of the host was read. Else only the containers of these pods were
    # (`observe(pods=...)`: the agent's repair of the pods Podman's events named); the volumes,
    # images, secrets and networks are still the whole host's. The diff reads this (reconcile/diff.py).
    scope: frozenset[str] | None = None
    # None: every image of the host was read. Else only the images these references name
    # (`observe(images=...)`: a diff's, the references its manifests use); image_id() of any other
    # reference is a mistake of podspec's, raised, never an image taken for absent.
    image_scope: frozenset[str] | None = None

    # Lookups by name, built once per state (a frozen dataclass may still cache in its __dict__).
    @cached_property
    def _pods_by_name(self) -> dict[str, ObservedPod]:
        return {p.name: p for p in self.pods}

    @cached_property
    def _containers_by_name(self) -> dict[str, ObservedContainer]:
        return {c.name: c for c in self.containers}

    @cached_property
    def _members(self) -> dict[str, list[ObservedContainer]]:
        members: dict[str, list[ObservedContainer]] = {}
        for c in self.containers:
            members.setdefault(c.pod_id, []).append(c)
        return members

    @cached_property
    def _volumes_by_name(self) -> dict[str, ObservedVolume]:
        return {v.name: v for v in self.volumes}

    def pod(self, name: str) -> ObservedPod | None:
        return self._pods_by_name.get(name)

    def containers_of(self, pod: ObservedPod) -> tuple[ObservedContainer, ...]:
        """The pod's containers other than its infra container, sorted by name."""
        return tuple(sorted((c for c in self._members.get(pod.id, ()) if not c.is_infra), key=lambda c: c.name))

    def infra_of(self, pod: ObservedPod) -> ObservedContainer | None:
        return next((c for c in self._members.get(pod.id, ()) if c.is_infra), None)

    def container(self, name: str) -> ObservedContainer | None:
        return self._containers_by_name.get(name)

    def volume(self, name: str) -> ObservedVolume | None:
        return self._volumes_by_name.get(name)

    def narrowed(self, pods: Collection[str]) -> ObservedState:
        """This state with only the containers (and pods) of `pods`, marked as such (`scope`)."""
        wanted = frozenset(pods)
        kept = tuple(c for c in self.containers if c.pod_id and c.pod_name in wanted)
        return replace(self, pods=pods_from_containers(kept), containers=kept,
                       scope=wanted if self.scope is None else wanted & self.scope)

    @cached_property
    def _secrets_by_name(self) -> dict[str, ObservedSecret]:
        return {s.name: s for s in self.secrets}

    def secret(self, name: str) -> ObservedSecret | None:
        return self._secrets_by_name.get(name)

    def network(self, name: str) -> ObservedNetwork | None:
        return next((n for n in self.networks if n.name == name), None)

    def image_id(self, reference: str) -> str | None:
        """The ID of the local image a reference names, as Podman resolves a name on the host: a short
        name (no registry) on the default registry or built here (`alpine` matches
        docker.io/library/alpine:latest and localhost/alpine:latest; `team/tool:3` matches
        docker.io/team/tool:3 and localhost/team/tool:3, what `podman build -t team/tool:3` makes)."""
        from podspec.references import stored_names

        if self.image_scope is not None and reference not in self.image_scope:
            raise LookupError(f"image {reference} was not read (ObservedState.image_scope)")
        candidates = {reference, *stored_names(reference)}
        for image in self.images:
            if candidates & set(image.names) or candidates & set(image.digests) or reference == image.id:
                return image.id
        return None


def pod_status(members: tuple[ObservedContainer, ...] | list[ObservedContainer]) -> PodStatus:
    """A pod's status from its containers, as Podman reports it; init containers do not count."""
    counted = [c for c in members if c.labels.get(L.ROLE) != "init"]
    states = {c.state for c in counted}
    if not counted:
        return PodStatus.CREATED
    if states == {ContainerState.RUNNING}:
        return PodStatus.RUNNING
    if ContainerState.RUNNING in states:
        return PodStatus.DEGRADED
    if states == {ContainerState.PAUSED}:
        return PodStatus.PAUSED
    if states <= {ContainerState.CREATED}:
        return PodStatus.CREATED
    return PodStatus.EXITED


def pods_from_containers(containers: tuple[ObservedContainer, ...]) -> tuple[ObservedPod, ...]:
    """The pods, read off their containers: the infra container carries the pod's labels."""
    members: dict[str, list[ObservedContainer]] = {}
    for c in containers:
        if c.pod_id:
            members.setdefault(c.pod_id, []).append(c)
    pods = []
    for pod_id, group in members.items():
        infra = next((c for c in group if c.is_infra), None)
        pods.append(
            ObservedPod(
                id=pod_id,
                name=group[0].pod_name,
                status=pod_status(group),
                infra_id=infra.id if infra else "",
                labels=dict(infra.labels) if infra else {},
            )
        )
    return tuple(sorted(pods, key=lambda p: p.name))


DEFAULT_UNPRIVILEGED_PORT_START = 1024  # Linux's default net.ipv4.ip_unprivileged_port_start


@dataclass(frozen=True)
class HostFacts:
    """What kind of Podman the engine talks to, read once (GET /info, and the host's sysctl when the
    service is on this machine): the facts the rootless limits are decided from.

    `unprivileged_port_start` is None when it could not be read (a remote service): the limits then
    assume Linux's default, and say so. `uid` is the UID the service runs as on its host.
    `cgroup_controllers` are those the service may use (rootless: only the ones delegated to the
    user; none on cgroups v1), None when Podman does not say."""

    rootless: bool
    uid: int | None = None
    unprivileged_port_start: int | None = None
    version: str = "?"
    cgroup_controllers: tuple[str, ...] | None = None
    cgroup_version: str = ""
    hostname: str = ""  # the host's name as Podman reports it: the node's name (fieldRef spec.nodeName)

    @property
    def port_start(self) -> int:
        return DEFAULT_UNPRIVILEGED_PORT_START if self.unprivileged_port_start is None else self.unprivileged_port_start

    @property
    def kind(self) -> str:
        """"rootless (uid 1000)" or "root", for messages."""
        if not self.rootless:
            return "root"
        return "rootless" + (f" (uid {self.uid})" if self.uid is not None else "")
