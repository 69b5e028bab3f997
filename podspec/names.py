"""The names and formats podspec writes on Podman, each beside its reader.

One home for each: a rule written here is read back (by export, the planner, the loader's checks,
the engine and its fake) from here, never spelled again elsewhere:

- container names `<pod>-<container>` (container_name / container_in_pod);
- the volumes behind emptyDirs and cluster storage;
- published ports as intent and observe record them (port_text / read_port_text);
- a mount's recorded source, the volume behind it (mount_source / read_mount_source, named_volume_of;
  an image volume's: image_volume_source / read_image_volume_source), and each mounted file of a
  ConfigMap, Secret, projected or downwardAPI volume (file_note / read_file_note);
- Podman's restart policies for a pod's restartPolicy (PODMAN_RESTART / restart_policy_of);
- Podman secrets' names, and which project owns one (podman_secret_name, owns_secret); which
  secrets (and, before, volumes) hold an apply's history record (is_history_name; the record's full
  name is reconcile/history.py's); the volume names podspec keeps for itself, which no manifest may
  take (reserved_volume: the apply lock's prefix, the names record's);
- a Deployment's copies: `<name>-pod`, `<name>-pod-1`, ... (copy_name), each with a second Podman
  name that a rollout starts its new version under beside the old one (other_name), and back
  (copy_of, copy_index).

Next door, in the same layer: labels.py (the labels), references.py (which part of an image
reference is a registry; the pull-policy default), model.capability_set (a set of capabilities).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podspec import labels as L
from podspec.model import KeyRef, PortMapping, Protocol, RestartPolicy, SourceKind, Volume, VolumeKind

if TYPE_CHECKING:
    from podspec.model import ProjectedFile


def container_name(pod: str, container: str) -> str:
    """Podman's name for a pod's container, as `podman kube play` names it."""
    return f"{pod}-{container}"


def container_in_pod(pod: str, podman_name: str) -> str:
    """The reader of container_name: `<pod>-x` -> `x`; a name without the pod's prefix as it is."""
    return podman_name.removeprefix(pod + "-")


def cluster_storage_volume(pod: str, volume: str) -> str:
    """The Podman volume standing in for a pod's cluster storage (a network or cloud disk)."""
    return f"{pod}-{volume}"


def empty_dir_volume(pod: str, volume: str) -> str:
    """The Podman volume behind a pod's emptyDir. The `_` keeps it apart from every claim name
    (claims are DNS-1123 subdomains, which have no `_`)."""
    return f"{pod}_{volume}"


def port_text(host_ip: str, host_port: int | None, container_port: int, protocol: str) -> str:
    """A port as intent records it and observe reads it: `[ip:]host->container/PROTO`, or
    `container/PROTO` when it is not published (read back by read_port_text)."""
    host = f"{host_ip}:" if host_ip else ""
    if host_port is None:
        return f"{container_port}/{protocol.upper()}"
    return f"{host}{host_port}->{container_port}/{protocol.upper()}"


def read_port_text(text: str) -> PortMapping | None:
    """A port as port_text writes it; None for any other text."""
    match = re.fullmatch(r"(?:(?:(.*):)?(\d+)->)?(\d+)/(TCP|UDP|SCTP)", text)
    if match is None:
        return None
    ip, host_port, container_port, protocol = match.groups()
    return PortMapping(int(container_port), int(host_port) if host_port else None, ip or "", Protocol(protocol))


def image_volume_source(volume: Volume) -> str:
    """An image volume's mount source as intent records it: `image:<pullPolicy>:<reference>`."""
    policy = volume.image_pull_policy.value if volume.image_pull_policy else ""
    return f"image:{policy}:{volume.image}"


def read_image_volume_source(source: str) -> tuple[str, str]:
    """(pullPolicy text, reference) from what image_volume_source writes; ("", "") for other text."""
    if not source.startswith("image:"):
        return "", ""
    policy, _, reference = source.removeprefix("image:").partition(":")
    return policy, reference


def mount_source(volume: Volume) -> str:
    """What is behind a mount, as intent records it in a container's last-applied volumeMounts
    (export and the volume diff read it back with read_mount_source): `volume:CLAIM[:ro]`,
    `hostPath:PATH[:TYPE]`, `tmpfs[:BYTES]`, `configMap:NAME`, `secret:NAME`, `projected`,
    `downwardAPI`, `image:POLICY:REFERENCE`, `emptyDir`."""
    if volume.kind is VolumeKind.CLAIM:
        return f"volume:{volume.claim_name}" + (":ro" if volume.read_only else "")
    if volume.kind is VolumeKind.HOST_PATH:
        return f"hostPath:{volume.host_path}" + (f":{volume.host_path_type}" if volume.host_path_type else "")
    if volume.medium == "Memory":
        return "tmpfs" + (f":{volume.size_limit_bytes}" if volume.size_limit_bytes is not None else "")
    if volume.kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
        return f"{volume.kind.value}:{volume.source}"
    if volume.kind in (VolumeKind.PROJECTED, VolumeKind.DOWNWARD_API):
        return volume.kind.value  # its files say where each comes from
    if volume.kind is VolumeKind.IMAGE:
        return image_volume_source(volume)
    return "emptyDir"


