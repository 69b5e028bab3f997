"""The names and formats podspec writes on Podman, each beside its reader.

One home for each: a rule written here is read back (by export, the planner, the loader's checks,
the engine and its fake) from here, never spelled again elsewhere.
"""

from __future__ import annotations

import hashlib

from podspec import labels as L
from podspec.model import KeyRef


def container_name(pod: str, container: str) -> str:
    """Podman's name for a pod's container, as `podman kube play` names it."""
    return f"{pod}-{container}"


def empty_dir_volume(pod: str, volume: str) -> str:
    """The Podman volume behind a pod's emptyDir. The `_` keeps it apart from every claim name
    (claims are DNS-1123 subdomains, which have no `_`)."""
    return f"{pod}_{volume}"


def port_text(host_ip: str, host_port: int | None, container_port: int, protocol: str) -> str:
    host = f"{host_ip}:" if host_ip else ""
    if host_port is None:
        return f"{container_port}/{protocol.upper()}"
    return f"{host}{host_port}->{container_port}/{protocol.upper()}"


def secret_name_prefix(project: str) -> str:
    """How the names of a project's Podman secrets begin: `podspec-` and 8 hex digits of the
    project. Podman 4.3 lists secrets without their labels, so there the name is what tells
    podspec's secrets, and which project's, apart (the labels say it too, for Podman 5 and people)."""
    return f"podspec-{hashlib.sha256(project.encode()).hexdigest()[:8]}-"


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
    return None if name.startswith("podspec-") else False
