"""Image references: the `:latest` default and Kubernetes' imagePullPolicy default."""

from __future__ import annotations

from podspec.model import PullPolicy


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


def expanded(reference: str) -> str:
    """A reference as Podman resolves a short name on the default registry:
    `alpine` -> `docker.io/library/alpine:latest`, `user/app` -> `docker.io/user/app:latest`."""
    reference = normalize(reference)
    first, _, rest = reference.partition("/")
    if not rest:
        return f"docker.io/library/{reference}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{reference}"
    return reference
