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
from podspec.model import DesiredState, PullPolicy, VolumeKind
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

    def need(image: str, wanted: PullPolicy, user: str) -> None:
        policy, users = by_ref.get(image, (wanted, []))
        if strength[wanted] > strength[policy]:
            policy = wanted
        users.append(user)
        by_ref[image] = (policy, users)

    for pod in desired.pods:
        for c in pod.all_containers():
            need(c.image, c.pull_policy, f"{pod.name}/{c.name}")
        for v in pod.volumes:
            if v.kind is VolumeKind.IMAGE:  # an image volume's image is pulled as a container's is
                need(v.image, v.image_pull_policy or PullPolicy.IF_NOT_PRESENT, f"{pod.name}/volume {v.name}")
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
    """What the manifests ask for that this Podman cannot do or would silently ignore (so: refused
    up front, naming the Podman version needed)."""
    from podspec.reconcile.podman_rules import (
        IMAGE_VOLUMES,
        PRIVATE_USER_NAMESPACE,
        SUBPATH_ON_IMAGE_VOLUMES,
        SUBPATH_ON_VOLUMES,
        version_tuple,
    )

    running = version_tuple(podman_version)

    def needs_newer(rule: tuple[str, tuple[int, ...]]) -> str | None:
        what, minimum = rule
        if running >= minimum:
            return None
        return (f"{what} needs Podman {'.'.join(map(str, minimum))} or newer (this host runs {podman_version}, "
                "which would ignore it)" if rule is SUBPATH_ON_VOLUMES else
                f"{what} needs Podman {'.'.join(map(str, minimum))} or newer (this host runs {podman_version})")

    found = secret_env_unsupported(desired, podman_version)
    for pod in desired.pods:
        if not pod.host_users and (problem := needs_newer(PRIVATE_USER_NAMESPACE)):
            found.append(f"{pod.name}: {problem}; podman kube play gives it one on this version")
        kinds = {v.name: v.kind for v in pod.volumes}
        for v in pod.volumes:
            if v.kind is VolumeKind.IMAGE and (problem := needs_newer(IMAGE_VOLUMES)):
                found.append(f"{pod.name}: volume {v.name} is an image volume ({v.image}): {problem}")
        for c in pod.all_containers():
            for m in c.volume_mounts:
                if not m.sub_path or m.name not in kinds:
                    continue
                kind = kinds[m.name]
                rule = SUBPATH_ON_IMAGE_VOLUMES if kind is VolumeKind.IMAGE else (
                    SUBPATH_ON_VOLUMES if kind in (VolumeKind.CLAIM, VolumeKind.EMPTY_DIR) else None)
                if rule is not None and (problem := needs_newer(rule)):
                    found.append(f"{pod.name}/{c.name} mounts {m.name} with subPath {m.sub_path!r}: {problem}")
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


def needs_version_check(desired: DesiredState) -> bool:
    """Whether the manifests use something that depends on the Podman version (see unsupported);
    when not, the version need not be read."""
    return (uses_sub_path(desired) or any(v.kind is VolumeKind.IMAGE for p in desired.pods for v in p.volumes)
            or any(not p.host_users for p in desired.pods))


def unsupported_error(refused: list[str]) -> PodspecError:
    return PodspecError(
        "this Podman cannot do what the manifests ask:\n  " + "\n  ".join(refused),
        "upgrade Podman, or change what the manifests ask (a volume of its own instead of a subPath; a Secret as "
        "a secret volume; no hostUsers: false); nothing was changed",
    )


def non_root_error(problems: list[str]) -> PodspecError:
    return PodspecError(
        "runAsNonRoot cannot hold:\n  " + "\n  ".join(problems),
        "set securityContext.runAsUser to a non-zero UID (or use an image whose USER is a non-zero UID); "
        "nothing was changed",
    )
