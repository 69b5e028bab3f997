"""Images before planning: pull what the pull policies ask for, and check before any change that every
image can be had, that this Podman can do what the manifests ask, and that runAsNonRoot can hold.

The decisions are pure (reconcile/pulls.py); this module only makes the engine calls they ask for.
Pulls run side by side (at most `parallel` at once), each reporting its progress to the listener;
when all have ended, an image that is absent and could not be pulled stops the apply before any
change, with the cause of every such failure. diff and apply --dry-run run the same checks without
pulling.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Mapping

from podspec.engine.protocol import Engine
from podspec.errors import EngineError, PodspecError, Refusal
from podspec.model import DesiredState
from podspec.observed import ObservedState, PullProgress
from podspec.reconcile import pulls
from podspec.reconcile.pulls import ImageNeed, PullAction, PullFailure
from podspec.references import registry_of
from podspec.run.listener import Listener
from podspec.secrets import credential_for

if TYPE_CHECKING:
    from podspec.secrets import RegistryCredential

PULLS_AT_ONCE = 3


def prepare(engine: Engine, desired: DesiredState, observed: ObservedState, listener: Listener,
            pulling: bool, refresh: bool = True, credentials: Mapping[str, RegistryCredential] | None = None,
            parallel: int = PULLS_AT_ONCE, probe_image: str = "") -> ObservedState:
    """The observed state to plan against (images read again after pulls); raises before any change.
    `refresh` False (apply --plan): images already here are used as they are, even `Always` ones.
    `probe_image`: the probe helper's image, pulled like the pods' own when a probe needs it.
    What this Podman cannot do is refused first, before any pull."""
    _check_version(engine, desired)
    wanted = []
    for need in pulls.needs(desired, observed, probe_image):
        action = pulls.decide(need, pulling and (refresh or not need.present))
        if action is PullAction.MISSING:
            raise pulls.missing_error(need, "")
        if action is PullAction.ANNOUNCE:
            listener.warning(f"image {need.reference} is not on the host; apply will pull it")
        if action is PullAction.PULL:
            wanted.append(need)
    if wanted:
        # A pod's imagePullSecrets win over the auth file for the registries they name.
        from_secrets = pulls.pull_secret_credentials(desired)
        chosen = {need.reference: {**(credentials or {}), **from_secrets.get(need.reference, {})} for need in wanted}
        failures = pull_all(engine, wanted, listener, chosen, parallel, observed)
        stopping = []
        for need, failure in failures:
            if pulls.failed_pull(need, failure.cause) is None:
                listener.warning(f"using the local {need.reference}: the pull failed: {failure.kind.value}: "
                                 f"{failure.cause} ({failure.podman_says})")
            else:
                stopping.append((need, failure))
        if stopping:
            raise pulls.failures_error(stopping)
        observed = replace(observed, images=engine.images())
    _check(engine, desired, observed)
    return _with_image_volumes(engine, desired, observed)


def _with_image_volumes(engine: Engine, desired: DesiredState, observed: ObservedState) -> ObservedState:
    """The VOLUME paths of the images an image-volumes-mount annotation names (one image inspect
    each, of those on the host; none when no pod carries the annotation): what
    reconcile/imagemounts.py mounts."""
    if not desired.uses_image_mounts:
        return observed
    from podspec.reconcile import imagemounts

    found = []
    for image in imagemounts.images(desired):
        if observed.image_id(image) is not None:
            found.append((image, imagemounts.volume_paths(engine.inspect_image(image))))
    return replace(observed, image_volumes=tuple(found))


def pull_all(engine: Engine, wanted: list[ImageNeed], listener: Listener,
             credentials: Mapping[str, Mapping[str, RegistryCredential]], parallel: int,
             observed: ObservedState) -> list[tuple[ImageNeed, PullFailure]]:
    """Pull every image in `wanted`, at most `parallel` at once, each with the credential for its
    registry among `credentials[reference]`; the failures, in `wanted`'s order."""
    from podspec.run.results import PullEvent, PullStatus  # (only when pulling: a no-op diff defines neither)

    lock = threading.Lock()  # the listener hears one event at a time

    def tell(event: PullEvent) -> None:
        with lock:
            listener.pull(event)

    def one(need: ImageNeed) -> PullFailure | None:
        credential = credential_for(need.reference, dict(credentials.get(need.reference, {})))
        tell(PullEvent(need.reference, PullStatus.STARTED, need.policy.value))
        started = time.monotonic()
        last: list[PullProgress] = []

        def progress(seen: PullProgress) -> None:
            if not last or seen != last[0]:
                last[:] = [seen]
                tell(PullEvent(need.reference, PullStatus.PROGRESS, need.policy.value, progress=seen))

        try:
            pulled = engine.pull(need.reference, credential, progress)
        except PodspecError as error:
            failure = pulls.classify(need.reference, error.message, registry_of(need.reference),
                                     credential.source if credential else "")
            if failure.kind is pulls.FailureKind.NOT_FOUND:
                failure = _which_not_found(engine, failure, credential)
            tell(PullEvent(need.reference, PullStatus.FAILED, need.policy.value, seconds=time.monotonic() - started,
                           error=f"{failure.kind.value}: {failure.cause}"))
            return failure
        tell(PullEvent(need.reference, PullStatus.DONE, need.policy.value, progress=last[0] if last else None,
                       image_id=pulled.id, size=pulled.size, layers=pulled.layers,
                       seconds=time.monotonic() - started,
                       changed=pulled.id != observed.image_id(need.reference)))
        return None

    from concurrent.futures import ThreadPoolExecutor  # only when pulling (it imports logging: ~3 ms of start-up)

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(wanted)))) as pool:
        results = list(pool.map(one, wanted))
    return [(need, failure) for need, failure in zip(wanted, results, strict=True) if failure is not None]


def _which_not_found(engine: Engine, failure: PullFailure, credential: RegistryCredential | None) -> PullFailure:
    """No such repository, or no such tag: the registry answers both alike to a pull; its tag list
    (one more call, only after a failure) tells them apart."""
    registry = registry_of(failure.reference)
    try:
        tags: tuple[str, ...] | None = engine.list_tags(pulls.repository_of(failure.reference), credential)
    except PodspecError as error:
        # Podman 4.3 says "invalid status code from registry 404 (Not Found)", 5.4 "repository name
        # not known to registry" (checked against both): NOT_FOUND (engine/parse.refusal)
        if not isinstance(error, EngineError) or error.reason is not Refusal.NOT_FOUND:
            return failure  # the registry cannot say (no search API, ...): keep the pull's words
        tags = None
    return pulls.refine_not_found(failure, registry, tags)


def _check_version(engine: Engine, desired: DesiredState) -> None:
    if pulls.needs_version_check(desired):
        refused = pulls.unsupported(desired, engine.version())
        if refused:
            raise pulls.unsupported_error(refused)


def _check(engine: Engine, desired: DesiredState, observed: ObservedState) -> None:
    problems = []
    for image, users in pulls.needs_user_check(desired).items():
        if observed.image_id(image) is None:
            continue  # not here yet (dry run): checked when apply has pulled it
        user = str((engine.inspect_image(image).get("Config") or {}).get("User") or "")
        problem = pulls.non_root_problem(image, user, users)
        if problem:
            problems.append(problem)
    if problems:
        raise pulls.non_root_error(problems)
