"""Rollouts of a Deployment's copies (pure): the plan cut into phases, one batch of copies each.

A Deployment's replicas run on one host as copies (`<name>-pod`, `<name>-pod-1`, ...; loader/
workloads.py). Applied in one go, a change would take every copy down at once. Kubernetes replaces
them a few at a time, each new one ready before the next old one goes; so does podspec: the copies a
plan changes are taken `Rollout.batch` at a time (maxUnavailable, at least 1; all of them for
strategy Recreate), in copy order, and the run layer waits for each batch to be ready (within
progressDeadlineSeconds) before it touches the next. A batch that does not become ready stops the
rollout there: the copies not yet touched keep running the previous version (and
`--rollback-on-failure` puts back those already changed).

Surge (a new copy started beside the old one before it stops) needs a second name per copy; one host
keeps the copies' names, so a copy is replaced in place (its containers recreated: the pod, its
address and the other copies stay) and maxSurge is not used.

Steps of other pods, and the shared steps that make things (volumes, Podman secrets), run in the
first phase; the shared steps that remove things (old secret values, emptyDir volumes) in the last,
once every copy that read them is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from podspec.model import DesiredState, Pod
from podspec.plan import Plan, Step, StepKind
from podspec.reconcile.network import NAMES_PREFIX


@dataclass(frozen=True)
class Phase:
    plan: Plan
    gate: tuple[Pod, ...] = ()  # pods that must be ready before the next phase starts
    deadline: int = 0  # seconds the gate may take (progressDeadlineSeconds)
    workloads: tuple[str, ...] = ()  # "Deployment web": whose copies this phase replaces


def pod_of(step: Step) -> str:
    if step.lane:
        return step.lane
    if step.pod_name:
        return step.pod_name
    return step.target if step.kind in (StepKind.STOP_POD, StepKind.REMOVE_POD) else ""


def copy_index(pod: Pod) -> int:
    """`web-pod` -> 0, `web-pod-3` -> 3 (the copies' order)."""
    base = f"{pod.workload.split(' ', 1)[-1]}-pod"
    tail = pod.name.removeprefix(base).removeprefix("-")
    return int(tail) if tail.isdigit() else 0


def phases(plan: Plan, desired: DesiredState) -> tuple[Phase, ...]:
    """The plan in phases; one phase (the plan as it is) when no Deployment has more than one batch
    of copies to change."""
    touched = {pod_of(s) for s in plan.steps} - {""}
    groups: dict[str, list[Pod]] = {}
    for pod in desired.pods:
        if pod.rollout is not None and pod.name in touched:
            groups.setdefault(pod.workload, []).append(pod)
    batches: dict[str, list[tuple[Pod, ...]]] = {}
    for workload, pods in sorted(groups.items()):
        pods.sort(key=copy_index)
        size = max(1, pods[0].rollout.batch if pods[0].rollout else 1)
        batches[workload] = [tuple(pods[i:i + size]) for i in range(0, len(pods), size)]
    count = max((len(b) for b in batches.values()), default=1)
    if count <= 1:
        return (Phase(plan),)
    phase_of = {pod.name: i for group in batches.values() for i, batch in enumerate(group) for pod in batch}
    buckets: list[list[Step]] = [[] for _ in range(count)]
    for step in plan.steps:
        name = pod_of(step)
        if name in phase_of:
            buckets[phase_of[name]].append(step)
        elif not name and step.target.startswith(NAMES_PREFIX):
            # The project's names record (reconcile/network.py): removed before any pod's names
            # change, written again after the last change.
            (buckets[0] if step.kind is StepKind.REMOVE_VOLUME else buckets[-1]).append(step)
        elif not name and step.kind in (StepKind.REMOVE_SECRET, StepKind.REMOVE_VOLUME):
            buckets[-1].append(step)
        else:
            buckets[0].append(step)
    out = []
    for i, steps in enumerate(buckets):
        gate = tuple(pod for group in batches.values() if i < len(group) for pod in group[i])
        workloads = tuple(sorted({p.workload for p in gate}))
        deadline = min((p.rollout.deadline for p in gate if p.rollout is not None), default=0)
        out.append(Phase(Plan(plan.project, tuple(steps)), gate if i < count - 1 else (), deadline, workloads))
    return tuple(out)
