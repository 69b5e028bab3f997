"""Podman's JSON, read: pure functions from libpod's answers to podspec's data.

Every shape of Podman's answers that podspec reads is read here, and nowhere else; podman.py only
makes calls. The unit tests (tests/unit/test_engine_parse.py) run these functions over answers
recorded from real services of each version (tests/fixtures/podman/<version>/, made by
tools/record_api.py), so a shape that changes between versions shows up as a failing test, not as
a wrong plan. Where versions differ the difference is named where it is handled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Iterable

from podspec.errors import EngineError, Refusal

if TYPE_CHECKING:
    from podspec.observed import (
        HostFacts,
        ObservedContainer,
        ObservedImage,
        ObservedNetwork,
        ObservedSecret,
        ObservedState,
        ObservedVolume,
        PullProgress,
    )

# The observed types are imported where an answer is read, not with this module: the engine is
# imported before the host reading's thread starts (cli/context.connector), and observed.py's
# classes (~50 M instructions to define) are then defined while Podman answers (run/apply.py
# imports them with what decides after the read), not before the first request goes out.

# ------------------------------------------------------------------------------------ answers


def decode(status: int, content: bytes) -> Any:
    """A successful answer's body: decoded JSON, else the text (a pull stream, kube YAML), else None."""
    if status == 204 or not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode(errors="replace")


def _list(answer: Any) -> list[dict]:
    """A list answer's entries (Podman answers `null` for an empty list on some endpoints)."""
    return [entry for entry in answer if isinstance(entry, dict)] if isinstance(answer, list) else []


# ------------------------------------------------------------------------------ containers


def containers(answer: Any) -> tuple[ObservedContainer, ...]:
    """GET /containers/json?all=true, sorted by name."""
    return tuple(sorted((container(c) for c in _list(answer)), key=lambda c: c.name))


def container(data: dict) -> ObservedContainer:
    """One entry of the container list."""
    from podspec.observed import ContainerState, ObservedContainer

    names = data.get("Names") or [data["Id"][:12]]
    return ObservedContainer(
        id=data["Id"],
        name=names[0],
        pod_id=data.get("Pod") or "",
        pod_name=data.get("PodName") or "",
        state=ContainerState.parse(_state_text(data.get("State"))),
        image=data.get("Image") or "",
        image_id=data.get("ImageID") or "",
        is_infra=bool(data.get("IsInfra")),
        exit_code=int(data.get("ExitCode") or 0),
        labels=dict(data.get("Labels") or {}),
        ports=ports(data) if data.get("IsInfra") else (),
        networks=tuple(sorted(n for n in data.get("Networks") or [] if isinstance(n, str))) if data.get("IsInfra") else (),
        started_at=_int(data.get("StartedAt")),
    )


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _state_text(state: Any) -> str | None:
    """The list's `State`: a plain string ("running"), as Podman 4.3.1 and 5.4.2 answer (recorded
    in tests/fixtures/podman/). The object shape of container inspect (`{"Status": ...}`), which
    podman-py's domain objects expect here, is read too."""
    if isinstance(state, dict):
        return state.get("Status")
    return state if isinstance(state, str) else None


def ports(data: dict) -> tuple[str, ...]:
    """A list entry's published ports, as names.port_text writes them, ranges unrolled.

    libpod writes `host_port`/`container_port`; the Docker-compatible shape (`hostPort`,
    `containerPort`) is read too. Unpublished ports (no host port) are left out.
    """
    from podspec.names import port_text  # not at start-up: names imports the model, which reading the host does not need

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


# -------------------------------------------------------------------------- volumes, images


def volumes(answer: Any) -> tuple[ObservedVolume, ...]:
    """GET /volumes/json, sorted by name."""
    from podspec.observed import ObservedVolume

    return tuple(sorted((ObservedVolume(v["Name"], dict(v.get("Labels") or {})) for v in _list(answer)),
                        key=lambda v: v.name))


