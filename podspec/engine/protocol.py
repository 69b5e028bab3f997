"""What podspec needs from a container engine: the contract every engine keeps.

`PodmanEngine` (podman.py) keeps it against a real Podman service; `FakeEngine` (fake.py) keeps it
with plain dicts, for the tests of the workflows and the CLI. The contract tests
(tests/contract/) run the same cases against the fake and a real Podman over unix://, tcp:// and ssh://.

Reading costs a constant number of calls (`observe` is five list calls however many pods; a diff's
reads the images its manifests name, an inspect of each name they may be stored under, up to
eight); every plan step is exactly one call (`run`; a pod creation that runs into an empty pod
Podman left of the same project: that pod removed, and the creation made again). Errors are
podspec's: EngineError when Podman refuses, PodmanUnavailable when it cannot be reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping, Sequence

    from podspec.engine.probes import ProbeTarget
    from podspec.model import Probe
    from podspec.observed import HostFacts, ObservedImage, ObservedState, ObservedVolume, ProbeResult, PulledImage, PullProgress
    from podspec.plan import Step
    from podspec.secrets import RegistryCredential


@runtime_checkable
class Engine(Protocol):
    @property
    def url(self) -> str:
        """Where the engine is, for messages (`unix:///run/podman/podman.sock`)."""
        ...

    @property
    def lock_key(self) -> str:
        """What one apply per project per host locks on (see connection.Endpoint.lock_key)."""
        ...

    @property
    def concurrent(self) -> bool:
        """Whether reads from several threads at once go side by side (the local socket: a
        connection a call), rather than best one after the other (ssh://: a round trip each)."""
        ...

    # ------------------------------------------------------------------------------- reading

    def observe(self, pods: Collection[str] | None = None, images: Collection[str] | None = None) -> ObservedState:
        """Every pod, container, volume and image on the host. `pods`: only those pods' containers
        (pods not on the host are no error), and every volume, image, secret and network; the
        state says so in its `scope`. `images`: only the images these references name (as
        images_named()), said in the state's `image_scope`; an empty collection reads none."""
        ...

    def images(self) -> tuple[ObservedImage, ...]:
        """The images alone (read again after pulls)."""
        ...

    def images_named(self, references: Collection[str]) -> tuple[ObservedImage, ...]:
        """At least every image one of `references` names, as ObservedState.image_id() finds it
        (maybe more: the whole list where filtering would cost more)."""
        ...

    def list_volumes(self) -> tuple[ObservedVolume, ...]:
        """The volumes alone, with their labels, sorted by name: one list call (`podspec history`
        reads apply records from them; see reconcile/history.py). Records are written with
        `run(Step(CREATE_VOLUME, ...))` and pruned with `run(Step(REMOVE_VOLUME, ...))`."""
        ...

    def version(self) -> str:
        """The service's Podman version, e.g. "4.3.1" or "5.4.2"."""
        ...

    def host(self) -> HostFacts:
        """Rootless or root, the service's UID, the host's unprivileged port start: read once."""
        ...

    def local_facts(self) -> HostFacts | None:
        """Rootless or root and the port start without a Podman call, for a local service; else None."""
        ...

    def readable_host_paths(self, paths: Sequence[str]) -> dict[str, bool | None]:
        """Whether the service's user can read each host path (None: unknown or absent)."""
        ...

    def resolved_host_paths(self, paths: Sequence[str]) -> dict[str, str | None]:
        """Each host path with every symbolic link in it resolved, as Podman's bind mount will follow
        them, on the service's host (over ssh:// too); None: the host cannot tell."""
        ...

    def ports_in_use(self, ports: Sequence[tuple[str, int, str]]) -> tuple[tuple[str, int, str], ...] | None:
        """Which (ip, port, protocol) of `ports` a process of the service's machine holds (bound,
        not by a container Podman runs there); None when that cannot be known (a remote service)."""
        ...

    def pod_names(self) -> tuple[str, ...]:
        """Every pod on the host, sorted."""
        ...

    def inspect_pod(self, name: str) -> dict[str, Any]: ...

    def inspect_container(self, name: str) -> dict[str, Any]: ...

    def inspect_image(self, reference: str) -> dict[str, Any]: ...

    def inspect_volume(self, name: str) -> dict[str, Any]: ...

    def secret_labels(self, name: str) -> dict[str, str] | None:
        """The labels of Podman secret `name` (one inspect; Podman 4.3 leaves them out of its secret
        list), or None when there is no such secret. Never its value."""
        ...

    def generate_kube(self, pod: str) -> str:
        """Podman's own `kube generate` YAML of one pod."""
        ...

    def run_healthcheck(self, name: str) -> tuple[str, str]:
        """Run a container's health check now: (status, last output)."""
        ...

    def probe(self, target: ProbeTarget, probe: Probe, image: str = "") -> ProbeResult:
        """Run one probe of a running container now: `exec` inside it; `httpGet` and `tcpSocket`
        from outside it, in the pod's network namespace, by a helper made from `image` (default
        busybox). A probe that cannot run (no helper image) is a failed result, never an error."""
        ...

    def end_probes(self) -> None:
        """Remove what running probes left on the host (the helpers); `close` does it too."""
        ...

    def resolve(self, target: ProbeTarget, name: str, server: str, image: str = "") -> ProbeResult:
        """Look `name` up (A records) at the DNS server `server` (a project network's aardvark-dns,
        on its gateway) from the network namespace of `target`'s pod, by the probe helper; ok when it
        answers with an address. A look-up that cannot run is a failed result, never an error."""
        ...

    def events(self, filters: Mapping[str, Sequence[str]],
               opened: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
        """Podman's events from now on (libpod `/events?stream=true`), one decoded event at a time,
        blocking until the next; ends when the service closes the stream. `filters` as libpod takes
        them, e.g. {"label": ["io.podspec.project=web"], "type": ["container", "pod"]}. `opened` is
        called once the service answered, before the first event: from then on no event is missed."""
        ...

    # ------------------------------------------------------------------------------- writing

    def pull(self, reference: str, credential: RegistryCredential | None = None,
             progress: Callable[[PullProgress], None] | None = None) -> PulledImage:
        """Pull `reference` (with `credential` for its registry, if given), calling `progress` as
        layers arrive; EngineError with Podman's words when the pull fails. Safe to call from
        several threads at once."""
        ...

    def list_tags(self, repository: str, credential: RegistryCredential | None = None) -> tuple[str, ...]:
        """The tags a registry holds for a repository (`host:port/name`), sorted; EngineError when it
        cannot say (a repository it does not know: "404 (Not Found)")."""
        ...

    def run(self, step: Step) -> None:
        """Perform one plan step: exactly one Podman call."""
        ...

    # ------------------------------------------------------------------ the host-side project lock
    # (run/hostlock.py): a podspec-owned object created atomically, whose labels say who holds it.

    def create_lock(self, name: str, labels: Mapping[str, str]) -> bool:
        """Create the lock object `name` with `labels` if no object of that name exists: True when
        this call created it, False when it existed (atomic on the host: of two concurrent calls,
        from any clients, exactly one gets True)."""
        ...

    def lock_labels(self, name: str) -> dict[str, str] | None:
        """The labels of lock object `name`, or None when there is none."""
        ...

    def remove_lock(self, name: str) -> None:
        """Remove lock object `name`; nothing happens when it is gone already."""
        ...

    def close(self) -> None: ...
