"""FakeEngine: the engine contract kept with plain dicts, for tests of workflows and the CLI.

It behaves as Podman does for everything podspec relies on, and the contract tests
(tests/contract/test_engine_contract.py) run the same cases against it and a real Podman:

- creating a pod creates its infra container (`<pod id 12>-infra`, carrying the pod's labels and
  published ports); starting the pod starts the infra container and every container in it, and
  runs the init containers first: those of type `once` are removed after that first start, those
  of type `always` stay (exited) and run again at the next start of a stopped pod. An init
  container cannot be added to a running pod;
- a container mounting a named volume that does not exist creates it (unlabelled), as Podman does;
  a volume in use by any container cannot be removed; removing a pod (always with force) removes
  its containers and keeps its volumes;
- names are unique per kind (pods, containers, volumes), and a clash is refused with Podman's own
  words, as are unknown objects and images that are not on the host;
- `pull` succeeds for the references it was told are pullable and fails for the others, the way
  Podman's pull stream fails;
- a secret holds 1 to 511999 bytes, its name is unique, and a container can only be created with
  secrets (env or files) that exist; its list leaves the labels out on 4.3, as Podman 4.3's does.

Each refusal is an EngineError worded as PodmanEngine words it (`Podman refused to <step>:
<Podman's message>`, with parse.hint's hint), so workflows cannot tell the two apart.

For tests: every call is recorded in `calls` (see `count`); `fail(...)` makes a later step or read
fail; `set_state` changes a container as a person (or a crash) would; `add_image`, `allow_pull`
and `set_health` arrange the host.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import json
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from podspec.engine import parse
from podspec.engine.specgen import container_body, pod_body
from podspec.errors import EngineError
from podspec.names import port_text
from podspec.observed import (
    ContainerState,
    HostFacts,
    ObservedContainer,
    ObservedImage,
    ObservedNetwork,
    ObservedSecret,
    ObservedState,
    ObservedVolume,
    ProbeResult,
    PulledImage,
    PullProgress,
    pods_from_containers,
)
from podspec.plan import Step, StepKind
from podspec.references import expanded, stored_names

if TYPE_CHECKING:
    from collections.abc import Callable

    from podspec.engine.probes import ProbeTarget
    from podspec.model import Probe
    from podspec.secrets import RegistryCredential

PAUSE_IMAGE = "localhost/podman-pause:fake"
FAKE_HOSTNAME = "fakehost"  # the host's name GET /info reports (fieldRef spec.nodeName)
_instances = itertools.count(1)


@dataclass(frozen=True)
class Call:
    """One call made to the engine: the method ("observe", "pull", ...; for `run`, the step kind's
    stable identifier, "create_pod") and its argument (the name or reference; the step's target)."""

    method: str
    argument: str = ""


@dataclass
class FakeImage:
    id: str
    names: tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)  # inspect's Config (Env, Cmd, User, ...)


@dataclass
class FakeVolume:
    name: str
    labels: dict[str, str]


@dataclass
class FakeNetwork:
    name: str
    labels: dict[str, str]
    subnet: str
    attached: dict[str, tuple[str, ...]] = field(default_factory=dict)  # infra container name -> its aliases


@dataclass
class FakeSecret:
    id: str
    name: str
    labels: dict[str, str]
    data: bytes = field(repr=False)


@dataclass
class FakePod:
    id: str
    name: str
    labels: dict[str, str]
    infra: str  # the infra container's name
    body: dict[str, Any]  # the pod's create body (specgen.pod_body)


@dataclass
class FakeContainer:
    id: str
    name: str
    pod: str  # the pod's name, "" for none
    image: str  # as written at create
    image_id: str
    labels: dict[str, str]
    state: ContainerState = ContainerState.CREATED
    exit_code: int = 0
    is_infra: bool = False
    init_type: str = ""  # "once" or "always" for an init container
    body: dict[str, Any] = field(default_factory=dict)  # its create body (specgen.container_body)
    ports: tuple[str, ...] = ()  # infra container: the pod's published ports
    health: tuple[str, str] | None = None  # (status, output), set by set_health
    probe_results: dict[str, list[bool]] = field(default_factory=dict)  # handler -> results to give, set by set_probe
    restarts: int = 0  # restart-container steps it took
    starts: int = 0  # times it was started (its started_at, in observe)


@dataclass
class _Fault:
    method: str  # a StepKind's value ("create_pod") or a read's name ("observe", "pull", ...)
    target: str  # "" for any
    message: str
    times: int  # how many calls fail; -1 for every one


