"""Image references: which part names a registry, the `:latest` default and Kubernetes'
imagePullPolicy default."""

from __future__ import annotations

from podspec.model import PullPolicy

# The probe helper's image (engine/probes.py): httpGet and tcpSocket probes are made from a small
# container in the pod's network namespace, with busybox's wget, nc and timeout. PODSPEC_PROBE_IMAGE
# names another; apply makes sure it is on the host, as the kubelet pulls its pause image.
DEFAULT_PROBE_IMAGE = "docker.io/library/busybox:latest"


def probe_helper_image(configured: str = "") -> str:
    return configured.strip() or DEFAULT_PROBE_IMAGE


def _last_component(image: str) -> str:
    return image.rsplit("/", 1)[-1]


def has_digest(image: str) -> bool:
    return "@" in image


def tag_of(image: str) -> str:
    """The tag written in the reference, or "" when there is none."""
    name = _last_component(image.split("@", 1)[0])
    return name.rsplit(":", 1)[1] if ":" in name else ""


def normalize(image: str) -> str:
    """`alpine` -> `alpine:latest`; references with a tag or a digest stay as written."""
    if has_digest(image) or tag_of(image):
        return image
    return image + ":latest"


def default_pull_policy(image: str) -> PullPolicy:
    """Always for `:latest` or no tag, else IfNotPresent (a digest never changes)."""
    if has_digest(image):
        return PullPolicy.IF_NOT_PRESENT
    tag = tag_of(image)
    return PullPolicy.ALWAYS if tag in ("", "latest") else PullPolicy.IF_NOT_PRESENT


def pull_policy_or_default(written: PullPolicy | str | None, image: str) -> PullPolicy:
    """The policy written (or recorded, as its value's text) for an image, else Kubernetes'
    default for it (also for a recorded text that names no policy)."""
    if isinstance(written, str):
        written = next((p for p in PullPolicy if p.value == written), None)
    return written or default_pull_policy(image)


def registry_in(reference: str) -> str:
    """The registry a reference names at its start (`127.0.0.1:5000/app:1` -> `127.0.0.1:5000`), or ""
    for a short name (`alpine`, `user/app`): a first part with a `.` or a `:`, or `localhost`."""
    first, _, rest = reference.partition("/")
    return first if rest and ("." in first or ":" in first or first == "localhost") else ""


def registry_of(reference: str) -> str:
    """The registry a reference names: `127.0.0.1:5000/app:1` -> `127.0.0.1:5000`; `alpine` and
    `user/app` -> `docker.io`."""
    return registry_in(reference) or "docker.io"


def on_default_registry(reference: str) -> str:
    """A short name on the default registry, as Podman resolves it: `alpine` ->
    `docker.io/library/alpine`, `user/app` -> `docker.io/user/app`; a name with a registry as written,
    but for Docker Hub's own images, which Podman names under library/ however they are written:
    `docker.io/alpine` (and `index.docker.io/alpine`) -> `docker.io/library/alpine`."""
    registry = registry_in(reference)
    if registry in ("docker.io", "index.docker.io"):
        path = reference.partition("/")[2]
        return f"docker.io/{path}" if "/" in path.split("@", 1)[0] else f"docker.io/library/{path}"
    if registry:
        return reference
    return f"docker.io/{reference}" if "/" in reference else f"docker.io/library/{reference}"


def stored_names(reference: str) -> tuple[str, ...]:
    """The names under which the host holds the image a reference names, as Podman runs it: a name
    with a registry as Podman stores it (`docker.io/busybox` is docker.io/library/busybox:latest); a
    short name (no registry) on the default registry or built on the host (`team/tool:3`:
    docker.io/team/tool:3 or localhost/team/tool:3, what `podman build -t team/tool:3` makes)."""
    full = expanded(reference)
    return (full,) if registry_in(reference) else (full, f"localhost/{normalize(reference)}")


def expanded(reference: str) -> str:
    """A reference as Podman resolves a short name on the default registry:
    `alpine` -> `docker.io/library/alpine:latest`, `user/app` -> `docker.io/user/app:latest`."""
    return on_default_registry(normalize(reference))
