"""The engine: the only code that talks to Podman.

It reads the host in a constant number of list calls (pods, containers, volumes, images) into an
ObservedState, performs one REST call per plan step, and turns Podman's errors into podspec's.
It speaks libpod's JSON endpoints directly (podman-py's domain objects break on the 4.3 service);
see transport.py for how calls travel (podman-py's client for ssh://, the standard library for
local sockets).
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from podspec.engine.connection import Endpoint, check_reachable, resolve
from podspec.engine.specgen import container_body, pod_body
from podspec.engine.transport import TransportError, open_transport
from podspec.errors import EngineError, PodmanUnavailable
from podspec.observed import (
    ContainerState,
    ObservedContainer,
    ObservedImage,
    ObservedState,
    ObservedVolume,
    pods_from_containers,
)
from podspec.reconcile.intent import port_text
from podspec.reconcile.planner import Step, StepKind

LONG_CALL_TIMEOUT = 600  # seconds: pulls, stops with a long grace period


class PodmanEngine:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        try:
            self.transport = open_transport(endpoint.url, endpoint.identity, LONG_CALL_TIMEOUT)
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
             body: Any = None, timeout: float | None = None) -> Any:
        """One REST call to libpod's `path`; JSON answer decoded; errors become podspec's."""
        try:
            response = self.transport.request(method, path, params=params, body=body, timeout=timeout)
        except TransportError as exc:
            raise PodmanUnavailable(
                f"lost the connection to Podman at {self.endpoint.url} while trying to {what}: {exc}",
                "check that the Podman service is running, then run the command again",
            ) from None
        if response.status_code >= 400:
            raise EngineError(f"Podman refused to {what}: {_message(response)}", _hint(response))
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    # -------------------------------------------------------------------------------- reading

    def observe(self) -> ObservedState:
        """The whole host in three list calls (containers, volumes, images), however many pods.

        Pods are read from the container list: every pod has an infra container, which carries
        the pod's ID, name and labels. (Podman's own pod list costs as much as the container list
        and says nothing more that podspec needs; a pod created without an infra container and
        holding no container is not seen, and its name clash surfaces as Podman's error.)
        """
        containers = tuple(
            sorted(
                (_container(c) for c in self.call("get", "/containers/json", "list containers", params={"all": "true"}) or []),
                key=lambda c: c.name,
            )
        )
        volumes = self.call("get", "/volumes/json", "list volumes") or []
        return ObservedState(
            pods=pods_from_containers(containers),
            containers=containers,
            volumes=tuple(sorted((ObservedVolume(v["Name"], v.get("Labels") or {}) for v in volumes),
                                 key=lambda v: v.name)),
            images=self.images(),
        )

    def images(self) -> tuple[ObservedImage, ...]:
        images = self.call("get", "/images/json", "list images") or []
        return tuple(
            ObservedImage(i["Id"], tuple(sorted(set(i.get("Names") or []) | set(i.get("RepoTags") or []))))
            for i in images
        )

    def pod_names(self) -> tuple[str, ...]:
        return tuple(sorted(p["Name"] for p in self.call("get", "/pods/json", "list pods") or []))

    def inspect_pod(self, name: str) -> dict[str, Any]:
        return self.call("get", f"/pods/{name}/json", f"inspect pod {name}") or {}

    def inspect_container(self, name: str) -> dict[str, Any]:
        return self.call("get", f"/containers/{name}/json", f"inspect container {name}") or {}

    def inspect_image(self, reference: str) -> dict[str, Any]:
        return self.call("get", f"/images/{reference}/json", f"inspect image {reference}") or {}

    def inspect_volume(self, name: str) -> dict[str, Any]:
        return self.call("get", f"/volumes/{name}/json", f"inspect volume {name}") or {}

    def generate_kube(self, pod: str) -> str:
        text = self.call("get", "/generate/kube", f"generate the kube YAML of pod {pod}", params={"names": pod})
        return text if isinstance(text, str) else ""

    def run_healthcheck(self, name: str) -> tuple[str, str]:
        """Run a container's health check now (no systemd timer needed): (status, last output)."""
        try:
            data = self.call("get", f"/containers/{name}/healthcheck", f"run the health check of {name}") or {}
        except EngineError as error:
            return "unknown", error.message
        status = str(data.get("Status", "unknown"))
        log = data.get("Log") or []
        if not log and status != "healthy":  # the run's answer carries no log here: read it off the container
            try:
                log = ((self.inspect_container(name).get("State") or {}).get("Health") or {}).get("Log") or []
            except EngineError:
                log = []
        output = str((log[-1] or {}).get("Output", "")).strip() if log else ""
        return status, output[-200:]

    def version(self) -> str:
        data = self.call("get", "/version", "read the Podman version") or {}
        return str(data.get("Version", "?"))

    # -------------------------------------------------------------------------------- writing

    def pull(self, reference: str) -> None:
        """Pull an image. The endpoint answers 200 and reports failure inside its JSON stream."""
        answer = self.call("post", "/images/pull", f"pull {reference}", params={"reference": reference, "quiet": "true"})
        for report in _json_stream(answer):
            if report.get("error"):
                raise EngineError(f"cannot pull {reference}: {report['error'].strip()}", "check the image name and the registry")

    def run(self, step: Step) -> None:
        """Perform one plan step: exactly one Podman call."""
        kind, name = step.kind, step.target
        labels = dict(step.labels)
        if kind is StepKind.CREATE_VOLUME:
            self.call("post", "/volumes/create", f"create volume {name}", body={"Name": name, "Label": labels})
        elif kind is StepKind.CREATE_POD:
            assert step.pod is not None
            self.call("post", "/pods/create", f"create pod {name}", body=pod_body(step.pod, labels))
        elif kind is StepKind.CREATE_CONTAINER:
            assert step.pod is not None and step.container is not None
            body = container_body(step.pod, step.container, step.role, labels)
            self.call("post", "/containers/create", f"create container {name}", body=body)
        elif kind is StepKind.START_POD:
            self.call("post", f"/pods/{name}/start", f"start pod {name}")
        elif kind is StepKind.START_CONTAINER:
            self.call("post", f"/containers/{name}/start", f"start container {name}")
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
        else:  # pragma: no cover - every kind is handled above
            raise EngineError(f"unknown step {kind}", "this is a bug in podspec")

    def close(self) -> None:
        try:
            self.transport.close()
        finally:
            self.endpoint.close()

    def __enter__(self) -> PodmanEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(url: str | None = None, connection: str | None = None, env: Mapping[str, str] | None = None) -> PodmanEngine:
    """Resolve the service (see connection.resolve), check it answers, return an engine."""
    endpoint = resolve(url, connection, os.environ if env is None else env)
    try:
        check_reachable(endpoint)
        return PodmanEngine(endpoint)
    except BaseException:
        endpoint.close()
        raise