def images(answer: Any) -> tuple[ObservedImage, ...]:
    """GET /images/json: each image's ID, every name it goes by (Names and RepoTags) and the
    digests it was pulled by (RepoDigests: `repo@sha256:...`)."""
    from podspec.observed import ObservedImage

    return tuple(
        ObservedImage(i["Id"], tuple(sorted(set(i.get("Names") or []) | set(i.get("RepoTags") or []))),
                      tuple(sorted(set(i.get("RepoDigests") or []))))
        for i in _list(answer)
    )


IMAGE_NAMES_AT_MOST = 8  # more names to ask for than this: the whole image list is read instead
_IMAGE_ID = re.compile(r"(sha256:)?[0-9a-f]{12,64}")


def image_names(references: Collection[str], concurrent: bool) -> list[str] | None:
    """The names (sorted) whose GET /images/{name}/json reads every image `references` name, an
    inspect each, or None where the whole image list is the better read.

    Podman answers the whole list at ~5 ms of its CPU an image on 4.3 (it works out each image's
    size, parent and containers: 44 ms for the 9 images of bench_apply's host, the second longest of
    a no-op diff's calls) and ~1 ms an image on 5; a list filtered by a reference at 3-7 ms whatever
    the store holds (and Podman 5 answers two of them one after the other); an inspect at 1-2 ms.
    A reference names its image under the names references.stored_names() gives (a short name: on
    the default registry, or built on the host), the names ObservedState.image_id() looks for: each
    is asked for, and one the host does not have is no error.

    The whole list instead: for a digest or an image ID (no name to ask for), past
    IMAGE_NAMES_AT_MOST names, and for more than one name over a transport that makes its calls
    one after the other (ssh://: a round trip each)."""
    wanted = set(references)
    if not wanted:
        return []
    from podspec.references import has_digest, stored_names  # (imports the model)

    if any(has_digest(r) or _IMAGE_ID.fullmatch(r) for r in wanted):
        return None
    names = sorted({name for reference in wanted for name in stored_names(reference)})
    if len(names) > (IMAGE_NAMES_AT_MOST if concurrent else 1):
        return None
    return names


def inspected_images(answers: Sequence[Any]) -> tuple[ObservedImage, ...]:
    """GET /images/{name}/json answers (None: the host has no image of that name) as the image
    list shows them, each image once (by its ID): ID, names (RepoTags), digests (RepoDigests)."""
    from podspec.observed import ObservedImage

    seen: dict[str, ObservedImage] = {}
    for answer in answers:
        if isinstance(answer, dict) and answer.get("Id"):
            seen.setdefault(str(answer["Id"]), ObservedImage(
                str(answer["Id"]), tuple(sorted(set(answer.get("RepoTags") or []))),
                tuple(sorted(set(answer.get("RepoDigests") or [])))))
    return tuple(seen.values())


def secrets(answer: Any) -> tuple[ObservedSecret, ...]:
    """GET /secrets/json, sorted by name. Podman 4.3 answers `"Labels": null` for every secret
    (it stores them, and shows them in the secret's inspect, but leaves them out of the list):
    then `labels_listed` is False and podspec knows its own secrets by their names."""
    from podspec.observed import ObservedSecret

    found = []
    for s in _list(answer):
        spec = s.get("Spec") or {}
        labels = spec.get("Labels")
        found.append(ObservedSecret(id=s.get("ID") or "", name=spec.get("Name") or s.get("Name") or "",
                                    labels=dict(labels or {}), labels_listed=labels is not None))
    return tuple(sorted(found, key=lambda s: s.name))


