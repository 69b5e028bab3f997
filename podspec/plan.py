"""The plan's vocabulary: steps, the resources they act on, and the plan itself.

The planner (reconcile/planner.py) and the deletion plan make these; the engine performs them one
call per step; render and the workflows show and record them. Plain data, no decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from podspec.labels import Role
from podspec.model import Container, Pod
from podspec.names import container_in_pod


class StepKind(str, Enum):
    """What a step does; the value is a stable identifier (JSON `action`), `words` the display form."""

    CREATE_VOLUME = "create_volume"
    CREATE_POD = "create_pod"
    CREATE_CONTAINER = "create_container"
    START_POD = "start_pod"
    START_CONTAINER = "start_container"
    RESTART_CONTAINER = "restart_container"  # a failing liveness or startup probe (run/probes.py)
    STOP_POD = "stop_pod"
    REMOVE_POD = "remove_pod"
    REMOVE_CONTAINER = "remove_container"
    REMOVE_VOLUME = "remove_volume"
    CREATE_SECRET = "create_secret"
    REMOVE_SECRET = "remove_secret"
    CREATE_SUB_PATH = "create_sub_path"  # a subPath directory in a named volume, made through the container
    # A hostPath of type DirectoryOrCreate / FileOrCreate, made on the Podman host when missing (by a
    # short-lived helper container, engine/hostpaths.py)
    CREATE_HOST_PATH = "create_host_path"
    CREATE_NETWORK = "create_network"
    REMOVE_NETWORK = "remove_network"
    CONNECT_NETWORK = "connect_network"  # a pod's infra container joins a network, with its names (aliases)
    DISCONNECT_NETWORK = "disconnect_network"

    @property
    def words(self) -> str:
        return "create sub-path directory" if self is StepKind.CREATE_SUB_PATH else self.value.replace("_", " ")

    @property
    def resource_kind(self) -> ResourceKind:
        if self is StepKind.CREATE_SUB_PATH:
            return ResourceKind.CONTAINER
        if self is StepKind.CREATE_HOST_PATH:
            return ResourceKind.HOST_PATH
        return ResourceKind(self.value.split("_", 1)[1])


class ResourceKind(str, Enum):
    VOLUME = "volume"
    POD = "pod"
    CONTAINER = "container"
    SECRET = "secret"
    NETWORK = "network"
    HOST_PATH = "host_path"


@dataclass(frozen=True, order=True)
class ResourceId:
    """A typed name: `volume:data`, `pod:web`, `container:web/app` (pod, then the manifest's name)."""

    kind: ResourceKind
    name: str
    pod: str = ""

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.pod}/{self.name}" if self.pod else f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    target: str  # the Podman object's name
    cause: str
    pod: Pod | None = None  # create pod / create container: the desired pod
    container: Container | None = None  # create container
    role: Role = Role.CONTAINER
    labels: tuple[tuple[str, str], ...] = ()  # the labels the created object carries
    timeout: int = 0  # stop / remove: seconds to wait before SIGKILL
    lane: str = ""  # steps of one lane run in order; lanes may run side by side; "" = alone, in order
    pod_name: str = ""  # container steps: the pod the container belongs to
    data: bytes = field(default=b"", repr=False)  # create secret: the value (never shown)
    path: str = ""  # create sub-path directory: the directory, as a path inside the container
    # create pod: the network it joins; connect / disconnect network: the network (target: the infra container)
    network: str = ""
    aliases: tuple[str, ...] = ()  # create pod, connect network: the pod's names on the network
    subnet: str = ""  # create network
    host_path_type: str = ""  # create host path: DirectoryOrCreate or FileOrCreate (target: the path)

    def describe(self) -> str:
        if self.kind is StepKind.CREATE_SUB_PATH:
            return f"{self.kind.words} {self.path} in {self.target}"
        if self.kind is StepKind.CREATE_HOST_PATH:
            what = "directory" if self.host_path_type == "DirectoryOrCreate" else "file"
            return f"create host {what} {self.target} (if missing)"
        if self.kind is StepKind.CONNECT_NETWORK:
            return f"connect pod {self.pod_name} to network {self.network}"
        if self.kind is StepKind.DISCONNECT_NETWORK:
            return f"disconnect pod {self.pod_name} from network {self.network}"
        return f"{self.kind.words} {self.target}"

    @property
    def resource(self) -> ResourceId:
        kind = self.kind.resource_kind
        if self.kind in (StepKind.CONNECT_NETWORK, StepKind.DISCONNECT_NETWORK):
            return ResourceId(kind, self.network, self.pod_name)
        if kind is ResourceKind.CONTAINER and self.pod_name:
            short = self.container.name if self.container is not None else container_in_pod(self.pod_name, self.target)
            return ResourceId(kind, short, self.pod_name)
        return ResourceId(kind, self.target)


@dataclass(frozen=True)
class Plan:
    project: str
    steps: tuple[Step, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.steps
