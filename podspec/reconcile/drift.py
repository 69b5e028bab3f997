"""Drift: the host no longer looks like what podspec applied. One home for the rules that `diff`
(what apply repairs) and `status` (what it reports) share, so the two never disagree."""

from __future__ import annotations

from podspec.model import RestartPolicy
from podspec.observed import ContainerState, ObservedContainer, PodStatus
from podspec.reconcile.intent import SpecDict


def should_start(state: ContainerState, exit_code: int, restart_policy: str) -> bool:
    """Whether a container of a running pod that is not running should be started by podspec.

    A container never started (`created`) always should. An exited one follows its pod's
    restartPolicy, as the kubelet would: Always -> yes; OnFailure -> only after a failure (exit code
    not 0); Never -> no (a finished container is not drift).
    """
    if state is ContainerState.CREATED:
        return True
    if state not in (ContainerState.EXITED, ContainerState.STOPPED):
        return False
    if restart_policy == RestartPolicy.ALWAYS.value:
        return True
    if restart_policy == RestartPolicy.ON_FAILURE.value:
        return exit_code != 0
    return False


def ports_drift(infra: ObservedContainer | None, pod_spec: SpecDict) -> tuple[list[str], list[str]] | None:
    """(published, wanted) when the pod's infra container publishes other ports than its spec (a
    pod intent, desired or last applied) asks for; None when they agree. With the host's network
    nothing is published: the container ports are the host's already."""
    if infra is None or pod_spec.get("hostNetwork"):
        return None
    published, wanted = sorted(infra.ports), list(pod_spec.get("ports", []))
    return None if published == wanted else (published, wanted)


def init_container_expected(init_type: str, pod_status: PodStatus) -> bool:
    """Whether an init container must be on the host: an `always` one always; a `once` one until the
    pod first started (Podman removes it after its run; a pod left in `created`, e.g. by a killed
    apply, has not run)."""
    return init_type == "always" or pod_status is PodStatus.CREATED


RUNNING_POD = (PodStatus.RUNNING, PodStatus.DEGRADED)