def networks(answer: Any) -> tuple[ObservedNetwork, ...]:
    """GET /networks/json (libpod: `name`, `labels`, `subnets[].subnet` and `.gateway`, `dns_enabled`; the same
    shape on 4.3 and 5.4), sorted by name."""
    from podspec.observed import ObservedNetwork

    found = []
    for n in _list(answer):
        subnets = tuple(str(s.get("subnet")) for s in n.get("subnets") or [] if isinstance(s, dict) and s.get("subnet"))
        gateways = tuple(str(s.get("gateway")) for s in n.get("subnets") or [] if isinstance(s, dict) and s.get("gateway"))
        found.append(ObservedNetwork(name=str(n.get("name") or ""), labels=dict(n.get("labels") or {}), subnets=subnets,
                                     dns=bool(n.get("dns_enabled")), gateways=gateways))
    return tuple(sorted(found, key=lambda n: n.name))


def secret_labels(answer: Any) -> dict[str, str]:
    """GET /secrets/{name}/json: the secret's labels (under Spec; never its value)."""
    spec = (answer or {}).get("Spec") or {} if isinstance(answer, dict) else {}
    return {str(k): str(v) for k, v in (spec.get("Labels") or {}).items()}


def state(container_list: Any, volume_list: Any, image_list: Any, secret_list: Any = None,
          network_list: Any = None) -> ObservedState:
    """The host from the five list answers; pods are read off their infra containers."""
    from podspec.observed import ObservedState, pods_from_containers

    found = containers(container_list)
    return ObservedState(
        pods=pods_from_containers(found), containers=found, volumes=volumes(volume_list), images=images(image_list),
        secrets=secrets(secret_list), networks=networks(network_list),
    )


def pod_names(answer: Any) -> tuple[str, ...]:
    """GET /pods/json: every pod's name, sorted."""
    return tuple(sorted(p["Name"] for p in _list(answer)))


def version(answer: Any) -> str:
    """GET /version: the service's Podman version ("4.3.1"); "?" when it does not say."""
    data = answer if isinstance(answer, dict) else {}
    return str(data.get("Version") or "?")


def healthcheck(answer: Any) -> tuple[str, list[dict]]:
    """GET /containers/{name}/healthcheck: (status, log entries)."""
    data = answer if isinstance(answer, dict) else {}
    return str(data.get("Status", "unknown")), [e for e in data.get("Log") or [] if isinstance(e, dict)]


def health_log(inspect: Any) -> list[dict]:
    """The health log in a container's inspect (State.Health.Log)."""
    data = inspect if isinstance(inspect, dict) else {}
    return [e for e in ((data.get("State") or {}).get("Health") or {}).get("Log") or [] if isinstance(e, dict)]


def last_output(log: list[dict], limit: int = 200) -> str:
    """The last health check's output, stripped, its last `limit` characters."""
    return str(log[-1].get("Output", "")).strip()[-limit:] if log else ""


# ---------------------------------------------------------------------------------- pulls


def json_stream(answer: Any) -> list[dict]:
    """The objects of a concatenated JSON stream (POST /images/pull), or of one decoded object."""
    if isinstance(answer, dict):
        return [answer]
    if isinstance(answer, bytes):
        answer = answer.decode(errors="replace")
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


def pull_error(answer: Any) -> str | None:
    """The first error a pull stream reports (the endpoint answers 200 and fails inside the
    stream), or None when the pull succeeded."""
    for report in json_stream(answer):
        if report.get("error"):
            return str(report["error"]).strip()
    return None


