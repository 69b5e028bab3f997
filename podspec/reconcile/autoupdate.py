"""Image updates from Podman's own annotations (`io.containers.autoupdate`), decided (pure).

- `registry`: the tag's digest in the registry is not the one the containers run: an update.
- `local`: the tag names another local image than the containers run (after `podman build` or
  `podman pull`): an update.

The agent (run/sync/autoupdate.py) asks the registry once per distinct image and interval, however
many containers use it; what to ask, and what the answers mean, is decided here. `podspec apply`
pulls `registry` images as `imagePullPolicy: Always` would (reconcile/pulls.py) and `diff` shows a
container whose image moved as a recreation (reconcile/diff.py).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from enum import Enum

from podspec.model import AutoUpdate, DesiredState
from podspec.names import container_name
from podspec.observed import ObservedState
from podspec.reconcile.notices import ImageChange
from podspec.secrets import registry_of

# What a registry is asked to describe a tag by (OCI and Docker, single images and lists).
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


class UpdateMode(str, Enum):
    """What the agent does when an auto-update image moved (`podspec sync --image-updates`)."""

    APPLY = "apply"  # recreate the containers that run it, through the apply workflow, and tell
    NOTIFY = "notify"  # tell only; the agent's applies leave moved images alone
    OFF = "off"  # no checks (applies still pull `registry` images as Always would)


@dataclass(frozen=True)
class Watch:
    """One image to check, with the containers (Podman names) that run it under that policy."""

    image: str
    mode: AutoUpdate
    containers: tuple[str, ...]


def watched(desired: DesiredState) -> tuple[Watch, ...]:
    """One watch per distinct image: `registry` wins over `local` for an image both use (the
    registry check finds what a local one would). Images pinned by digest never move."""
    found: dict[str, tuple[AutoUpdate, list[str]]] = {}
    for pod in desired.pods:
        for c in pod.all_containers():
            if c.auto_update is None or "@" in c.image:
                continue
            mode, names = found.get(c.image, (c.auto_update, []))
            if c.auto_update is AutoUpdate.REGISTRY:
                mode = AutoUpdate.REGISTRY
            names.append(container_name(pod.name, c.name))
            found[c.image] = (mode, names)
    return tuple(Watch(image, mode, tuple(sorted(names))) for image, (mode, names) in sorted(found.items()))


def without_updates(desired: DesiredState) -> DesiredState:
    """The desired state with no auto-update policy (notify-only: the agent's own applies and
    repairs leave a moved image alone; `imagePullPolicy` still applies)."""
    if not any(c.auto_update for p in desired.pods for c in p.all_containers()):
        return desired
    pods = tuple(
        replace(p, containers=tuple(replace(c, auto_update=None) for c in p.containers),
                init_containers=tuple(replace(c, auto_update=None) for c in p.init_containers))
        for p in desired.pods
    )
    return replace(desired, pods=pods)


def local_change(watch: Watch, observed: ObservedState) -> ImageChange | None:
    """The containers of `watch` that run another image than the local tag names now."""
    local = observed.image_id(watch.image)
    if local is None:
        return None
    by_name = {c.name: c for c in observed.containers}
    stale = tuple(n for n in watch.containers if n in by_name and by_name[n].image_id != local)
    if not stale:
        return None
    return ImageChange(watch.image, by_name[stale[0]].image_id, local, stale)


def registry_change(watch: Watch, remote: str, observed: ObservedState) -> ImageChange | None:
    """`remote`: the digest the registry serves for the tag now. Stale: the containers whose image
    is not known by that digest (its RepoDigests: what it was pulled or pushed as)."""
    repository = repository_of(watch.image)
    digests = {i.id: i.digests for i in observed.images}
    by_name = {c.name: c for c in observed.containers}
    stale, was = [], ""
    for name in watch.containers:
        if name not in by_name:
            continue  # not on the host (yet): the next apply creates it from the tag
        image_id = by_name[name].image_id
        known = digests.get(image_id, ())
        if f"{repository}@{remote}" not in known:
            stale.append(name)
            was = was or next((d.partition("@")[2] for d in known if d.partition("@")[0] == repository), image_id)
    if not stale:
        return None
    return ImageChange(watch.image, was, remote, tuple(stale))


def repository_of(reference: str) -> str:
    """`127.0.0.1:5000/app:1` -> `127.0.0.1:5000/app` (as RepoDigests name it)."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


@dataclass(frozen=True)
class ManifestRequest:
    """Where the registry API describes a tag: https://REGISTRY/v2/REPOSITORY/manifests/TAG."""

    registry: str  # as the reference names it (docker.io)
    endpoint: str  # host[:port] to connect to (registry-1.docker.io for docker.io)
    repository: str  # library/busybox
    tag: str

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.endpoint}/v2/{self.repository}/manifests/{self.tag}"


def manifest_request(reference: str) -> ManifestRequest:
    registry = registry_of(reference)
    repository = repository_of(reference)
    tag = reference[len(repository) + 1:] or "latest"
    path = repository[len(registry) + 1:] if repository.startswith(registry + "/") else repository
    if registry == "docker.io" and "/" not in path:
        path = "library/" + path
    return ManifestRequest(registry, "registry-1.docker.io" if registry == "docker.io" else registry, path, tag)


def insecure(registries_conf: str, reference: str) -> bool:
    """Whether Podman's registries.conf (v2 `[[registry]] insecure = true`, or v1
    `[registries.insecure]`) lets this reference's registry be reached over plain HTTP."""
    try:
        data = tomllib.loads(registries_conf)
    except tomllib.TOMLDecodeError:
        return False
    name = repository_of(reference)
    for entry in data.get("registry") or ():
        location = str(entry.get("location") or entry.get("prefix") or "")
        if entry.get("insecure") and location and (name == location or any(
                name.startswith(location + sep) for sep in "/:@")):
            return True
    v1 = ((data.get("registries") or {}).get("insecure") or {}).get("registries") or ()
    return registry_of(reference) in v1


def challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="https://auth",service="reg",scope="repository:x:pull"` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    key, value, quoted, i = "", "", False, 0
    buf = ""
    while i <= len(rest):
        ch = rest[i] if i < len(rest) else ","
        if quoted:
            if ch == '"':
                quoted = False
            else:
                buf += ch
        elif ch == '"':
            quoted = True
        elif ch == "=" and not key:
            key, buf = buf.strip(), ""
        elif ch == ",":
            if key:
                params[key.lower()] = buf.strip() if not value else value
            key, value, buf = "", "", ""
        else:
            buf += ch
        i += 1
    return scheme.lower(), params