# ------------------------------------------------------------------------------------ parsing


def _json_stream(answer: Any) -> list[dict]:
    """The objects of a concatenated JSON stream (or one decoded object)."""
    if isinstance(answer, dict):
        return [answer]
    if not isinstance(answer, str):
        return []
    decoder, objects, index = json.JSONDecoder(), [], 0
    text = answer.strip()
    while index < len(text):
        try:
            obj, end = decoder.raw_decode(text, index)
        except ValueError:
            break
        if isinstance(obj, dict):
            objects.append(obj)
        index = end
        while index < len(text) and text[index].isspace():
            index += 1
    return objects


def _message(response: Any) -> str:
    """Podman's error text: `message` (or `cause`), and the `Errs` of a pod operation."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip() or f"HTTP {response.status_code}"
    if not isinstance(data, dict):
        return str(data)
    parts = [str(data.get("message") or data.get("cause") or "").strip()]
    parts += [str(e).strip() for e in (data.get("Errs") or []) if str(e).strip()]
    return ": ".join(p for p in parts if p) or response.text.strip()


# (words that must all appear in Podman's message, hint)
HINTS = (
    (("address already in use",), "another process or pod holds that host port: free it, or change hostPort"),
    (("cannot listen on the",), "another process or pod holds that host port: free it, or change hostPort"),
    (("cannot add", "running pod"), "podspec replaces the pod for such changes; run the command again"),
    (("volume", "being used"), "the volume is still mounted by a container; it was not removed"),
    (("in use",), "another object holds the name; see `podspec diff`"),
    (("already exists",), "another object holds the name; see `podspec diff`"),
    (("image not known",), "make the image available locally (podman load / podman build) or fix its name"),
)


def _hint(response: Any) -> str:
    text = _message(response).lower()
    return next((hint for words, hint in HINTS if all(w in text for w in words)), "see Podman's message above")


def _ports(data: dict) -> tuple[str, ...]:
    found = set()
    for p in data.get("Ports") or []:
        host_port = p.get("host_port") or p.get("hostPort")
        container_port = p.get("container_port") or p.get("containerPort")
        span = int(p.get("range") or 1)
        if not host_port or not container_port:
            continue
        for offset in range(span):
            found.add(port_text(p.get("host_ip") or "", host_port + offset, container_port + offset, p.get("protocol") or "tcp"))
    return tuple(sorted(found))


def _container(data: dict) -> ObservedContainer:
    names = data.get("Names") or [data["Id"][:12]]
    state = data.get("State")
    if isinstance(state, dict):  # newer services nest the state
        state = state.get("Status")
    return ObservedContainer(
        id=data["Id"],
        name=names[0],
        pod_id=data.get("Pod") or "",
        pod_name=data.get("PodName") or "",
        state=ContainerState.parse(state),
        image=data.get("Image") or "",
        image_id=data.get("ImageID") or "",
        is_infra=bool(data.get("IsInfra")),
        exit_code=int(data.get("ExitCode") or 0),
        labels=data.get("Labels") or {},
        ports=_ports(data) if data.get("IsInfra") else (),
    )
