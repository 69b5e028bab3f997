"""Which images apply must pull before it plans, by imagePullPolicy (pure).

Always: pull every time (a tag that moved then recreates its containers). IfNotPresent: pull only
when absent. Never: never pull; absent is an error. An image that is absent and cannot be pulled
fails the apply before any change; an `Always` image that cannot be pulled but is present locally
is used as it is, with a warning (offline hosts keep working).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from podspec.errors import ImageUnavailable, PodspecError
from podspec.model import (
    HOST_PATH_CREATE_TYPES,
    HOST_PATH_HELPER_IMAGE,
    IMAGE_MOUNTS_ANNOTATION,
    AutoUpdate,
    DesiredState,
    PullPolicy,
    VolumeKind,
    image_mount_images,
)
from podspec.observed import ObservedState
from podspec.probe_record import probes_of
from podspec.references import pull_policy_or_default
from podspec.secrets import RegistryCredential

if TYPE_CHECKING:
    from podspec.model import Container


@dataclass(frozen=True)
class ImageNeed:
    """One image the manifests need: the pull policy asked for it, whether the host has it, who uses it."""

    reference: str
    policy: PullPolicy
    present: bool
    users: tuple[str, ...]  # "pod/container" that use it

    @property
    def pull(self) -> bool:
        """Whether the policy asks for a pull. A digest names content that never changes: once
        present it is never pulled again, whatever the policy."""
        if self.present and "@" in self.reference:
            return False
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


def pull_secret_credentials(desired: DesiredState) -> dict[str, dict[str, RegistryCredential]]:
    """Image reference -> registry -> credential, from the imagePullSecrets of the pods that use the
    image (the loader checked that each names a dockerconfigjson Secret in the manifests). Where
    two pods' Secrets hold credentials for the same registry, the first Secret by name wins."""
    from podspec.secrets import credentials_from_auth_json

    by_secret: dict[str, dict[str, RegistryCredential]] = {}
    for secret in desired.secrets:
        if secret.type == "kubernetes.io/dockerconfigjson":
            text = dict(secret.data).get(".dockerconfigjson", b"").decode(errors="replace")
            try:
                by_secret[secret.name] = credentials_from_auth_json(text, f"Secret {secret.name}")
            except ValueError:
                continue  # reported by the loader
    found: dict[str, dict[str, RegistryCredential]] = {}
    for pod in desired.pods:
        used = [c.image for c in pod.all_containers()]
        used += [v.image for v in pod.volumes if v.kind is VolumeKind.IMAGE]
        used += [image for c in pod.all_containers() for image in image_mount_images(pod, c.name)]
        for name in sorted(pod.image_pull_secrets):
            for image in used:
                for registry, credential in by_secret.get(name, {}).items():
                    found.setdefault(image, {}).setdefault(registry, credential)
    return found


class FailureKind(str, Enum):
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not found"
    UNREACHABLE = "unreachable"
    TLS = "TLS failure"
    NO_SPACE = "out of disk"
    BLOCKED = "blocked"
    OTHER = "failed"


@dataclass(frozen=True)
class PullFailure:
    """Why a pull failed, in words a person acts on: the kind, the cause and how to fix it."""

    reference: str
    kind: FailureKind
    cause: str
    hint: str
    podman_says: str  # Podman's own words, kept for the message's end


# (kind, words any of which in Podman's message (lower case) mean it), first match wins
_FAILURE_WORDS = (
    (FailureKind.NO_SPACE, ("no space left on device", "disk quota exceeded")),
    (FailureKind.TLS, ("x509:", "tls:", "certificate", "server gave http response to https client")),
    (FailureKind.UNAUTHORIZED, ("unauthorized", "authentication required", "denied")),
    (FailureKind.NOT_FOUND, ("manifest unknown", "name unknown", "not found", "repository name not known")),
    (FailureKind.BLOCKED, ("blocked",)),
    (FailureKind.UNREACHABLE, ("connection refused", "no such host", "i/o timeout", "network is unreachable",
                               "no route to host", "connection reset", "dial tcp", "timeout")),
)