class FakeEngine:
    """A dict-backed engine; see the module's docstring for what it promises."""

    def __init__(self, images: Iterable[str] = (), pullable: Iterable[str] = (), version: str = "4.3.1",
                 rootless: bool = False, port_start: int | None = 1024, uid: int | None = None,
                 unreadable: Iterable[str] = ()) -> None:
        """`rootless`, `port_start` and `uid` are what host() reports (uid: 0 for root, 1000 for a
        rootless one, unless given); `unreadable` host paths are those readable_host_paths() denies."""
        self.pods: dict[str, FakePod] = {}
        self.containers: dict[str, FakeContainer] = {}
        self.volumes: dict[str, FakeVolume] = {}
        self.secrets: dict[str, FakeSecret] = {}
        # Podman's default network is always there (DNS off), as on a real host.
        self.networks: dict[str, FakeNetwork] = {"podman": FakeNetwork("podman", {}, "10.88.0.0/16")}
        self.host_subnets: set[str] = set()  # subnets the host uses outside this Podman (a route): refused
        self.held_names: dict[str, int] = {}  # hold_names: look-ups of a name that find nothing yet
        self.images_: dict[str, FakeImage] = {}
        self.pullable: set[str] = set()
        self.pull_configs: dict[str, dict[str, Any]] = {}  # allow_pull's config of a pulled image
        self.pull_users: list[tuple[str, str]] = []  # (reference, the credential's user name or "") per pull
        self.calls: list[Call] = []
        self.closed = False
        self._version = version
        self._host = HostFacts(rootless=rootless, uid=uid if uid is not None else (1000 if rootless else 0),
                               unprivileged_port_start=port_start, version=version, hostname=FAKE_HOSTNAME)
        self.unreadable = set(unreadable)
        self.busy_ports: set[tuple[int, str]] = set()  # (port, protocol) held by "another process"
        self.sub_paths: set[tuple[str, str]] = set()  # (container, directory) made by create-sub-path steps
        self.host_paths: dict[str, str] = {}  # host path -> "directory" / "file", made by create-host-path steps
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._instance = next(_instances)
        self._events: list[dict[str, Any]] = []  # emitted by the test, handed out by events()
        for name in images:
            self.add_image(name)
        for reference in pullable:
            self.allow_pull(reference)

    # --------------------------------------------------------------------------- arranging

    def add_image(self, name: str, config: Mapping[str, Any] | None = None, image_id: str = "") -> FakeImage:
        """An image on the host, under its fully qualified name (`alpine` is docker.io/library/alpine:latest)."""
        qualified = qualify(name)
        image = FakeImage(image_id or _digest("image", qualified), (qualified,), dict(config or {"Env": ["PATH=/bin"]}))
        self.images_[image.id] = image
        return image

    def allow_pull(self, reference: str, config: Mapping[str, Any] | None = None) -> None:
        """`pull(reference)` will succeed (and add the image, or give its name a new image; `config`:
        the pulled image's Config, else the local one's)."""
        self.pullable.add(qualify(reference))
        if config is not None:
            self.pull_configs[qualify(reference)] = dict(config)

    def set_state(self, container: str, state: ContainerState, exit_code: int = 0) -> None:
        """Change a container as a person or a crash would (not recorded as a call)."""
        with self._lock:
            c = self._container(container, "change container")
            c.state, c.exit_code = state, exit_code

    def set_health(self, container: str, status: str, output: str = "") -> None:
        with self._lock:
            self._container(container, "change container").health = (status, output)

    def set_probe(self, container: str, results: Sequence[bool] | bool, handler: str = "") -> None:
        """What `probe` says of `container` from now on (handler "" for any kind of probe): a list
        is given out one result per probe, its last one repeated; a bool is always that."""
        with self._lock:
            given = [results] if isinstance(results, bool) else list(results)
            self._container(container, "change container").probe_results[handler] = given

    def fail(self, what: StepKind | str, target: str = "", message: str = "injected failure", times: int = 1) -> None:
        """Make the next `times` calls of `what` fail (-1: every one) with EngineError, changing nothing.

        `what` is a StepKind (`run` of such a step; `target` narrows it to one object) or the name
        of a read: "observe", "images", "version", "pod_names", "inspect_pod", ..., "pull".
        """
        method = what.value if isinstance(what, StepKind) else what
        self._faults.append(_Fault(method, target, message, times))

    def emit(self, event: Mapping[str, Any]) -> None:
        """Queue a libpod-shaped event ({"Type", "Action", "Actor": {"Attributes": labels}}) for events()."""
        with self._lock:
            self._events.append(dict(event))

    def changes(self) -> list[Call]:
        """The calls that change the host, in order: plan steps, pulls, host-side locks (not reads, not close)."""
        changing = {kind.value for kind in StepKind} | {"pull", "create_lock", "remove_lock"}
        return [c for c in self.calls if c.method in changing]

    def count(self, method: str, argument: str | None = None) -> int:
        """How many calls of `method` were made (with `argument`, if given)."""
        return sum(1 for c in self.calls if c.method == method and (argument is None or c.argument == argument))

    # ---------------------------------------------------------------------------- the contract

    @property
    def url(self) -> str:
        return f"fake://engine-{self._instance}"

    @property
    def lock_key(self) -> str:
        return f"fake:{self._instance}"

    @property
    def concurrent(self) -> bool:
        """False: a second reader waits for the first, so that `calls` keeps one order."""
        return False

    def observe(self, pods: Collection[str] | None = None, images: Collection[str] | None = None) -> ObservedState:
        self._record("observe", "" if pods is None else ",".join(sorted(pods)))
        with self._lock:
            containers = tuple(sorted((self._observed(c) for c in self.containers.values()), key=lambda c: c.name))
            volumes = tuple(ObservedVolume(v.name, dict(v.labels)) for _, v in sorted(self.volumes.items()))
            secrets = tuple(  # Podman 4.3 lists secrets without their labels
                ObservedSecret(s.id, s.name, {} if self._v4 else dict(s.labels), labels_listed=not self._v4)
                for _, s in sorted(self.secrets.items())
            )
            networks = tuple(ObservedNetwork(n.name, dict(n.labels), (n.subnet,), dns=n.name != "podman",
                                             gateways=(str(ipaddress.ip_network(n.subnet)[1]),))
                             for _, n in sorted(self.networks.items()))
            listed = self._images() if images is None else self._named(images)
            state = ObservedState(pods_from_containers(containers), containers, volumes, listed, secrets, networks,
                                  image_scope=None if images is None else frozenset(images))
            return state if pods is None else state.narrowed(pods)

    def images_named(self, references: Collection[str]) -> tuple[ObservedImage, ...]:
        self._record("images_named", ",".join(sorted(references)))
        with self._lock:
            return self._named(references)

    def list_volumes(self) -> tuple[ObservedVolume, ...]:
        self._record("list_volumes")
        with self._lock:
            return tuple(ObservedVolume(v.name, dict(v.labels)) for _, v in sorted(self.volumes.items()))

    def images(self) -> tuple[ObservedImage, ...]:
        self._record("images")
        with self._lock:
            return self._images()

    def version(self) -> str:
        self._record("version")
        return self._version

    def host(self) -> HostFacts:
        self._record("host")
        return self._host

    def local_facts(self) -> HostFacts | None:
        """Not recorded: the real engine makes no Podman call for it (peer credentials, a sysctl)."""
        return replace(self._host, cgroup_controllers=None, version="?")

    def readable_host_paths(self, paths: Sequence[str]) -> dict[str, bool | None]:
        self._record("readable_host_paths")
        return {p: p not in self.unreadable for p in paths}

    def resolved_host_paths(self, paths: Sequence[str]) -> dict[str, str | None]:
        """The fake's host is this machine's file system (tests make their links in a temporary directory)."""
        import os

        self._record("resolved_host_paths")
        return {p: os.path.realpath(p) for p in paths}

    def ports_in_use(self, ports: Sequence[tuple[str, int, str]]) -> tuple[tuple[str, int, str], ...] | None:
        """The ports among `ports` that `busy_ports` holds (a test's stand-in for other processes)."""
        self._record("ports_in_use")
        return tuple(p for p in ports if (p[1], p[2]) in self.busy_ports)

    def pod_names(self) -> tuple[str, ...]:
        self._record("pod_names")
        with self._lock:
            return tuple(sorted(self.pods))

    def inspect_pod(self, name: str) -> dict[str, Any]:
        self._record("inspect_pod", name)
        with self._lock:
            return self._inspect_pod(self._pod(name, f"inspect pod {name}"))

    def inspect_container(self, name: str) -> dict[str, Any]:
        self._record("inspect_container", name)
        with self._lock:
            return self._inspect_container(self._container(name, f"inspect container {name}"))

    def inspect_image(self, reference: str) -> dict[str, Any]:
        self._record("inspect_image", reference)
        with self._lock:
            image = self._image(reference)
            if image is None:
                raise _refused(f"inspect image {reference}", f"{reference}: image not known")
            return {"Id": image.id, "RepoTags": list(image.names), "NamesHistory": list(image.names),
                    "Config": json.loads(json.dumps(image.config)), "User": image.config.get("User", "")}

    def inspect_volume(self, name: str) -> dict[str, Any]:
        self._record("inspect_volume", name)
        with self._lock:
            volume = self.volumes.get(name)
            if volume is None:
                raise _refused(f"inspect volume {name}", f"no volume with name {name!r} found: no such volume")
            return {"Name": volume.name, "Driver": "local", "Labels": dict(volume.labels), "Scope": "local", "Options": {}}

    def secret_labels(self, name: str) -> dict[str, str] | None:
        self._record("secret_labels", name)
        with self._lock:
            found = self.secrets.get(name)
            return None if found is None else dict(found.labels)

    def generate_kube(self, pod: str) -> str:
        """A Pod document as `podman kube generate` writes it (JSON is YAML): names, images, commands."""
        self._record("generate_kube", pod)
        with self._lock:
            p = self._pod(pod, f"generate the kube YAML of pod {pod}")
            members = [c for c in self._members(p.name) if not c.is_infra]

            def spec(c: FakeContainer) -> dict[str, Any]:
                entry: dict[str, Any] = {"name": c.name, "image": c.image}
                if c.body.get("command") or c.body.get("entrypoint"):
                    entry["command"] = list(c.body.get("entrypoint") or []) + list(c.body.get("command") or [])
                return entry

            document = {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": p.name, "labels": {"app": p.name}},
                "spec": {"containers": [spec(c) for c in members if not c.init_type],
                         "initContainers": [spec(c) for c in members if c.init_type]},
            }
            return "# Created by podspec's FakeEngine\n" + json.dumps(document, indent=2) + "\n"

    def run_healthcheck(self, name: str) -> tuple[str, str]:
        self._record("run_healthcheck", name)
        with self._lock:
            c = _by_name_or_id(self.containers, name)
            if c is None:
                return "unknown", f"Podman refused to run the health check of {name}: no container with name or ID {name!r} found"
            if not c.body.get("healthconfig"):
                return "unknown", f"Podman refused to run the health check of {name}: container {c.id} has no defined healthcheck"
            if c.health is not None:
                return c.health
            return ("healthy", "") if c.state is ContainerState.RUNNING else ("unhealthy", "container is not running")

    def probe(self, target: ProbeTarget, probe: Probe, image: str = "") -> ProbeResult:
        """A running container passes its probes unless set_probe says otherwise; one not running fails."""
        self._record("probe", target.container)
        with self._lock:
            c = _by_name_or_id(self.containers, target.container)
            if c is None or c.state is not ContainerState.RUNNING:
                return ProbeResult(False, "container is not running")
            given = c.probe_results.get(probe.handler.value, c.probe_results.get(""))
            if not given:
                return ProbeResult(True)
            ok = given.pop(0) if len(given) > 1 else given[0]
            return ProbeResult(ok, "" if ok else "probe failed (FakeEngine)")

    def end_probes(self) -> None:
        self._record("end_probes")

    def resolve(self, target: ProbeTarget, name: str, server: str, image: str = "") -> ProbeResult:
        """`name` answers at the network whose gateway is `server` when a running pod carries it as an
        alias there (as aardvark-dns serves a container's names from its start to its stop), unless
        `hold_names` holds it back (a DNS server that is slow to serve new names)."""
        self._record("resolve", name)
        with self._lock:
            if self.held_names.get(name, 0) > 0:
                self.held_names[name] -= 1
                return ProbeResult(False, f"** server can't find {name}: NXDOMAIN")
            for network in self.networks.values():
                if str(ipaddress.ip_network(network.subnet)[1]) != server:
                    continue
                for infra, aliases in network.attached.items():
                    c = self.containers.get(infra)
                    if name in aliases and c is not None and c.state is ContainerState.RUNNING:
                        return ProbeResult(True, f"Address: (of {infra} on {network.name})")
            return ProbeResult(False, f"** server can't find {name}: NXDOMAIN")

    def hold_names(self, name: str, times: int) -> None:
        """The next `times` look-ups of `name` find nothing (aardvark-dns 1.4 serves a reconnected pod's
        new names late)."""
        with self._lock:
            self.held_names[name] = times

    def events(self, filters: Mapping[str, Sequence[str]],
               opened: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
        """The events emitted so far that pass `filters` (label=key=value and type, as libpod
        filters them); then the stream ends, as when the service closes it."""
        self._record("events")
        if opened is not None:
            opened()
        with self._lock:
            queued, self._events = self._events, []
        for event in queued:
            attributes = (event.get("Actor") or {}).get("Attributes") or {}
            labels = [f"{k}={v}" for k, v in attributes.items()]
            if filters.get("type") and event.get("Type") not in filters["type"]:
                continue
            if filters.get("label") and not any(wanted in labels for wanted in filters["label"]):
                continue
            yield event

    def pull(self, reference: str, credential: RegistryCredential | None = None,
             progress: Callable[[PullProgress], None] | None = None) -> PulledImage:
        self._record("pull", reference)
        qualified = qualify(reference)
        with self._lock:
            if qualified not in self.pullable:
                raise EngineError(
                    f"cannot pull {reference}: initializing source docker://{reference}: "
                    "reading manifest: manifest unknown (FakeEngine: not pullable)",
                    "check the image name and the registry",
                )
            self.pull_users.append((reference, credential.username if credential else ""))
            old = self._image(reference)
            if old is not None:
                old.names = tuple(n for n in old.names if n != qualified)
            new_id = self._new_id("pulled", qualified)
            config = self.pull_configs.get(qualified) or (dict(old.config) if old else {"Env": ["PATH=/bin"]})
            self.images_[new_id] = FakeImage(new_id, (qualified,), dict(config))
        if progress is not None:  # one layer, reported as Podman reports a small one: known, then done
            progress(PullProgress(reference, 1, 0, 0, 0))
            progress(PullProgress(reference, 1, 1, 0, 0))
        return PulledImage(reference, new_id, 1024, 1)

    def list_tags(self, repository: str, credential: RegistryCredential | None = None) -> tuple[str, ...]:
        """The tags of the pullable references of `repository`; a repository with none is unknown."""
        self._record("list_tags", repository)
        prefix = qualify(repository + ":x")[:-1]  # "repo:" fully qualified
        tags = sorted(ref[len(prefix):] for ref in self.pullable if ref.startswith(prefix))
        if not tags:
            message = "getting repository tags: fetching tags list: invalid status code from registry 404 (Not Found)"
            raise EngineError(f"cannot list the tags of {repository}: {message}", "check the repository name",
                              parse.refusal(500, message))
        return tuple(tags)

    def run(self, step: Step) -> None:
        """Perform one plan step, as Podman would."""
        self._record(step.kind.value, step.target)
        with self._lock:
            handler = _HANDLERS[step.kind]
            handler(self, step)

    # ------------------------------------------------------------------ the host-side project lock
    # Kept as volumes, as PodmanEngine keeps it: visible to observe(), atomic under the fake's lock.

    def create_lock(self, name: str, labels: Mapping[str, str]) -> bool:
        self._record("create_lock", name)
        with self._lock:
            if name in self.volumes:
                return False
            self.volumes[name] = FakeVolume(name, dict(labels))
            return True

    def lock_labels(self, name: str) -> dict[str, str] | None:
        self._record("lock_labels", name)
        with self._lock:
            volume = self.volumes.get(name)
            return dict(volume.labels) if volume is not None else None

    def remove_lock(self, name: str) -> None:
        self._record("remove_lock", name)
        with self._lock:
            self.volumes.pop(name, None)

    def close(self) -> None:
        self._record("close")
        self.closed = True

    def __enter__(self) -> FakeEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------- steps

    def _create_volume(self, step: Step) -> None:
        name = step.target
        if name in self.volumes:
            raise _refused(step.describe(), f"volume with name {name} already exists: volume already exists")
        self.volumes[name] = FakeVolume(name, dict(step.labels))

    def _create_pod(self, step: Step) -> None:
        assert step.pod is not None
        name = step.target
        if name in self.pods:
            raise _refused(step.describe(), f'failed to make pod: adding pod to state: name "{name}" is in use: pod already exists')
        labels = dict(step.labels)
        body = pod_body(step.pod, labels, step.network, step.aliases)
        pod_id = self._new_id("pod", name)
        infra = FakeContainer(
            id=self._new_id("container", name), name=f"{pod_id[:12]}-infra", pod=name, image=PAUSE_IMAGE,
            image_id=_digest("image", PAUSE_IMAGE), labels=dict(labels), is_infra=True,
            ports=tuple(sorted(port_text(p.get("host_ip") or "", p["host_port"], p["container_port"], p["protocol"])
                               for p in body.get("portmappings", ()))),
            body={"name": f"{pod_id[:12]}-infra", "pod": name},
        )
        joins = body.get("Networks") or ({} if (body.get("netns") or {}).get("nsmode") == "host" else {"podman": {}})
        for network in joins:
            if network not in self.networks:
                raise _refused(step.describe(), f"unable to find network with name or ID {network}: network not found")
        self.pods[name] = FakePod(pod_id, name, labels, infra.name, body)
        self.containers[infra.name] = infra
        for network, options in joins.items():
            self.networks[network].attached[infra.name] = tuple(options.get("aliases") or ())

    def _create_container(self, step: Step) -> None:
        assert step.pod is not None and step.container is not None
        body = container_body(step.pod, step.container, step.role, dict(step.labels))
        name, pod_name, what = body["name"], body["pod"], step.describe()
        pod = self.pods.get(pod_name)
        if pod is None:
            raise _refused(what, f"no pod with name or ID {pod_name} found: no such pod")
        if name in self.containers:
            raise _refused(what, f'creating container storage: the container name "{name}" is already in use by '
                                 f"{self.containers[name].id}. You have to remove that container to be able to reuse "
                                 "that name: that name is already in use")
        image = self._image(body["image"])
        if image is None:
            raise _refused(what, f"{body['image']}: image not known")
        init_type = body.get("init_container_type", "")
        if init_type and self._running(pod):
            raise _refused(what, f"cannot add init-ctr to a running pod: {pod.id}")
        for secret in [*body.get("secret_env", {}).values(), *(f["Source"] for f in body.get("secrets", ()))]:
            if secret not in self.secrets:
                raise _refused(what, f"{secret}: no such secret")
        for volume in body.get("volumes", ()):
            self.volumes.setdefault(volume["Name"], FakeVolume(volume["Name"], {}))  # as Podman: made on use
        self.containers[name] = FakeContainer(
            id=self._new_id("container", name), name=name, pod=pod_name, image=body["image"], image_id=image.id,
            labels=dict(body.get("labels") or {}), init_type=init_type, body=body,
        )

    def _create_sub_path(self, step: Step) -> None:
        """As Podman 5 does through the created container: the directory is made in the volume
        mounted there (recorded in `sub_paths`); an unknown container is refused."""
        self._container(step.target, step.describe())
        self.sub_paths.add((step.target, step.path))

    def _create_host_path(self, step: Step) -> None:
        """As the helper does on a real host: a missing path is made (recorded in `host_paths`, with
        its kind); one that exists (in `host_paths` already) is left as it is."""
        self.host_paths.setdefault(step.target, "directory" if step.host_path_type == "DirectoryOrCreate" else "file")

    def _start_pod(self, step: Step) -> None:
        pod = self._pod(step.target, step.describe())
        members = self._members(pod.name)
        if not self._running(pod):
            self.containers[pod.infra].state = ContainerState.RUNNING
            for c in members:  # init containers run to completion, in order, before the others start
                if c.init_type and (c.init_type == "always" or c.state is ContainerState.CREATED):
                    c.state, c.exit_code = ContainerState.EXITED, 0
                    if c.init_type == "once":
                        del self.containers[c.name]
        for c in members:
            if not c.is_infra and not c.init_type and c.state is not ContainerState.RUNNING:
                c.state, c.exit_code, c.starts = ContainerState.RUNNING, 0, c.starts + 1

    def _start_container(self, step: Step) -> None:
        c = self._container(step.target, step.describe())
        if c.pod:
            self.containers[self.pods[c.pod].infra].state = ContainerState.RUNNING  # a dependency: started first
        if c.init_type:
            c.state, c.exit_code = ContainerState.EXITED, 0
        else:
            c.state, c.exit_code, c.starts = ContainerState.RUNNING, 0, c.starts + 1

    def _restart_container(self, step: Step) -> None:
        c = self._container(step.target, step.describe())
        c.state, c.exit_code = ContainerState.RUNNING, 0
        c.restarts += 1
        c.starts += 1

    def _stop_pod(self, step: Step) -> None:
        pod = self._pod(step.target, step.describe())
        for c in self._members(pod.name) + [self.containers[pod.infra]]:
            if c.state in (ContainerState.RUNNING, ContainerState.PAUSED):
                c.state = ContainerState.EXITED

    def _remove_pod(self, step: Step) -> None:
        pod = self._pod(step.target, step.describe())
        for c in self._members(pod.name) + [self.containers[pod.infra]]:
            del self.containers[c.name]
        for network in self.networks.values():
            network.attached.pop(pod.infra, None)
        del self.pods[pod.name]

    def _remove_container(self, step: Step) -> None:
        c = self._container(step.target, step.describe())
        if c.is_infra:
            raise _refused(step.describe(), f"container {c.id} is the infra container of pod {c.pod} "
                                            "and cannot be removed without removing the pod")
        del self.containers[c.name]

    def _remove_volume(self, step: Step) -> None:
        name = step.target
        if name not in self.volumes:
            raise _refused(step.describe(), f"no volume with name {name!r} found: no such volume")
        users = sorted(c.id for c in self.containers.values() if any(v["Name"] == name for v in c.body.get("volumes", ())))
        if users:
            raise _refused(step.describe(), f"volume {name} is being used by the following container(s): "
                                            f"{', '.join(users)}: volume is being used")
        del self.volumes[name]

    def _create_network(self, step: Step) -> None:
        if step.target in self.networks:
            raise _refused(step.describe(), f"network name {step.target} already used: network already exists")
        used = [n.subnet for n in self.networks.values()]
        if step.subnet in used or step.subnet in self.host_subnets:
            raise _refused(step.describe(), f"subnet {step.subnet} is already used on the host or by another config")
        self.networks[step.target] = FakeNetwork(step.target, dict(step.labels), step.subnet)

    def _remove_network(self, step: Step) -> None:
        network = self.networks.get(step.target)
        if network is None:
            raise _refused(step.describe(), f"unable to find network with name or ID {step.target}: network not found")
        if any(name in self.containers for name in network.attached):
            raise _refused(step.describe(), f'"{step.target}" has associated containers with it. Use -f to forcibly '
                                            "delete containers and pods: network is being used")
        del self.networks[step.target]

    def _connect_network(self, step: Step) -> None:
        network = self.networks.get(step.network)
        c = self._container(step.target, step.describe())
        if network is None:
            raise _refused(step.describe(), f"unable to find network with name or ID {step.network}: network not found")
        if c.name in network.attached:
            raise _refused(step.describe(), f"container {c.id} is already connected to network {step.network!r}: "
                                            "network is already connected")
        network.attached[c.name] = tuple(step.aliases)

    def _disconnect_network(self, step: Step) -> None:
        network = self.networks.get(step.network)
        c = self._container(step.target, step.describe())
        if network is None or c.name not in network.attached:
            raise _refused(step.describe(), f"container {c.id} is not connected to network {step.network}")
        del network.attached[c.name]

    def aliases(self, pod: str) -> dict[str, tuple[str, ...]]:
        """The pod's networks and its names on each (for tests)."""
        infra = self.pods[pod].infra
        return {n.name: n.attached[infra] for n in self.networks.values() if infra in n.attached}

    def _create_secret(self, step: Step) -> None:
        name = step.target
        if name in self.secrets:
            raise _refused(step.describe(), f"{name}: secret name in use")
        if not 0 < len(step.data) < 512000:
            raise _refused(step.describe(), "secret data must be larger than 0 and less than 512000 bytes")
        self.secrets[name] = FakeSecret(self._new_id("secret", name)[:25], name, dict(step.labels), step.data)

    def _remove_secret(self, step: Step) -> None:
        if step.target not in self.secrets:
            raise _refused(step.describe(), f"{step.target}: no such secret")
        del self.secrets[step.target]

    # ----------------------------------------------------------------------------- plumbing

    # Where the inspect shapes of Podman 4.3 and 5.4 differ (see tests/fixtures/podman/), the fake
    # answers as the version it was given.
    @property
    def _v4(self) -> bool:
        return self._version.startswith("4.")

    @property
    def _any_address(self) -> str:
        """A pod's PortBindings name "every address" "" on 4.3, "0.0.0.0" on 5.4."""
        return "" if self._v4 else "0.0.0.0"

    def _record(self, method: str, argument: str = "") -> None:
        with self._lock:
            self.calls.append(Call(method, argument))
            for fault in self._faults:
                if fault.method == method and fault.target in ("", argument) and fault.times != 0:
                    fault.times -= 1 if fault.times > 0 else 0
                    what = f"{method.replace('_', ' ')} {argument}".strip()
                    raise parse.refused(what, 500, fault.message)

    def _new_id(self, kind: str, name: str) -> str:
        return _digest(kind, name, str(next(self._ids)), str(self._instance))

    def _pod(self, name: str, what: str) -> FakePod:
        pod = _by_name_or_id(self.pods, name)
        if pod is None:
            raise _refused(what, f"no pod with name or ID {name} found: no such pod")
        return pod

    def _container(self, name: str, what: str) -> FakeContainer:
        c = _by_name_or_id(self.containers, name)
        if c is None:
            raise _refused(what, f'no container with name or ID "{name}" found: no such container')
        return c

    def _members(self, pod: str) -> list[FakeContainer]:
        """The pod's containers other than its infra one, in creation order."""
        return [c for c in self.containers.values() if c.pod == pod and not c.is_infra]

    def _running(self, pod: FakePod) -> bool:
        return self.containers[pod.infra].state is ContainerState.RUNNING

    def _image(self, reference: str) -> FakeImage | None:
        """The image a container made from `reference` runs, as Podman finds it (a short name also
        as built on the host, localhost/: ObservedState.image_id)."""
        names = {qualify(reference)} if "@" in reference else set(stored_names(reference))
        return next((i for i in self.images_.values() if names & set(i.names) or reference == i.id), None)

    def _named(self, references: Collection[str]) -> tuple[ObservedImage, ...]:
        """The images `references` name, as ObservedState.image_id() finds them, each once."""
        every = ObservedState(images=self._images())
        found = {every.image_id(reference) for reference in references}
        return tuple(i for i in every.images if i.id in found)

    def _images(self) -> tuple[ObservedImage, ...]:
        return tuple(ObservedImage(i.id, tuple(sorted(i.names))) for i in self.images_.values() if i.names)

    def _observed(self, c: FakeContainer) -> ObservedContainer:
        pod = self.pods.get(c.pod)
        return ObservedContainer(
            id=c.id, name=c.name, pod_id=pod.id if pod else "", pod_name=c.pod, state=c.state, image=c.image,
            image_id=c.image_id, is_infra=c.is_infra, exit_code=c.exit_code, labels=dict(c.labels), ports=c.ports,
            networks=tuple(sorted(n.name for n in self.networks.values() if c.name in n.attached)) if c.is_infra else (),
            started_at=c.starts,
        )

    def _inspect_pod(self, pod: FakePod) -> dict[str, Any]:
        members = self._members(pod.name) + [self.containers[pod.infra]]
        status = pods_from_containers(tuple(self._observed(c) for c in members))[0].status
        body = pod.body
        bindings: dict[str, list[dict[str, str]]] = {}
        for p in body.get("portmappings", ()):
            bindings.setdefault(f"{p['container_port']}/{p['protocol']}", []).append(
                {"HostIp": p.get("host_ip") or self._any_address, "HostPort": str(p["host_port"])})
        return {
            "Id": pod.id, "Name": pod.name, "State": status.value, "Hostname": body.get("hostname", ""),
            "Labels": dict(pod.labels), "CreateInfra": True, "InfraContainerID": self.containers[pod.infra].id,
            "InfraConfig": {"PortBindings": bindings, "HostNetwork": (body.get("netns") or {}).get("nsmode") == "host",
                            "HostAdd": body.get("hostadd")},
            "NumContainers": len(members),
            "Containers": [{"Id": c.id, "Name": c.name, "State": c.state.value} for c in sorted(members, key=lambda c: c.id)],
        }

    def _inspect_container(self, c: FakeContainer) -> dict[str, Any]:
        body = c.body
        image = self.images_.get(c.image_id)
        image_env = list((image.config.get("Env") if image else None) or [])
        term = ["TERM=xterm"] if self._v4 else []
        env = [*image_env, *term, "container=podman", "HOME=/root", f"HOSTNAME={c.pod or c.id[:12]}",
               *(f"{k}={v}" for k, v in (body.get("env") or {}).items())]
        entrypoint, command = list(body.get("entrypoint") or []), list(body.get("command") or [])
        if not entrypoint and not command and image is not None:
            command = list(image.config.get("Cmd") or [])
        argv = entrypoint + command
        mounts = [{"Type": "volume", "Name": v["Name"], "Destination": v["Dest"], "RW": "ro" not in v.get("Options", ()),
                   "Options": ["nosuid", "nodev", "rbind"], **({"SubPath": v["SubPath"]} if v.get("SubPath") else {})}
                  for v in body.get("volumes", ())]
        mounts += [{"Type": "bind", "Source": m["Source"], "Destination": m["Destination"],
                    "RW": "ro" not in m.get("Options", ()), "Options": ["rbind"]} for m in body.get("mounts", ())]
        return {
            "Id": c.id, "Name": c.name, "Pod": self.pods[c.pod].id if c.pod in self.pods else "",
            "Image": c.image_id, "ImageName": c.image, "IsInfra": c.is_infra,
            "Path": argv[0] if argv else "", "Args": argv[1:],
            "State": {"Status": c.state.value, "Running": c.state is ContainerState.RUNNING, "ExitCode": c.exit_code,
                      "Health": {"Status": (c.health or ("", ""))[0], "Log": None}},
            "Config": {
                "Labels": dict(c.labels) or None, "Image": c.image, "Env": env, "Cmd": body.get("command"),
                "Entrypoint": " ".join(entrypoint) if self._v4 else entrypoint,  # 4.x: one string
                "WorkingDir": body.get("work_dir") or "/", "Hostname": c.pod or c.id[:12],
                "Annotations": dict(body.get("annotations") or {}), "StopTimeout": body.get("stop_timeout", 10),
                "User": body.get("user", ""), "Healthcheck": body.get("healthconfig"),
            },
            "HostConfig": {"RestartPolicy": {"Name": body.get("restart_policy", "")}, "Privileged": bool(body.get("privileged")),
                           "CapAdd": list(body.get("cap_add") or []), "CapDrop": list(body.get("cap_drop") or []),
                           "ReadonlyRootfs": bool(body.get("read_only_filesystem"))},
            "Mounts": mounts,
        }


_HANDLERS = {
    StepKind.CREATE_VOLUME: FakeEngine._create_volume,
    StepKind.CREATE_POD: FakeEngine._create_pod,
    StepKind.CREATE_CONTAINER: FakeEngine._create_container,
    StepKind.START_POD: FakeEngine._start_pod,
    StepKind.START_CONTAINER: FakeEngine._start_container,
    StepKind.RESTART_CONTAINER: FakeEngine._restart_container,
    StepKind.STOP_POD: FakeEngine._stop_pod,
    StepKind.REMOVE_POD: FakeEngine._remove_pod,
    StepKind.REMOVE_CONTAINER: FakeEngine._remove_container,
    StepKind.REMOVE_VOLUME: FakeEngine._remove_volume,
    StepKind.CREATE_SECRET: FakeEngine._create_secret,
    StepKind.REMOVE_SECRET: FakeEngine._remove_secret,
    StepKind.CREATE_SUB_PATH: FakeEngine._create_sub_path,
    StepKind.CREATE_HOST_PATH: FakeEngine._create_host_path,
    StepKind.CREATE_NETWORK: FakeEngine._create_network,
    StepKind.REMOVE_NETWORK: FakeEngine._remove_network,
    StepKind.CONNECT_NETWORK: FakeEngine._connect_network,
    StepKind.DISCONNECT_NETWORK: FakeEngine._disconnect_network,
}


def _by_name_or_id(objects: Mapping[str, Any], key: str) -> Any:
    """As Podman looks objects up: by name, else by ID, else by a prefix of one ID only."""
    if key in objects:
        return objects[key]
    found = [o for o in objects.values() if o.id.startswith(key)] if key else []
    return found[0] if len(found) == 1 else None


def _refused(what: str, message: str) -> EngineError:
    """The error PodmanEngine.call raises for the same refusal."""
    return parse.refused(what, 500, message)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def qualify(reference: str) -> str:
    """The name Podman stores an image under: `alpine` -> docker.io/library/alpine:latest."""
    if "@" in reference or reference.startswith("sha256:"):
        return reference
    return expanded(reference)


if TYPE_CHECKING:  # mypy proves the fake keeps the contract
    from podspec.engine.protocol import Engine

    _KEEPS_THE_CONTRACT: type[Engine] = FakeEngine