class PullStream:
    """The Docker-compatible pull stream (POST /images/create), read one line at a time.

    Both Podman 4.3 and 5 report per layer there (libpod's own pull endpoint only reports text):
    `Pulling fs layer` / `Already exists` name a layer, `Downloading` carries
    `progressDetail: {current, total}` (sent about once a second, so a small layer may finish
    without one), `Download complete` ends it; a failure is an object with `error`."""

    DONE = ("already exists", "download complete", "pull complete")
    LAYER = ("pulling fs layer", "waiting", "downloading", "verifying checksum", "extracting", *DONE)

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.error: str | None = None
        self._layers: dict[str, list[int]] = {}  # id -> [done, current bytes, total bytes]

    def feed(self, line: bytes | str) -> PullProgress | None:
        """Read one line; the progress so far when it changed, else None."""
        for report in json_stream(line):
            if report.get("error"):
                self.error = self.error or str(report.get("error")).strip()
                continue
            layer, status = str(report.get("id") or ""), str(report.get("status") or "").lower()
            if not layer or status not in self.LAYER:
                continue  # "Pulling from ..." (whose id is the tag), "Digest: ...", "Status: ...": not a layer
            entry = self._layers.setdefault(layer, [0, 0, 0])
            detail = report.get("progressDetail") or {}
            if isinstance(detail, dict) and detail.get("total"):
                entry[1], entry[2] = int(detail.get("current") or 0), int(detail.get("total") or 0)
            if status in self.DONE:
                entry[0] = 1
                entry[1] = entry[2]
        return self.progress()

    def progress(self) -> PullProgress:
        from podspec.observed import PullProgress

        layers = self._layers.values()
        return PullProgress(self.reference, len(self._layers), sum(e[0] for e in layers),
                            sum(e[1] for e in layers), sum(e[2] for e in layers))


def search_tags(answer: Any) -> tuple[str, ...]:
    """GET /images/search?listTags=true: the tags found, sorted."""
    return tuple(sorted({str(e.get("Tag")) for e in _list(answer) if e.get("Tag")}))


def image_size(inspect: Any) -> tuple[str, int, int]:
    """GET /images/{ref}/json: (ID, size in bytes, number of layers)."""
    data = inspect if isinstance(inspect, dict) else {}
    layers = (data.get("RootFS") or {}).get("Layers") or []
    return str(data.get("Id") or ""), int(data.get("Size") or 0), len(layers) if isinstance(layers, list) else 0


# --------------------------------------------------------------------------------- errors


def error_message(status: int, content: bytes) -> str:
    """Podman's error text: `message` (or `cause`), then the `Errs` of a pod operation."""
    text = content.decode(errors="replace").strip()
    try:
        data = json.loads(content)
    except ValueError:
        return text or f"HTTP {status}"
    if not isinstance(data, dict):
        return str(data)
    parts = [str(data.get("message") or data.get("cause") or "").strip()]
    parts += [str(e).strip() for e in _errs(data.get("Errs")) if str(e).strip()]
    return ": ".join(p for p in parts if p) or text or f"HTTP {status}"


def _errs(errs: Any) -> Iterable[Any]:
    return errs if isinstance(errs, list) else ()


# (words that must all appear in Podman's message, hint)
HINTS = (
    (("address already in use",), "another process or pod holds that host port: free it, or change hostPort"),
    (("cannot listen on the",), "another process or pod holds that host port: free it, or change hostPort"),
    (("cannot add", "running pod"), "podspec replaces the pod for such changes; run the command again"),
    (("volume", "being used"), "the volume is still mounted by a container; it was not removed"),
    (("in use",), "another object holds the name; see `podspec diff`"),
    (("already exists",), "another object holds the name; see `podspec diff`"),
    (("image not known",), "make the image available locally (podman load / podman build) or fix its name"),
    # a bind mount's source that is not there (Podman creates none for a hostPath of type unset,
    # Directory, File or Socket, as the kubelet does not either)
    (("statfs", "no such file or directory"), "a hostPath volume's path does not exist on the host: create it there, "
                                              "or set the volume's hostPath type to DirectoryOrCreate or FileOrCreate"),
    # Podman never lets two networks overlap; podspec chose a subnet free when it read the host, and
    # another network (another project applied at the same moment) took it since
    (("subnet", "already used"), "the host uses every subnet podspec tried (another network, or a route Podman does "
                                  "not list: another Podman's or a VPN's); free one of 10.90.0.0/15"),
)