def classify(reference: str, message: str, registry: str, credentials_from: str = "") -> PullFailure:
    """Name a failed pull's cause from Podman's message (the registry's answer, as Podman words
    it on 4.3 and 5). `credentials_from` says where the credentials sent came from ("" for none)."""
    text = message.lower()
    kind = next((k for k, words in _FAILURE_WORDS if any(w in text for w in words)), FailureKind.OTHER)
    name = reference.split("@", 1)[0]
    cause, hint = {
        FailureKind.UNAUTHORIZED: (
            f"{registry} refused the credentials from {credentials_from}" if credentials_from else
            f"{registry} asks for credentials and none were given",
            "check the user name and password, e.g. with podman login" if credentials_from else
            "name a kubernetes.io/dockerconfigjson Secret in imagePullSecrets, or give an auth file "
            f"(--authfile FILE or REGISTRY_AUTH_FILE; podman login --authfile FILE {registry} writes one)",
        ),
        FailureKind.NOT_FOUND: (
            f"{registry} has no repository {_repository(name, registry)!r}" if _repository_unknown(text) else
            f"{registry} has no {name[len(registry) + 1:] if name.startswith(registry + '/') else name} "
            "(no such repository, or no such tag in it)" + (" or the credentials may not see it" if credentials_from else ""),
            "check the repository name and the tag (or digest) in the manifest",
        ),
        FailureKind.UNREACHABLE: (
            f"cannot reach the registry {registry}",
            "check the registry's address and port, that it runs, and the network (proxy, DNS, firewall)",
        ),
        FailureKind.TLS: (
            f"the TLS connection to {registry} failed (its certificate is not trusted, or it does not speak TLS)",
            f"give Podman the registry's CA certificate (/etc/containers/certs.d/{registry}/ca.crt); only for a "
            f"registry you trust on a private network, mark it insecure in registries.conf",
        ),
        FailureKind.NO_SPACE: (
            "the host ran out of disk space while storing the image",
            "free space where Podman keeps images (podman system df; podman image prune)",
        ),
        FailureKind.BLOCKED: (
            f"the registry {registry} is blocked in Podman's registries.conf",
            "use another registry, or unblock it in registries.conf",
        ),
        FailureKind.OTHER: ("the pull failed", "check the image name and the registry"),
    }[kind]
    return PullFailure(reference, kind, cause, hint, _podman_words(message, reference))


