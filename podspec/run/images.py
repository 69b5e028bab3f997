"""Images before planning: pull what the pull policies ask for, and check before any change that every
image can be had, that this Podman can do what the manifests ask, and that runAsNonRoot can hold.

The decisions are pure (reconcile/pulls.py); this module only makes the engine calls they ask for.
diff and apply --dry-run run the same checks without pulling.
"""

from __future__ import annotations

from dataclasses import replace

from podspec.engine.protocol import Engine
from podspec.errors import PodspecError
from podspec.model import DesiredState
from podspec.observed import ObservedState
from podspec.reconcile import pulls
from podspec.reconcile.pulls import PullAction
from podspec.run.listener import Listener


def prepare(engine: Engine, desired: DesiredState, observed: ObservedState, listener: Listener,
            pulling: bool, refresh: bool = True) -> ObservedState:
    """The observed state to plan against (images read again after pulls); raises before any change.
    `refresh` False (apply --plan): images already here are used as they are, even `Always` ones."""
    pulled = False
    for need in pulls.needs(desired, observed):
        action = pulls.decide(need, pulling and (refresh or not need.present))
        if action is PullAction.MISSING:
            raise pulls.missing_error(need, "")
        if action is PullAction.ANNOUNCE:
            listener.warning(f"image {need.reference} is not on the host; apply will pull it")
        if action is not PullAction.PULL:
            continue
        listener.info(f"pull {need.reference} (imagePullPolicy {need.policy.value})")
        try:
            engine.pull(need.reference)
            pulled = True
        except PodspecError as error:
            stop = pulls.failed_pull(need, error.message)
            if stop is not None:
                raise stop from None
            listener.warning(f"using the local {need.reference}: {error.message}")
    if pulled:
        observed = replace(observed, images=engine.images())
    if pulls.needs_version_check(desired):
        refused = pulls.unsupported(desired, engine.version())
        if refused:
            raise pulls.unsupported_error(refused)
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
    return observed