@dataclass(frozen=True)
class MountSource:
    """A recorded mount source, read: its kind (the word before the first colon; "" when none was
    recorded), the name in it (the claim, the host path, the ConfigMap or Secret, the image's
    reference), whether a claim is mounted read-only, and the rest (a hostPath's type, an image
    volume's pull policy, a tmpfs's size)."""

    kind: str
    name: str = ""
    read_only: bool = False
    detail: str = ""


def read_mount_source(source: str) -> MountSource:
    """A source as mount_source writes it."""
    kind, _, rest = source.partition(":")
    if kind == "volume":
        claim = rest.removesuffix(":ro")
        return MountSource(kind, claim, read_only=claim != rest)
    if kind == "hostPath":
        path, _, path_type = rest.partition(":")
        return MountSource(kind, path, detail=path_type)
    if kind == "image":
        policy, reference = read_image_volume_source(source)
        return MountSource(kind, reference, detail=policy)
    if kind == "tmpfs":
        return MountSource(kind, detail=rest)
    return MountSource(kind, rest)


def named_volume_of(source: str) -> str | None:
    """The named volume (a claim's) a recorded mount source refers to, if any."""
    read = read_mount_source(source)
    return read.name if read.kind == "volume" and source.startswith("volume:") else None


def file_note(volume: Volume, path: str, f: ProjectedFile) -> str:
    """A mounted file as intent records it (export reads it back with read_file_note): `PATH <- KEY
    (MODE)`; in a projected or downwardAPI volume the key names its source: `configMap/NAME:KEY`,
    `downwardAPI:FIELD`."""
    key = f.ref.key
    if volume.kind is VolumeKind.PROJECTED and f.ref.kind is not SourceKind.DOWNWARD_API:
        key = f"{f.ref.kind.value}/{f.ref.source}:{key}"
    elif f.ref.kind is SourceKind.DOWNWARD_API:
        key = f"downwardAPI:{key}"
    return f"{path or '.'} <- {key} ({f.mode:04o})"


_FILE_NOTE = r"(.+) <- (\S+) \(([0-7]{4})\)"  # (a pattern's text: re compiles it at its first use, not at every start-up)


def read_file_note(text: str) -> tuple[str, str, int] | None:
    """(path, key, mode) from what file_note writes (the path "." for the mount itself); None for
    any other text."""
    match = re.fullmatch(_FILE_NOTE, text)
    if match is None:
        return None
    path, key, mode = match.groups()
    return path, key, int(mode, 8)


# Podman's restart policy for a pod's restartPolicy (kube play's mapping), and its reader.
PODMAN_RESTART = {RestartPolicy.ALWAYS: "always", RestartPolicy.ON_FAILURE: "on-failure", RestartPolicy.NEVER: "no"}
_FROM_PODMAN_RESTART = {"always": RestartPolicy.ALWAYS, "unless-stopped": RestartPolicy.ALWAYS,
                        "on-failure": RestartPolicy.ON_FAILURE}


def restart_policy_of(podman_name: str) -> RestartPolicy:
    """The restartPolicy a Podman restart policy stands for (none, `no` or unknown: Never)."""
    return _FROM_PODMAN_RESTART.get(podman_name, RestartPolicy.NEVER)


SECRET_PREFIX = "podspec-"  # every Podman secret podspec makes: a project's values, the apply history


def made_by_podspec(secret: str) -> bool:
    """Whether a Podman secret's name is one podspec gives the secrets it makes (never one kept on the
    host by hand: podspec.io/host-secrets may not name it, or a pod would read another project's value)."""
    return secret.startswith(SECRET_PREFIX)


def secret_name_prefix(project: str) -> str:
    """How the names of a project's Podman secrets begin: `podspec-` and 8 hex digits of the
    project. Podman 4.3 lists secrets without their labels, so there the name is what tells
    podspec's secrets, and which project's, apart (the labels say it too, for Podman 5 and people)."""
    return f"{SECRET_PREFIX}{hashlib.sha256(project.encode()).hexdigest()[:8]}-"


def podman_secret_name(project: str, ref: KeyRef) -> str:
    """The Podman secret holding one ConfigMap or Secret key's value, named by its content: a new
    value is a new Podman secret (made before the containers that read it are recreated; the old
    one is removed after), never an update in place. Podman (4.3) allows 64 characters,
    [a-zA-Z0-9][a-zA-Z0-9_.-]*, not ending in - or .; the hash tells kinds, keys and values apart.
    A Secret or ConfigMap kept on the host (podspec.io/host-secrets) is the Podman secret of its own name."""
    if ref.host:
        return ref.source
    digest = hashlib.sha256("\0".join((project, ref.kind.value, ref.source, ref.key, ref.digest)).encode()).hexdigest()[:12]
    prefix = secret_name_prefix(project)
    readable = "".join(ch if ch.isalnum() or ch in "_.-" else "-" for ch in f"{ref.source}-{ref.key}")
    return prefix + readable[: 64 - len(prefix) - 1 - len(digest)].rstrip("-.") + "-" + digest