def repository_of(reference: str) -> str:
    """`127.0.0.1:5000/app:1` -> `127.0.0.1:5000/app` (what the registry's tag list is asked for)."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


def refine_not_found(failure: PullFailure, registry: str, tags: tuple[str, ...] | None) -> PullFailure:
    """A `not found` made precise by the registry's tag list: `tags` None when the registry does not
    know the repository, else the tags it holds."""
    from dataclasses import replace

    repository = repository_of(failure.reference)
    short = repository[len(registry) + 1:] if repository.startswith(registry + "/") else repository
    if tags is None:
        return replace(failure, cause=f"{registry} has no repository {short}",
                       hint="check the repository name in the manifest (and the registry's address)")
    wanted = failure.reference[len(repository) + 1:]
    shown = ", ".join(tags[:10]) + (f" and {len(tags) - 10} more" if len(tags) > 10 else "")
    what = f"digest {wanted}" if "@" in failure.reference else f"tag {wanted}"
    return replace(failure, cause=f"{registry} has repository {short} but no {what} in it",
                   hint=f"use one of its tags ({shown or 'none'}) or push the missing one")


def _repository(name: str, registry: str) -> str:
    return name[len(registry) + 1:] if name.startswith(registry + "/") else name.rsplit(":", 1)[0]


def _repository_unknown(text: str) -> bool:
    return "name unknown" in text or "repository name not known" in text


def _podman_words(message: str, reference: str) -> str:
    """Podman's message without the repeated `cannot pull REF: initializing source docker://REF: `."""
    for prefix in (f"cannot pull {reference}: ", f"initializing source docker://{reference}: "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message


def failures_error(stopping: list[tuple[ImageNeed, PullFailure]]) -> ImageUnavailable:
    """One error for every image that is absent and could not be pulled (all pulls have run)."""
    lines = [
        f"image {need.reference} (used by {', '.join(need.users)}) is not on the host and cannot be pulled: "
        f"{failure.kind.value}: {failure.cause} ({failure.podman_says})"
        for need, failure in stopping
    ]
    hints = []
    for need, failure in stopping:
        for hint in (failure.hint, _probe_hint(need)):
            if hint and hint not in hints:
                hints.append(hint)
    return ImageUnavailable("\n".join(lines), "; ".join(hints) + "; nothing was changed")


def _probe_hint(need: ImageNeed) -> str:
    if not any(user.startswith(PROBE_HELPER) for user in need.users):
        return ""
    return ("httpGet and tcpSocket probes run from a helper container of this image (busybox's wget, nc and "
            "timeout): make it pullable, load it (podman load), or set PODSPEC_PROBE_IMAGE to such an image "
            "the host has or can pull")


PROBE_HELPER = "the probe helper of "  # how the probe helper's image names its users


def _outside_probes(container: Container) -> list[str]:
    """The kinds of the container's probes that the probe helper runs from outside (httpGet, tcpSocket)."""
    found = probes_of(container)
    if not found:
        return []
    from podspec.model import ProbeHandler  # (model.EXTRA: only for containers with probes)

    return [kind.value for kind, probe in found if probe.handler is not ProbeHandler.EXEC]


def needs(desired: DesiredState, observed: ObservedState, probe_image: str = "") -> tuple[ImageNeed, ...]:
    """The images the manifests need, each with the strongest pull policy asked for it and who uses
    it. `probe_image`: the probe helper's image (references.probe_helper_image), needed as the pods'
    own images are (imagePullPolicy IfNotPresent) when a container has an httpGet or tcpSocket probe:
    those probes are made from a helper container (engine/probes.py); "" leaves it out."""
    return tuple(
        ImageNeed(ref, policy, observed.image_id(ref) is not None, tuple(sorted(users)))
        for ref, (policy, users) in sorted(_needed(desired, probe_image).items())
    )


def references(desired: DesiredState, probe_image: str = "") -> frozenset[str]:
    """Every image reference a diff of `desired` looks up on the host (needs() names them all: the
    containers', the image volumes', the hostPath helper's, the image mounts', the probe helper's):
    the images a diff reads (Engine.observe(images=...))."""
    return frozenset(_needed(desired, probe_image))


def _needed(desired: DesiredState, probe_image: str) -> dict[str, tuple[PullPolicy, list[str]]]:
    """Each image reference needed -> the strongest pull policy asked for it, and who uses it."""
    by_ref: dict[str, tuple[PullPolicy, list[str]]] = {}
    strength = {PullPolicy.NEVER: 0, PullPolicy.IF_NOT_PRESENT: 1, PullPolicy.ALWAYS: 2}

    def need(image: str, wanted: PullPolicy, user: str) -> None:
        policy, users = by_ref.get(image, (wanted, []))
        if strength[wanted] > strength[policy]:
            policy = wanted
        users.append(user)
        by_ref[image] = (policy, users)

    mounting = desired.uses_image_mounts
    for pod in desired.pods:
        for c in pod.all_containers():
            # io.containers.autoupdate: registry is pulled as imagePullPolicy: Always is
            need(c.image, PullPolicy.ALWAYS if c.auto_update is AutoUpdate.REGISTRY else c.pull_policy, f"{pod.name}/{c.name}")
        for v in pod.volumes:
            if v.kind is VolumeKind.IMAGE:  # an image volume's image is pulled as a container's is
                need(v.image, pull_policy_or_default(v.image_pull_policy, v.image), f"{pod.name}/volume {v.name}")
            if v.kind is VolumeKind.HOST_PATH and v.host_path_type in HOST_PATH_CREATE_TYPES:
                need(HOST_PATH_HELPER_IMAGE, PullPolicy.IF_NOT_PRESENT, f"{pod.name}/volume {v.name} (makes its hostPath)")
        for c in pod.all_containers() if mounting else ():
            # io.podman.annotations.kube.image.volumes.mount: pulled when absent, as an image volume's
            for image in image_mount_images(pod, c.name):
                need(image, PullPolicy.IF_NOT_PRESENT, f"{pod.name}/{c.name} (image volumes mount annotation)")
        for c in pod.all_containers():
            kinds = _outside_probes(c)
            if probe_image and kinds:
                need(probe_image, PullPolicy.IF_NOT_PRESENT, f"{PROBE_HELPER}{pod.name}/{c.name} ({', '.join(kinds)} probe)")
    return by_ref


def missing_error(need: ImageNeed, reason: str) -> ImageUnavailable:
    return ImageUnavailable(
        f"image {need.reference} (used by {', '.join(need.users)}) is not on the host"
        + (f" and cannot be pulled: {reason}" if reason else f" and imagePullPolicy is {need.policy.value}"),
        "load or build it (podman load / podman build), fix the image name, or let podspec pull it"
        + (f"; {_probe_hint(need)}" if _probe_hint(need) else "") + "; nothing was changed",
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
        IMAGE_MOUNTS,
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
            listed = image_mount_images(pod, c.name)
            if listed and (problem := needs_newer(IMAGE_MOUNTS)):
                found.append(f"{pod.name}/{c.name}: annotation {IMAGE_MOUNTS_ANNOTATION}/{c.name} ({', '.join(listed)}): "
                             f"{problem}; copy those files into a named volume (a persistentVolumeClaim) and mount "
                             "it, or use Podman 5.1 or newer")
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
            or any(not p.host_users for p in desired.pods) or desired.uses_image_mounts)


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