# (reason, words any of which in Podman's message (lower case) mean it), first match wins; a 404
# without any of them is NOT_FOUND too.
_REFUSALS = (
    (Refusal.UNKNOWN_IMAGE, ("image not known",)),
    # "cleaning up volume storage": Podman dropped the volume from its database, then failed to
    # remove its directory (another client made it again, or took it first): gone, for Podman
    (Refusal.NOT_FOUND, ("no such", "not found", "no secret with", "name unknown", "name not known",
                        "cleaning up volume storage")),
    (Refusal.EXISTS, ("already exists", "already in use", "name in use")),
    (Refusal.IN_USE, ("being used", "in use")),
    (Refusal.WRONG_STATE, ("improper state", "state improper", "not running", "already running")),
)


# A volume created while another client removes the same name: Podman made the volume's directory,
# the removal took it, and the creation of `_data` inside it failed (seen with two targets that
# share one host's storage taking the same project lock)
_RACES = (("creating volume directory", "no such file or directory"),)


def refusal(status: int, message: str) -> Refusal:
    """Why Podman refused, from its answer's status and message (4.3 and 5 word them alike)."""
    text = message.lower()
    if any(all(words in text for words in race) for race in _RACES):
        return Refusal.RACED
    if "subnet" in text and "already used" in text:
        return Refusal.SUBNET_TAKEN
    found = next((reason for reason, words in _REFUSALS if any(w in text for w in words)), None)
    return found or (Refusal.NOT_FOUND if status == 404 else Refusal.OTHER)


def left_empty(inspected: Any, labels: Mapping[str, str]) -> bool:
    """GET /pods/{name}/json of a pod a creation ran into: whether it holds no container at all (not
    even an infra container) and was created by podspec for the same project from the same source as
    the pod about to be created (`labels`, the new pod's): a leftover podspec may remove."""
    from podspec import labels as L

    if not isinstance(inspected, dict) or inspected.get("Containers"):
        return False
    found = inspected.get("Labels") or {}
    return (L.is_managed(found) and L.is_managed(labels) and found.get(L.PROJECT) == labels.get(L.PROJECT)
            and found.get(L.ORIGIN, "") == labels.get(L.ORIGIN, ""))


def refused(what: str, status: int, message: str) -> EngineError:
    """The error for a call Podman refused: what was tried, Podman's words, a hint, the reason."""
    return EngineError(f"Podman refused to {what}: {message}", hint(message), refusal(status, message))


def hint(message: str) -> str:
    """How to fix what Podman's message says, for the errors podspec knows; a pointer otherwise."""
    text = message.lower()
    return next((h for words, h in HINTS if all(w in text for w in words)), "see Podman's message above")


def host_facts(answer: Any, version: str | None, port_start: int | None) -> HostFacts:
    """GET /info: rootless or root, the UID the service runs as (the host ID container root maps
    to, when rootless), its version (unless `version` is given), cgroups; `port_start` is the host's
    ip_unprivileged_port_start, when known."""
    from podspec.observed import HostFacts

    data = answer if isinstance(answer, dict) else {}
    if version is None:
        version = str((data.get("version") or {}).get("Version") or "?")
    host = data.get("host") or {}
    rootless = bool((host.get("security") or {}).get("rootless"))
    uid: int | None = 0 if not rootless else None
    for entry in (host.get("idMappings") or {}).get("uidmap") or ():
        if isinstance(entry, dict) and entry.get("container_id") == 0 and rootless:
            uid = int(entry.get("host_id", 0))
    controllers = host.get("cgroupControllers")
    return HostFacts(rootless=rootless, uid=uid, unprivileged_port_start=port_start, version=version,
                     cgroup_controllers=tuple(str(c) for c in controllers) if isinstance(controllers, list) else None,
                     cgroup_version=str(host.get("cgroupVersion") or ""), hostname=str(host.get("hostname") or ""))
