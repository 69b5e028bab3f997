"""Rollouts of a Deployment's copies (pure): the plan cut into phases, one batch of copies each.

A Deployment's replicas run on one host as copies (`web-pod`, `web-pod-1`, ...; loader/workloads.py),
each under one of its two Podman names (names.py). Applied in one go, a change would take every copy
down at once. Kubernetes replaces them a few at a time, each new one ready before the next old one
goes; so does podspec: the copies a plan changes are taken a batch at a time, in copy order, and the
run layer waits for each batch to be ready (within progressDeadlineSeconds) before it touches the
next. A batch is maxSurge copies whose new version starts under the copy's other name beside the old
one (copies.py chooses them), plus maxUnavailable copies changed in place (their containers
recreated: the pod, its address and the other copies stay); without surge, maxUnavailable (at least
1) in place; strategy Recreate: all of them. The old copies of a batch's surges are removed once the
batch is ready, before the next batch starts: at most replicas + maxSurge copies run at any time, and
no copy stops before its new version is ready. A batch that does not become ready stops the rollout
there: the copies not yet touched keep running the previous version, the surged ones keep their old
copy (and `--rollback-on-failure` puts back those already changed, and removes the new ones).

Steps of other pods, and the shared steps that make things (volumes, Podman secrets), run in the
first phase; the shared steps that remove things (old secret values, emptyDir volumes) in the last,
once every copy that read them is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from podspec import names
from podspec.model import DesiredState, Pod, Rollout
from podspec.names import NAMES_PREFIX
from podspec.plan import Plan, Step, StepKind


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
    """`web-pod` -> 0, `web-pod-3` -> 3, `web-pod-3-b` -> 3 (the copies' order)."""
    return max(0, names.copy_index(pod.name, pod.workload))


def batch_size(rollout: Rollout) -> int:
    """Copies per batch: maxSurge + maxUnavailable, or maxUnavailable (at least 1) without surge."""
    return rollout.surge + rollout.batch if rollout.surge else max(1, rollout.batch)


def phases(plan: Plan, desired: DesiredState) -> tuple[Phase, ...]:
    """The plan in phases; one phase (the plan as it is) when no Deployment has more than one batch
    of copies to change and no copy surges."""
    batches, replaced_by = _batches(plan, desired)
    count = max((len(b) for b in batches.values()), default=1)
    if count <= 1 and not replaced_by:
        return (Phase(plan),)
    phase_of = {pod.name: i for group in batches.values() for i, batch in enumerate(group) for pod in batch}
    # Buckets: removals of the old copies the batch before surged (no gate), then the batch (gated).
    # (removals[0] stays empty: nothing is removed before the first batch but what the plan orders.)
    removals: list[list[Step]] = [[] for _ in range(count + 1)]
    changes: list[list[Step]] = [[] for _ in range(count)]
    for i, step in enumerate(plan.steps):
        name = pod_of(step)
        if name in phase_of:
            changes[phase_of[name]].append(step)
        elif name in replaced_by:
            removals[phase_of[replaced_by[name]] + 1].append(step)
        elif not name and step.target.startswith(NAMES_PREFIX):
            # The project's names record (reconcile/network.py): removed before any pod's names
            # change, written again after the last change; or, when it holds true meanwhile, replaced
            # after the last change (removed right before it is written again).
            replaced = i + 1 < len(plan.steps) and plan.steps[i + 1].target == step.target
            first = step.kind is StepKind.REMOVE_VOLUME and not replaced
            (changes[0] if first else removals[-1]).append(step)
        elif not name and step.kind in (StepKind.REMOVE_SECRET, StepKind.REMOVE_VOLUME):
            removals[-1].append(step)
        else:  # with the first batch, side by side (a pod's init container may wait for a copy's name)
            changes[0].append(step)
    surged_last = any(replaced_by[old] in {p.name for p in _batch(batches, count - 1)} for old in replaced_by)
    if not surged_last:  # the last batch is not waited for (--wait does): what follows it joins it
        changes[-1] += removals[-1]
        removals[-1] = []
    out = []
    for i in range(count):
        if removals[i]:
            out.append(Phase(Plan(plan.project, tuple(removals[i]))))
        gate = _batch(batches, i) if i < count - 1 or surged_last else ()
        workloads = tuple(sorted({p.workload for p in _batch(batches, i)}))
        deadline = min((p.rollout.deadline for p in gate if p.rollout is not None), default=0)
        out.append(Phase(Plan(plan.project, tuple(changes[i])), gate, deadline, workloads))
    if removals[-1]:
        out.append(Phase(Plan(plan.project, tuple(removals[-1]))))
    return tuple(out)


def in_phase_order(plan: Plan, desired: DesiredState) -> Plan:
    """The plan's steps in the order the phases run them (what `--dry-run` and the progress show)."""
    parts = phases(plan, desired)
    return plan if len(parts) == 1 else Plan(plan.project, tuple(s for part in parts for s in part.plan.steps))


def _batches(plan: Plan, desired: DesiredState) -> tuple[dict[str, list[tuple[Pod, ...]]], dict[str, str]]:
    """Each Deployment's copies that the plan touches, in batches; and the old copies it removes
    once their new version (under the other name) is ready: old -> new."""
    touched = {pod_of(s) for s in plan.steps} - {""}
    removing = {s.target for s in plan.steps if s.kind is StepKind.REMOVE_POD}
    replaced_by: dict[str, str] = {}
    for pod in desired.pods:
        if pod.rollout is not None:
            old = names.other_name(pod.name, pod.workload)
            if old and old in removing:
                replaced_by[old] = pod.name
                touched.add(pod.name)
    groups: dict[str, list[Pod]] = {}
    for pod in desired.pods:
        if pod.rollout is not None and pod.name in touched:
            groups.setdefault(pod.workload, []).append(pod)
    batches: dict[str, list[tuple[Pod, ...]]] = {}
    for workload, pods in sorted(groups.items()):
        pods.sort(key=copy_index)
        size = batch_size(pods[0].rollout) if pods[0].rollout else 1
        batches[workload] = [tuple(pods[i:i + size]) for i in range(0, len(pods), size)]
    return batches, replaced_by


def _batch(batches: dict[str, list[tuple[Pod, ...]]], i: int) -> tuple[Pod, ...]:
    return tuple(pod for group in batches.values() if i < len(group) for pod in group[i])