def owns_secret(project: str, name: str, labels: dict[str, str] | None, labels_listed: bool) -> bool | None:
    """Whether a Podman secret is this project's: by its labels where Podman lists them, else by
    its name. None: podspec's, of another project (or, with labels, someone else's: False)."""
    if labels_listed:
        if not L.is_managed(labels):
            return False
        return True if L.project_of(labels) == project else None
    if name.startswith(secret_name_prefix(project)):
        return True
    return None if made_by_podspec(name) else False


HISTORY_PREFIX = "podspec-history-"  # an apply's history record: a Podman secret (reconcile/history.py)
HISTORY_LEGACY_PREFIX = "podspec-history."  # format 1: volumes


def is_history_name(name: str) -> bool:
    """A Podman secret (or volume) that holds a history record: never a manifest's."""
    return name.startswith(HISTORY_PREFIX) or name.startswith(HISTORY_LEGACY_PREFIX)


LOCK_PREFIX = "podspec_lock_"  # a project's apply lock and its renewals: volumes (run/hostlock.py)
NAMES_PREFIX = "podspec-names."  # a project's names record: a volume (reconcile/network.py)
STOP_PREFIX = "podspec-stopped."  # a pod stopped on purpose: a volume (reconcile/lifecycle.py)
RESTARTS_PREFIX = "podspec-restarts."  # a container's probe restarts: volumes (reconcile/lifecycle.py)


def reserved_volume(name: str) -> str:
    """What podspec keeps a volume of this name for ("" when nothing): a manifest may not make or
    mount it (a claim `podspec_lock_shop` would hold project shop's apply lock for ever)."""
    if name.startswith(LOCK_PREFIX):
        return "a project's apply lock"
    if name.startswith(NAMES_PREFIX):
        return "a project's names record"
    if name.startswith(STOP_PREFIX):
        return "a pod's stop mark"
    if name.startswith(RESTARTS_PREFIX):
        return "a container's restart count"
    if is_history_name(name):
        return "the apply history"
    return ""


# ------------------------------------------------------------------------------ a Deployment's copies
#
# A Deployment's replicas run as copies: `web-pod` (as `podman kube play` names its pod), `web-pod-1`,
# `web-pod-2`, ... Each copy has two Podman names, its own and the same with SURGE_SUFFIX
# (`web-pod-b`, `web-pod-1-b`): a rollout that surges starts the new version of a copy under the
# name the copy does not run under, makes it ready, then removes the old one; the copy then runs
# under that name until the next such rollout moves it back. What the copy sees of itself
# (metadata.name, its hostname) is its copy name under either Podman name.

SURGE_SUFFIX = "-b"


def copy_name(deployment: str, index: int) -> str:
    """The name of a Deployment's copy: `web-pod`, `web-pod-1`, ..."""
    return f"{deployment}-pod" if index == 0 else f"{deployment}-pod-{index}"


def _base(workload: str) -> str:
    """`Deployment web` -> `web-pod`; "" for anything that is not a Deployment."""
    kind, _, name = workload.partition(" ")
    return f"{name}-pod" if kind == "Deployment" and name else ""


def copy_of(podman_name: str, workload: str) -> str:
    """The copy a pod of `workload` is, under either of its Podman names (`web-pod-1-b` ->
    `web-pod-1`); "" when the name is no copy's of that Deployment."""
    base = _base(workload)
    if not base:
        return ""
    name = podman_name.removesuffix(SURGE_SUFFIX)
    if name == base:
        return name
    tail = name.removeprefix(base + "-")
    return name if tail != name and tail.isdigit() and not tail.startswith("0") else ""


def copy_index(podman_name: str, workload: str) -> int:
    """`web-pod` and `web-pod-b` -> 0, `web-pod-3` -> 3 (the copies' order); -1 for no copy."""
    copy = copy_of(podman_name, workload)
    if not copy:
        return -1
    tail = copy.removeprefix(_base(workload)).removeprefix("-")
    return int(tail) if tail else 0


def other_name(podman_name: str, workload: str) -> str:
    """The copy's other Podman name (`web-pod-1` <-> `web-pod-1-b`); "" for no copy."""
    copy = copy_of(podman_name, workload)
    if not copy:
        return ""
    return copy if podman_name != copy else copy + SURGE_SUFFIX


def copy_names(podman_name: str, workload: str) -> tuple[str, ...]:
    """Both Podman names of the copy (the name itself alone when it is no copy's)."""
    copy = copy_of(podman_name, workload)
    return (copy, copy + SURGE_SUFFIX) if copy else (podman_name,)
