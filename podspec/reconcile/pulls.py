"""Which images apply must pull before it plans, by imagePullPolicy (pure).

Always: pull every time (a tag that moved then recreates its containers). IfNotPresent: pull only
when absent. Never: never pull; absent is an error. An image that is absent and cannot be pulled
fails the apply before any change; an `Always` image that cannot be pulled but is present locally
is used as it is, with a warning (offline hosts keep working).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from podspec.errors import ImageUnavailable, PodspecError
from podspec.model import DesiredState, PullPolicy
from podspec.observed import ObservedState


@dataclass(frozen=True)
class ImageNeed:
    reference: str
    policy: PullPolicy
    present: bool
    users: tuple[str, ...]  # "pod/container" that use it

    @property
    def pull(self) -> bool:
        return self.policy is PullPolicy.ALWAYS or (self.policy is PullPolicy.IF_NOT_PRESENT and not self.present)


class PullAction(str, Enum):
    USE = "use"  # use the local image as it is
    PULL = "pull"
    ANNOUNCE = "announce"  # not pulling now (diff, dry run); say that apply will pull it
    MISSING = "missing"  # absent and the policy forbids a pull: fail before any change


def decide(need: ImageNeed, pulling: bool) -> PullAction:
    """What to do with an image before planning; `pulling` is False for diff and apply --dry-run."""
    if not need.pull:
        return PullAction.USE if need.present else PullAction.MISSING
    if not pulling:
        return PullAction.USE if need.present else PullAction.ANNOUNCE
    return PullAction.PULL


def failed_pull(need: ImageNeed, reason: str) -> ImageUnavailable | None:
    """After a pull failed: the error that stops the apply, or None when the local image is used
    (an `Always` image present here: offline hosts keep working, with a warning)."""
    return None if need.present else missing_error(need, reason)


def needs(desired: DesiredState, observed: ObservedState) -> tuple[ImageNeed, ...]:
    by_ref: dict[str, tuple[PullPolicy, list[str]]] = {}
    strength = {PullPolicy.NEVER: 0, PullPolicy.IF_NOT_PRESENT: 1, PullPolicy.ALWAYS: 2}
    for pod in desired.pods:
        for c in pod.all_containers():
            policy, users = by_ref.get(c.image, (c.pull_policy, []))
            if strength[c.pull_policy] > strength[policy]:
                policy = c.pull_policy
            users.append(f"{pod.name}/{c.name}")
            by_ref[c.image] = (policy, users)
    return tuple(
        ImageNeed(ref, policy, observed.image_id(ref) is not None, tuple(sorted(users)))
        for ref, (policy, users) in sorted(by_ref.items())
    )


def missing_error(need: ImageNeed, reason: str) -> ImageUnavailable:
    return ImageUnavailable(
        f"image {need.reference} (used by {', '.join(need.users)}) is not on the host"
        + (f" and cannot be pulled: {reason}" if reason else f" and imagePullPolicy is {need.policy.value}"),
        "load or build it (podman load / podman build), fix the image name, or let podspec pull it; nothing was changed",
    )


def needs_user_check(desired: DesiredState) -> dict[str, tuple[str, ...]]:
    """Images whose USER must be read: used by a container with runAsNonRoot and no runAsUser."""
    found: dict[str, list[str]] = {}
    for pod in desired.pods:
        for c in pod.all_containers():
            if c.security.run_as_non_root and c.security.run_as_user is None:
                found.setdefault(c.image, []).append(f"{pod.name}/{c.name}")
    return {image: tuple(sorted(users)) for image, users in sorted(found.items())}


def non_root_problem(image: str, user: str, users: tuple[str, ...]) -> str | None:
    """Why runAsNonRoot cannot hold for an image's USER, as the kubelet decides; None when it holds."""
    uid = user.split(":", 1)[0].strip()
    if uid in ("", "0", "root"):
        return (f"{', '.join(users)}: runAsNonRoot is true, but image {image} runs as root"
                f"{'' if uid else ' (it sets no USER)'}")
    if not uid.isdigit():
        return (f"{', '.join(users)}: runAsNonRoot is true, but image {image} runs as user {uid!r}, "
                "which is not numeric: it cannot be verified as non-root")
    return None


def unsupported(desired: DesiredState, podman_version: str) -> list[str]:
    """What the manifests ask for that this Podman would silently ignore (so: refused up front)."""
    from podspec.model import VolumeKind
    from podspec.reconcile.podman_rules import SUBPATH_ON_VOLUMES, version_tuple

    what, minimum = SUBPATH_ON_VOLUMES
    found = secret_env_unsupported(desired, podman_version)
    if version_tuple(podman_version) >= minimum:
        return found
    for pod in desired.pods:
        named = {v.name for v in pod.volumes if v.kind in (VolumeKind.CLAIM, VolumeKind.EMPTY_DIR)}
        for c in pod.all_containers():
            for m in c.volume_mounts:
                if m.sub_path and m.name in named:
                    found.append(
                        f"{pod.name}/{c.name} mounts {m.name} with subPath {m.sub_path!r}: {what} needs Podman "
                        f"{'.'.join(map(str, minimum))} or newer (this host runs {podman_version}, which would ignore it)"
                    )
    return found


def secret_env_unsupported(desired: DesiredState, podman_version: str) -> list[str]:
    """Env values from a Secret, refused on a Podman whose `podman inspect` shows them in clear.
    A secret volume (a file per key) keeps them hidden on every Podman."""
    from podspec.model import KeyRef
    from podspec.reconcile.podman_rules import SECRET_ENV_HIDDEN, version_tuple

    what, minimum = SECRET_ENV_HIDDEN
    if version_tuple(podman_version) >= minimum:
        return []
    found = []
    for pod in desired.pods:
        for c in pod.all_containers():
            names = sorted(name for name, value in c.effective_env() if isinstance(value, KeyRef))
            if names:
                found.append(
                    f"{pod.name}/{c.name} takes {', '.join(names)} from a Secret: {what} needs Podman "
                    f"{'.'.join(map(str, minimum))} or newer (this host runs {podman_version}, whose `podman inspect` "
                    "would show the value); mount the Secret as a volume and read the file instead"
                )
    return found


def uses_secret_env(desired: DesiredState) -> bool:
    from podspec.model import KeyRef

    return any(isinstance(v, KeyRef) for p in desired.pods for c in p.all_containers() for _, v in c.effective_env())


def uses_sub_path(desired: DesiredState) -> bool:
    """Whether `unsupported` has anything to check (a subPath, or an env value from a Secret)."""
    return (any(m.sub_path for p in desired.pods for c in p.all_containers() for m in c.volume_mounts)
            or uses_secret_env(desired))


def unsupported_error(refused: list[str]) -> PodspecError:
    return PodspecError(
        "this Podman cannot do what the manifests ask:\n  " + "\n  ".join(refused),
        "upgrade Podman, or mount a volume of its own instead of a subPath (a Secret as a secret volume); "
        "nothing was changed",
    )


def non_root_error(problems: list[str]) -> PodspecError:
    return PodspecError(
        "runAsNonRoot cannot hold:\n  " + "\n  ".join(problems),
        "set securityContext.runAsUser to a non-zero UID (or use an image whose USER is a non-zero UID); "
        "nothing was changed",
    )
