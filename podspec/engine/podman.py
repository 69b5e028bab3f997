"""The engine: the only code that talks to Podman.

It reads the host in a constant number of list calls (containers, volumes, secrets, images, networks) into an
ObservedState, performs one REST call per plan step, and turns Podman's errors into podspec's.
It speaks libpod's JSON endpoints directly (podman-py's domain objects break on the 4.3 service);
see transport.py for how calls travel (the one HTTP client, on a unix socket, a TCP address, or
an ssh forward), and parse.py for how the answers are read: this module only makes calls.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from podspec.engine import parse
from podspec.engine.connection import Endpoint, check_reachable, open_transport, resolve
from podspec.engine.transport import Transport, TransportError
from podspec.errors import EngineError, PodmanUnavailable, PodspecError, Refusal

LONG_CALL_TIMEOUT = 600  # seconds: pulls, stops with a long grace period


# An empty tar archive: two zero blocks.
EMPTY_TAR = bytes(1024)


class PodmanEngine:
    """Talks to one Podman service; reads its version once (`version()`) and adapts to it."""

    def __init__(self, endpoint: Endpoint, transport: Transport | None = None) -> None:
        """`transport` replaces the one the URL asks for (recorded answers, in tests)."""
        self.endpoint = endpoint
        self._version: str | None = None
        self._host: HostFacts | None = None
        self._probes: ProbeRunner | None = None
        try:
            self.transport = transport or open_transport(endpoint.url, endpoint.identity, LONG_CALL_TIMEOUT,
                                                         ssh_config=endpoint.ssh_config)
        except TransportError as exc:
            raise PodmanUnavailable(
                f"cannot connect to Podman at {endpoint.url} (chosen by {endpoint.how}): {exc}",
                "check the URL and that the service runs there (`podman system service`)",
            ) from None

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def lock_key(self) -> str:
        return self.endpoint.lock_key

    # ------------------------------------------------------------------------------- plumbing

    def call(self, method: str, path: str, what: str, params: Mapping[str, Any] | None = None,
             body: Any = None, timeout: float | None = None, raw: bool = False) -> Any:
        """One REST call to libpod's `path`; JSON answer decoded (`raw`: its bytes as they are);
        errors become podspec's."""
        try:
            response = self.transport.request(method, path, params=params, body=body, timeout=timeout)
        except TransportError as exc:
            raise PodmanUnavailable(
                f"lost the connection to Podman at {self.endpoint.url} while trying to {what}: {exc}",
                "check that the Podman service is running, then run the command again",
            ) from None
        if response.status_code >= 400:
            raise parse.refused(what, response.status_code, parse.error_message(response.status_code, response.content))
        if raw:
            return response.content
        return parse.decode(response.status_code, response.content)

    # -------------------------------------------------------------------------------- reading

    def observe(self, pods: Collection[str] | None = None, images: Collection[str] | None = None) -> ObservedState:
        """The whole host in a constant number of list calls (containers, volumes, secrets, networks, and
        the image list, or with `images` an inspect of each name they may be stored under),
        however many pods.
        `pods`: the container list is narrowed to those pods' containers by Podman (its `pod`
        filter, which skips a name no pod has), the other four lists stay whole (ObservedState.scope).
        `images`: only the images these references name (ObservedState.image_scope), read as
        images_named() reads them, in place of the image list.

        Pods are read from the container list: every pod has an infra container, which carries
        the pod's ID, name and labels. (Podman's own pod list costs as much as the container list
        and says nothing more that podspec needs; a pod created without an infra container and
        holding no container is not seen, and its name clash surfaces as Podman's error.)

        Over a transport that takes calls from several threads at once (the local socket: one
        connection per call), the short lists are read while Podman answers the container
        list, the long one (~70 ms of a no-op apply's ~90 ms of calls at 30 pods): they cost no
        wall time. Each answer is one consistent read, as before; the lists were never one snapshot.
        """
        params = {"all": "true"}
        if pods is not None:  # (an empty filter would list every container: no call at all then)
            params["filters"] = json.dumps({"pod": sorted(pods)})
        listing = pods is None or bool(pods)
        whole, image_reads = self._image_reads(images)
        others: list[Callable[[], Any]] = [
            lambda: self.call("get", "/volumes/json", "list volumes"), *image_reads,
            lambda: self.call("get", "/secrets/json", "list secrets"), lambda: self.call("get", "/networks/json", "list networks")]
        listed, (volumes, *image_answers, secrets, networks) = self._get_all(
            others, lambda: self.call("get", "/containers/json", "list containers", params=params) if listing else [])
        state = parse.state(listed, volumes, [], secrets, networks)
        state = replace(state, images=_images_from(whole, image_answers))
        if images is not None:
            state = replace(state, image_scope=frozenset(images))
        return _narrowed(state, pods)

    def _get_all(self, reads: Sequence[Callable[[], Any]],
                 alongside: Callable[[], Any] = lambda: None) -> tuple[Any, list[Any]]:
        """`alongside()` (called in this thread) and the answers of the calls `reads`: side by side,
        each on a thread of its own, over a transport that takes calls from several threads at once
        (the local socket: one connection per call); else one after the other. The first error is
        raised, after every call has ended."""
        if not self.concurrent:
            return alongside(), [read() for read in reads]
        import threading  # (not concurrent.futures: it imports logging, ~3 ms of every start-up)

        answers: list[Any] = [None] * len(reads)
        errors: list[BaseException] = []

        def read(index: int, call: Callable[[], Any]) -> None:
            try:
                answers[index] = call()
            except BaseException as error:  # raised below, in the caller's thread
                errors.append(error)

        threads = [threading.Thread(target=read, args=(i, one), daemon=True) for i, one in enumerate(reads)]
        for thread in threads:
            thread.start()
        try:
            result = alongside()
        finally:
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        return result, answers

    @property
    def concurrent(self) -> bool:
        """Whether the transport takes calls from several threads at once (the local socket)."""
        return bool(getattr(self.transport, "concurrent", False))

    def _image_reads(self, references: Collection[str] | None) -> tuple[bool, list[Callable[[], Any]]]:
        """The calls that read the images `references` name (None: every image): whether they are
        the whole image list, and the calls (parse.image_names: an inspect of each name the images
        may be stored under, or the whole list where that is the better read)."""
        names = None if references is None else parse.image_names(references, self.concurrent)
        if names is None:
            return True, [lambda: self.call("get", "/images/json", "list images")]
        return False, [functools.partial(self._image_named, name) for name in names]

    def _image_named(self, name: str) -> Any:
        """GET /images/{name}/json, None when the host has no image of that name."""
        try:
            return self.call("get", f"/images/{name}/json", f"inspect image {name}")
        except EngineError as error:
            if error.reason in (Refusal.NOT_FOUND, Refusal.UNKNOWN_IMAGE):
                return None
            raise

    def images_named(self, references: Collection[str]) -> tuple[ObservedImage, ...]:
        whole, reads = self._image_reads(references)
        return _images_from(whole, self._get_all(reads)[1])

    def _create_pod(self, name: str, body: dict[str, Any], labels: Mapping[str, str]) -> None:
        """POST /pods/create; once more after removing a pod of that name Podman left empty (below)."""
        try:
            self.call("post", "/pods/create", f"create pod {name}", body=body)
        except EngineError as error:
            if error.reason is not Refusal.EXISTS or not self._removed_left_empty(name, labels):
                raise
            self.call("post", "/pods/create", f"create pod {name}", body=body)

    def _removed_left_empty(self, name: str, labels: Mapping[str, str]) -> bool:
        """Whether the pod `name` that a creation ran into was one Podman left empty (no infra
        container and no container, so the container list, which podspec reads the pods from, does
        not show it: Podman 4.3 can leave one when a pod is removed while it is being started),
        created by podspec for this project and source, and is now removed (without force: Podman
        refuses if a container joined it meanwhile, and the creation's error stands)."""
        try:
            found = self.inspect_pod(name)
        except PodspecError:
            return False
        if not parse.left_empty(found, labels):
            return False
        try:
            self.call("delete", f"/pods/{name}", f"remove the empty pod {name} Podman left")
        except PodspecError:
            return False
        return True

    def list_volumes(self) -> tuple[ObservedVolume, ...]:
        return parse.volumes(self.call("get", "/volumes/json", "list volumes"))

    def images(self) -> tuple[ObservedImage, ...]:
        return parse.images(self.call("get", "/images/json", "list images"))

    def pod_names(self) -> tuple[str, ...]:
        return parse.pod_names(self.call("get", "/pods/json", "list pods"))

    def inspect_pod(self, name: str) -> dict[str, Any]:
        return self.call("get", f"/pods/{name}/json", f"inspect pod {name}") or {}

    def inspect_container(self, name: str) -> dict[str, Any]:
        return self.call("get", f"/containers/{name}/json", f"inspect container {name}") or {}

    def inspect_image(self, reference: str) -> dict[str, Any]:
        return self.call("get", f"/images/{reference}/json", f"inspect image {reference}") or {}

    def inspect_volume(self, name: str) -> dict[str, Any]:
        return self.call("get", f"/volumes/{name}/json", f"inspect volume {name}") or {}

    def secret_labels(self, name: str) -> dict[str, str] | None:
        try:
            data = self.call("get", f"/secrets/{name}/json", f"inspect secret {name}")
        except EngineError as error:
            if error.reason is Refusal.NOT_FOUND:
                return None
            raise
        return parse.secret_labels(data)

    def generate_kube(self, pod: str) -> str:
        text = self.call("get", "/generate/kube", f"generate the kube YAML of pod {pod}", params={"names": pod})
        return text if isinstance(text, str) else ""

    def run_healthcheck(self, name: str) -> tuple[str, str]:
        """Run a container's health check now (no systemd timer needed): (status, last output)."""
        try:
            status, log = parse.healthcheck(self.call("get", f"/containers/{name}/healthcheck", f"run the health check of {name}"))
        except EngineError as error:
            return "unknown", error.message
        if not log and status != "healthy":  # the run's answer carries no log here: read it off the container
            try:
                log = parse.health_log(self.inspect_container(name))
            except EngineError:
                log = []
        return status, parse.last_output(log)

    def probe(self, target: ProbeTarget, probe: Probe, image: str = "") -> ProbeResult:
        """Run one probe of a container now (engine/probes.py says how: exec inside, httpGet and
        tcpSocket from a helper in the pod's network namespace made from `image`)."""
        from podspec.engine.probes import DEFAULT_PROBE_IMAGE, ProbeRunner

        if self._probes is None:
            self._probes = ProbeRunner(self.call, image or DEFAULT_PROBE_IMAGE)
        elif image:
            self._probes.image = image
        return self._probes.probe(target, probe)

    def resolve(self, target: ProbeTarget, name: str, server: str, image: str = "") -> ProbeResult:
        """Look a name up at a network's DNS server from the pod's network namespace (engine/probes.py)."""
        from podspec.engine.probes import DEFAULT_PROBE_IMAGE, ProbeRunner

        if self._probes is None:
            self._probes = ProbeRunner(self.call, image or DEFAULT_PROBE_IMAGE)
        elif image:
            self._probes.image = image
        return self._probes.lookup(target, name, server)

    def end_probes(self) -> None:
        """Remove the probe helpers this engine made."""
        if self._probes is not None:
            self._probes.close()

    def version(self) -> str:
        """The service's Podman version ("4.3.1", "5.4.2"), read once per engine."""
        if self._version is None:
            self._version = parse.version(self.call("get", "/version", "read the Podman version"))
        return self._version

    def events(self, filters: Mapping[str, Sequence[str]],
               opened: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
        # `since` now: with the file events logger (hosts without journald) Podman otherwise replays its
        # whole event log first, and old deaths would read as a crash loop.
        params = {"stream": "true", "since": str(int(time.time())),
                  "filters": json.dumps({k: list(v) for k, v in filters.items()})}
        try:
            for line in self.transport.stream("/events", params):
                if opened is not None and not line:  # (the transport's mark: Podman answered)
                    opened()
                    opened = None
                    continue
                try:
                    event = json.loads(line) if line.strip() else None
                except ValueError:
                    continue
                if isinstance(event, dict):
                    yield event
        except TransportError as exc:
            raise PodmanUnavailable(
                f"lost Podman's event stream at {self.endpoint.url}: {exc}",
                "check that the Podman service is running",
            ) from None

    def host(self) -> HostFacts:
        """Rootless or root, the UID the service runs as, its version and cgroups (GET /info, read
        once: it costs Podman a few hundred ms), and the host's unprivileged port start when the
        service is on this machine (a unix socket)."""
        if self._host is None:
            from podspec.engine import local

            local_service = self.endpoint.url.startswith("unix://")
            self._host = parse.host_facts(self.call("get", "/info", "read what kind of Podman this is"), self._version,
                                          local.unprivileged_port_start() if local_service else None)
            self._version = self._host.version
        return self._host

    def local_facts(self) -> HostFacts | None:
        """What can be known without asking Podman, for a service on this machine: the UID it runs
        as (the socket's peer credentials; not 0: rootless) and the unprivileged port start. None
        for a remote service."""
        path = self.endpoint.url[len("unix://"):] if self.endpoint.url.startswith("unix://") else None
        if path is None:
            return None
        from podspec.engine import local
        from podspec.observed import HostFacts

        uid = local.peer_uid(path)
        if uid is None:
            return None
        return HostFacts(rootless=uid != 0, uid=uid, unprivileged_port_start=local.unprivileged_port_start())

    def readable_host_paths(self, paths: Sequence[str]) -> dict[str, bool | None]:
        """For each path, whether the service's user can read it (None: unknown, or it does not
        exist). Known only for a service on this machine: a remote host's files cannot be read."""
        facts = self.host()
        if not self.endpoint.url.startswith("unix://") or facts.uid is None:
            return {p: None for p in paths}
        from podspec.engine import local

        return {p: local.readable(p, facts.uid) for p in paths}

    def resolved_host_paths(self, paths: Sequence[str]) -> dict[str, str | None]:
        """Each host path with its symbolic links resolved (the part that exists; what does not yet
        is kept as written): on this machine for a unix:// service, on the remote host over ssh://
        (`realpath` there, through the same SSH; engine/ssh.py); None where it cannot be known
        (tcp://, or a remote host that cannot tell)."""
        if self.endpoint.url.startswith("unix://"):
            import os

            return {p: os.path.realpath(p) for p in paths}
        remote = getattr(self.transport, "resolved_paths", None)
        if self.endpoint.url.startswith("ssh://") and remote is not None:
            found: dict[str, str | None] = remote(paths)
            return found
        return {p: None for p in paths}

    def ports_in_use(self, ports: Sequence[tuple[str, int, str]]) -> tuple[tuple[str, int, str], ...] | None:
        """Which of these host ports a process holds; None when it cannot be known (a remote
        service: its machine's ports are not visible through the API)."""
        if not self.endpoint.url.startswith("unix://"):
            return None
        from podspec.engine import local

        return local.ports_in_use(ports)

    # -------------------------------------------------------------------------------- writing

    def pull(self, reference: str, credential: RegistryCredential | None = None,
             progress: Callable[[PullProgress], None] | None = None) -> PulledImage:
        """Pull an image through the Docker-compatible endpoint, whose stream reports each layer's
        bytes (libpod's reports only text); the endpoint answers 200 and reports failure inside the
        stream. `credential` travels in the X-Registry-Auth header, as podman-remote sends it; it is
        never logged nor put in a message."""
        from podspec.observed import PulledImage

        reader = parse.PullStream(reference)
        headers = {"X-Registry-Auth": credential.header()} if credential is not None else {}
        body: list[bytes] = []
        try:
            lines = self.transport.call_stream("post", "/images/create", params={"fromImage": reference},
                                          headers=headers, compat=True)
            status = next(lines, (0, b""))[0]
            for _, line in lines:
                if status >= 400:
                    body.append(line)
                    continue
                seen = reader.feed(line)
                if progress is not None and seen is not None:
                    progress(seen)
        except TransportError as exc:
            raise PodmanUnavailable(
                f"lost the connection to Podman at {self.endpoint.url} while pulling {reference}: {exc}",
                "check that the Podman service is running, then run the command again",
            ) from None
        error = parse.error_message(status, b"\n".join(body)) if status >= 400 else reader.error
        if error is not None:
            raise EngineError(f"cannot pull {reference}: {error}", "check the image name and the registry")
        image_id, size, layers = parse.image_size(self.inspect_image(reference))
        return PulledImage(reference, image_id, size, layers)

    def list_tags(self, repository: str, credential: RegistryCredential | None = None) -> tuple[str, ...]:
        """The tags a registry holds for `repository` (`127.0.0.1:5000/app`), through libpod's search
        with listTags (so Podman's registries.conf and TLS settings apply). EngineError when the
        registry does not answer with a list (a repository it does not know answers 404)."""
        headers = {"X-Registry-Auth": credential.header()} if credential is not None else {}
        try:
            lines = list(self.transport.call_stream("get", "/images/search", params={"term": repository, "listTags": "true"},
                                               headers=headers))
        except TransportError as exc:
            raise PodmanUnavailable(
                f"lost the connection to Podman at {self.endpoint.url} while listing the tags of {repository}: {exc}",
                "check that the Podman service is running, then run the command again",
            ) from None
        status, body = (lines[0][0] if lines else 0), b"\n".join(line for _, line in lines[1:])
        if status >= 400:
            message = parse.error_message(status, body)
            raise EngineError(f"cannot list the tags of {repository}: {message}", "check the repository name",
                              parse.refusal(status, message))
        return parse.search_tags(parse.decode(status, body))

    def run(self, step: Step) -> None:
        """Perform one plan step: exactly one Podman call (a hostPath made on the host: one short-lived
        helper container, engine/hostpaths.py; a pod whose name an empty pod Podman left holds: that
        pod removed, and the creation made again, _create_pod)."""
        from podspec.engine.specgen import container_body, pod_body  # not at start-up (run/reading.py)
        from podspec.plan import StepKind  # not at start-up: diff makes no plan

        kind, name = step.kind, step.target
        labels = dict(step.labels)
        _NETWORK_STEPS = (StepKind.CREATE_NETWORK, StepKind.REMOVE_NETWORK, StepKind.CONNECT_NETWORK,
                          StepKind.DISCONNECT_NETWORK)
        if kind is StepKind.CREATE_VOLUME:
            self.call("post", "/volumes/create", f"create volume {name}", body={"Name": name, "Label": labels})
        elif kind is StepKind.CREATE_POD:
            assert step.pod is not None
            self._create_pod(name, pod_body(step.pod, labels, step.network, step.aliases), labels)
        elif kind is StepKind.CREATE_CONTAINER:
            assert step.pod is not None and step.container is not None
            body = container_body(step.pod, step.container, step.role, labels)
            self.call("post", "/containers/create", f"create container {name}", body=body)
        elif kind is StepKind.START_POD:
            self.call("post", f"/pods/{name}/start", f"start pod {name}")
        elif kind is StepKind.START_CONTAINER:
            self.call("post", f"/containers/{name}/start", f"start container {name}")
        elif kind is StepKind.RESTART_CONTAINER:
            self.call("post", f"/containers/{name}/restart", f"restart container {name}", params={"t": max(1, step.timeout)},
                      timeout=LONG_CALL_TIMEOUT)
        elif kind is StepKind.STOP_POD:
            self.call("post", f"/pods/{name}/stop", f"stop pod {name}", params={"t": max(1, step.timeout)})
        elif kind is StepKind.REMOVE_POD:
            self.call("delete", f"/pods/{name}", f"remove pod {name}", params={"force": "true"})
        elif kind is StepKind.REMOVE_CONTAINER:
            self.call(
                "delete", f"/containers/{name}", f"remove container {name}",
                params={"force": "true", "timeout": step.timeout},
            )
        elif kind is StepKind.REMOVE_VOLUME:
            self.call("delete", f"/volumes/{name}", f"remove volume {name}")
        elif kind is StepKind.CREATE_SECRET:
            # The value travels as the request's body, never in the URL (which Podman may log).
            self.call("post", "/secrets/create", f"create secret {name}",
                      params={"name": name, "labels": json.dumps(labels)}, body=step.data)
        elif kind is StepKind.REMOVE_SECRET:
            self.call("delete", f"/secrets/{name}", f"remove secret {name}")
        elif kind in (StepKind.CREATE_SUB_PATH, StepKind.CREATE_HOST_PATH):
            self._create_path(step)
        elif kind in _NETWORK_STEPS:
            self._network_step(step)
        else:  # pragma: no cover - every kind is handled above
            raise EngineError(f"unknown step {kind}", "this is a bug in podspec")

    def _network_step(self, step: Step) -> None:
        """The project network (DNS on, a subnet sized for hundreds of pods; see reconcile/network.py)
        and a pod's attachment to it: its infra container's, whose aliases are the pod's names."""
        from podspec.plan import StepKind

        name = step.target
        if step.kind is StepKind.CREATE_NETWORK:
            self.call("post", "/networks/create", f"create network {name}",
                      body={"name": name, "labels": dict(step.labels), "dns_enabled": True, "driver": "bridge",
                            "subnets": [{"subnet": step.subnet}] if step.subnet else [],
                            # netavark drops traffic between isolated networks: projects do not meet
                            "options": {"isolate": "true"}})
        elif step.kind is StepKind.REMOVE_NETWORK:
            self.call("delete", f"/networks/{name}", f"remove network {name}")
        elif step.kind is StepKind.CONNECT_NETWORK:
            self.call("post", f"/networks/{step.network}/connect", step.describe(),
                      body={"container": name, "aliases": list(step.aliases)})
        else:
            self.call("post", f"/networks/{step.network}/disconnect", step.describe(), body={"Container": name})

    def _create_path(self, step: Step) -> None:
        """A subPath directory in a named volume, or (engine/hostpaths.py) a hostPath of type
        DirectoryOrCreate / FileOrCreate on the host, when missing."""
        from podspec.plan import StepKind

        if step.kind is StepKind.CREATE_SUB_PATH:
            self._create_sub_path(step.target, step.path)
            return
        from podspec.engine import hostpaths

        hostpaths.create(self.call, step.target, step.host_path_type)

    def _create_sub_path(self, container: str, path: str) -> None:
        """Make a subPath directory of a named volume, through the created (not yet started)
        container that mounts the volume: one copy of an empty archive to `path`. Podman resolves a
        path under a named volume's mount point to the volume itself (not to the subPath) and makes
        the missing directories on the way (mode 0755, owned by the container's user); an existing
        directory is not touched, and nothing else is written. Podman 5 refuses to start a
        container whose subPath is missing."""
        self.call("put", f"/containers/{container}/archive", f"create directory {path} in container {container}",
                  params={"path": path}, body=EMPTY_TAR)

    # ------------------------------------------------------------------ the host-side project lock

    def create_lock(self, name: str, labels: Mapping[str, str]) -> bool:
        """A volume: created atomically by name in Podman's database (shared by every service and
        client of the host's storage), labelled, cheap (an empty directory), needs no image, and
        survives a restart of the service; `podman volume ls` shows it to a person who wonders."""
        try:
            self.call("post", "/volumes/create", f"create the lock volume {name}", body={"Name": name, "Label": dict(labels)})
        except EngineError as error:
            if error.reason in (Refusal.EXISTS, Refusal.RACED):  # taken, or being released: look again
                return False
            raise
        return True

    def lock_labels(self, name: str) -> dict[str, str] | None:
        try:
            data = self.inspect_volume(name)
        except EngineError as error:
            if error.reason is Refusal.NOT_FOUND:
                return None
            raise
        return dict(data.get("Labels") or {})

    def remove_lock(self, name: str) -> None:
        """Gone already is released. So is Podman's "cleaning up volume storage" error: Podman drops
        the volume from its database before it removes the directory, and that removal fails when
        another client has meanwhile created the lock again (same name, same path; seen with two
        targets sharing one host's storage) or when such a removal took the directory first."""
        try:
            self.call("delete", f"/volumes/{name}", f"remove the lock volume {name}")
        except EngineError as error:
            if error.reason is not Refusal.NOT_FOUND:  # gone already, or dropped by Podman (parse.refusal)
                raise

    def close(self) -> None:
        try:
            self.end_probes()
        except PodspecError:
            pass  # the service is gone: its helpers end by themselves (HELPER_LIFETIME)
        try:
            self.transport.close()
        finally:
            self.endpoint.close()

    def __enter__(self) -> PodmanEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(url: str | None = None, connection: str | None = None, env: Mapping[str, str] | None = None,
            identity: str | None = None, runtime: Path | None = None) -> PodmanEngine:
    """Resolve the service (see connection.resolve), check it answers, return an engine. `runtime`
    is this user's runtime directory, where a private service started for the command lives."""
    endpoint = resolve(url, connection, os.environ if env is None else env, identity, runtime)
    try:
        check_reachable(endpoint)
        return PodmanEngine(endpoint)
    except BaseException:
        endpoint.close()
        raise


def _images_from(whole: bool, answers: Sequence[Any]) -> tuple[ObservedImage, ...]:
    """The images the answers of _image_reads' calls show: the whole list's, or the inspected ones."""
    return parse.images(answers[0]) if whole else parse.inspected_images(answers)


def _narrowed(state: ObservedState, pods: Collection[str] | None) -> ObservedState:
    """`state` kept to `pods` (Podman's `pod` filter also takes a pod ID's prefix: a name no pod has
    may match another pod's ID), or as it is when the whole host was read."""
    return state if pods is None else state.narrowed(pods)


if TYPE_CHECKING:
    from podspec.engine.probes import ProbeRunner, ProbeTarget
    from podspec.model import Probe
    from podspec.observed import HostFacts, ObservedImage, ObservedState, ObservedVolume, ProbeResult, PulledImage, PullProgress
    from podspec.plan import Step
    from podspec.secrets import RegistryCredential

if TYPE_CHECKING:  # mypy proves the real engine keeps the contract
    from podspec.engine.protocol import Engine

    _KEEPS_THE_CONTRACT: type[Engine] = PodmanEngine
