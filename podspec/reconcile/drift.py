"""Drift: the host no longer looks like what podspec applied. One home for the rules that `diff`
(what apply repairs) and `status` (what it reports) share, so the two never disagree: when a
container should be started, published ports, when an init container must be there, and the loop
over a pod's containers (containers())."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from podspec import labels as L
from podspec.labels import Role
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


class Finding(Enum):
    MISSING = "missing"  # promised, not on the host (an init container: only while one is expected)
    BY_HAND = "by hand"  # on the host, in the pod, not made by podspec
    NOT_RUNNING = "not running"  # made by podspec, not an init container, its pod runs, and its restart policy starts it


@dataclass(frozen=True)
class Promise:
    """A container a pod should have: Podman's name for it, whether it is an init container, and
    its restart policy (None: the one its own last-applied label records)."""

    name: str
    init: bool = False
    restart_policy: str | None = None


@dataclass(frozen=True)
class ContainerDrift:
    """How one container on the host differs from what its pod promised."""

    name: str
    finding: Finding
    found: ObservedContainer | None = None  # None when missing


def containers(pod_status: PodStatus, present: Sequence[ObservedContainer], promised: Sequence[Promise],
               init_type: str) -> tuple[ContainerDrift, ...]:
    """How a pod's containers differ from what was promised (the desired intent for diff, the pod's
    labels for status), in this order: each container on the host that was made by hand or is not
    running, then each promised container that is missing. (A container on the host that is not
    promised is the caller's to judge: diff removes it, status does not report it.)"""
    by_name = {p.name: p for p in promised}
    running = pod_status in RUNNING_POD
    found: list[ContainerDrift] = []
    for c in present:
        if not c.managed:
            found.append(ContainerDrift(c.name, Finding.BY_HAND, c))
            continue
        promise = by_name.get(c.name)
        if running and c.labels.get(L.ROLE) != Role.INIT.value:
            policy = promise.restart_policy if promise is not None else None
            if policy is None:
                policy = (L.last_applied(c.labels) or {}).get("restartPolicy", RestartPolicy.ALWAYS.value)
            if should_start(c.state, c.exit_code, policy):
                found.append(ContainerDrift(c.name, Finding.NOT_RUNNING, c))
    names = {c.name for c in present}
    for p in promised:
        if p.name not in names and (not p.init or init_container_expected(init_type, pod_status)):
            found.append(ContainerDrift(p.name, Finding.MISSING))
    return tuple(found)
