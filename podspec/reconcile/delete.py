"""What `podspec delete` removes (pure): the manifests' pods that podspec created for this project,
their emptyDir volumes, the project's Podman secrets (ConfigMap and Secret keys) that no container
left on the host reads, and, only when asked, the named volumes podspec created and no other pod
of the project still mounts. Everything else is left alone, and said so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podspec import labels as L
from podspec.model import DesiredState
from podspec.names import copy_names, is_history_name, owns_secret
from podspec.observed import ObservedState
from podspec.plan import Plan, Step, StepKind
from podspec.reconcile.pod_diff import observed_grace
from podspec.reconcile.secret_diff import secrets_in_use
from podspec.reconcile.volume_diff import volume_users


@dataclass(frozen=True)
class Deletion:
    plan: Plan
    skipped: tuple[str, ...]  # what was left alone, and why


def plan(desired: DesiredState, observed: ObservedState, project: str, volumes: bool, origin: str = "",
         force_conflicts: bool = False) -> Deletion:
    """`origin`: the manifests' source; what another source applied is left alone unless
    `force_conflicts` (what an older podspec made, with no source recorded, is removed: the
    manifests name it)."""
    skipped: list[str] = []

    def other(labels: dict[str, str] | Any) -> str:
        theirs = L.origin_of(labels)
        return theirs if origin and not force_conflicts and theirs and theirs != origin else ""

    steps: list[Step] = []
    removed: set[str] = set()
    # A Deployment's copy under either of its Podman names (names.py; both after an interrupted rollout).
    for name in [n for p in desired.pods for n in copy_names(p.name, p.workload)] + [a.name for a in desired.absent_pods]:
        pod = observed.pod(name)
        if pod is None:
            continue
        if not pod.managed or pod.project != project:
            skipped.append(f"pod {name}: not created by podspec for project {project!r}; left alone")
            continue
        if other(pod.labels):
            skipped.append(f"pod {name}: applied from another source, {other(pod.labels)}; left alone (--force-conflicts removes it)")
            continue
        removed.add(name)
        timeout = observed_grace(observed, pod)
        steps.append(Step(StepKind.STOP_POD, name, "podspec delete", timeout=timeout, lane=name))
        steps.append(Step(StepKind.REMOVE_POD, name, "podspec delete", lane=name))
    steps += _network_steps(observed, project, removed)
    for scratch in observed.volumes:
        owner = scratch.labels.get(L.EMPTY_DIR)
        if owner in removed and L.project_of(scratch.labels) == project:
            steps.append(Step(StepKind.REMOVE_VOLUME, scratch.name, f"emptyDir of pod {owner}"))
    leaving = {c.name for c in observed.containers if c.pod_name in removed}
    used = secrets_in_use(observed, project, leaving)
    for secret in observed.secrets:
        if secret.name in used or is_history_name(secret.name):  # the apply history outlives a delete
            continue
        if owns_secret(project, secret.name, dict(secret.labels), secret.labels_listed):
            steps.append(Step(StepKind.REMOVE_SECRET, secret.name, "podspec delete: no container left reads it"))
    if volumes:
        _volumes(desired, observed, project, removed, other, steps, skipped)
    return Deletion(Plan(project=project, steps=tuple(steps)), tuple(skipped))


def _volumes(desired: DesiredState, observed: ObservedState, project: str, removed: set[str],
             other: Callable[[Any], str], steps: list[Step], skipped: list[str]) -> None:
    """delete --volumes: the manifests' named volumes this project made and no pod left mounts."""
    still_used = {
        volume: sorted(f"{pod} (project {owner})" if owner != project else pod
                       for owner, pod in users if not (owner == project and pod in removed))
        for volume, users in volume_users(observed).items()
    }
    for name in desired.volume_names():
        volume = observed.volume(name)
        if volume is None:
            continue
        if not volume.managed or L.project_of(volume.labels) != project:
            skipped.append(f"volume {name}: not created by podspec for project {project!r}; left alone")
        elif other(volume.labels):
            skipped.append(f"volume {name}: made from another source, {other(volume.labels)}; left alone "
                           "(--force-conflicts removes it)")
        elif still_used.get(name):
            skipped.append(f"volume {name}: still mounted by pod {', '.join(still_used[name])}; kept")
        else:
            steps.append(Step(StepKind.REMOVE_VOLUME, name, "podspec delete --volumes"))


def _network_steps(observed: ObservedState, project: str, removed: set[str]) -> list[Step]:
    """The project network and its names record go when no pod of the project is left on the host."""
    from podspec.reconcile.network import names_volume, network_name

    staying = [p for p in observed.pods if p.managed and p.project == project and p.name not in removed]
    if staying:
        return []
    steps = []
    record = observed.volume(names_volume(project))
    if record is not None and L.project_of(record.labels) == project:
        steps.append(Step(StepKind.REMOVE_VOLUME, record.name, "podspec delete: the project's names record"))
    network = observed.network(network_name(project))
    if network is not None and L.project_of(network.labels) == project:
        steps.append(Step(StepKind.REMOVE_NETWORK, network.name, "podspec delete: no pod of the project is left"))
    return steps
