"""Where a Deployment's copies run, and which of them a rollout surges (pure).

Each copy has two Podman names (names.py: `web-pod-1` and `web-pod-1-b`). The manifests name the
copy; the host runs it under one of the two. `place` gives every desired copy the name it runs
under, so that the diff, the plan, `--wait`, the history and the agent all speak of the pod on the
host; and, for the copies a change replaces, it chooses the ones that surge: their new version is
given the other name, so the diff creates it beside the old copy (which the diff then removes, as a
copy the manifests no longer want) and the rollout (rollout.py) removes the old one only once the
new one is ready. A copy that cannot surge (a host port: one host cannot publish it twice) is
changed in place, maxUnavailable at a time, and its cause says why (`causes`).

Both names on the host (a rollout killed between the new copy's creation and the old one's
removal): the one that runs what is wanted stays (else the copy's own name), and the other goes once
it is ready. So a later apply always converges to exactly `replicas` copies.
"""

from __future__ import annotations

from dataclasses import replace

from podspec.model import DesiredState, Pod
from podspec.names import copy_index, copy_of, other_name
from podspec.observed import ObservedState
from podspec.reconcile.changes import Action, FieldChange
from podspec.reconcile.intent import pod_intent
from podspec.reconcile.pod_diff import ContainerDiff, PodDiff, diff_pod
from podspec.reconcile.rollout import batch_size


def is_copy(pod: Pod) -> bool:
    return pod.rollout is not None and bool(copy_of(pod.name, pod.workload))


def renamed(pod: Pod, name: str) -> Pod:
    """The copy under its other Podman name; what it sees of itself stays its copy name (its
    hostname too: given explicitly under the other name, as Podman's default is the pod's name)."""
    if name == pod.name:
        return pod
    copy = copy_of(pod.name, pod.workload)
    if name == copy:
        return replace(pod, name=name, hostname="" if pod.hostname == copy else pod.hostname)
    return replace(pod, name=name, hostname=pod.hostname or copy)


def place(desired: DesiredState, observed: ObservedState, project: str) -> DesiredState:
    """`desired` with each copy under the Podman name it runs under, and the copies that surge in
    this change under their other one. Unchanged when no pod is a Deployment's copy."""
    if not any(is_copy(p) for p in desired.pods):
        return desired
    absent = {a.name for a in desired.absent_pods}
    wanted = {p.name for p in desired.pods}

    def ours(name: str) -> bool:
        found = observed.pod(name)
        return found is not None and found.managed and found.project == project

    placed: list[Pod] = []
    groups: dict[str, list[tuple[Pod, bool]]] = {}  # workload -> (copy as placed, whether it may surge)
    for pod in desired.pods:
        if not is_copy(pod):
            placed.append(pod)
            continue
        other = other_name(pod.name, pod.workload)
        here, there = ours(pod.name), ours(other) and other not in absent and other not in wanted
        if there and (not here or _second(pod, renamed(pod, other), observed)):
            pod = renamed(pod, other)
        free = not (here and there) and observed.pod(other_name(pod.name, pod.workload)) is None
        groups.setdefault(pod.workload, []).append((pod, free))
    for members in groups.values():
        placed += _surged(members, observed, project)
    return replace(desired, pods=tuple(sorted(placed, key=lambda p: p.name)))


def _surged(members: list[tuple[Pod, bool]], observed: ObservedState, project: str) -> list[Pod]:
    """The copies of one Deployment, those a change replaces taken a batch at a time (in copy order,
    as rollout.py cuts the phases): the first `surge` of each batch under their other name."""
    members.sort(key=lambda m: copy_index(m[0].name, m[0].workload))
    rollout = members[0][0].rollout
    assert rollout is not None
    size = batch_size(rollout)
    out, position = [], 0
    for pod, free in members:
        diff = diff_pod(pod, pod_intent(pod), observed, project, adopt=False)
        if not diff.changed:
            out.append(pod)
            continue
        surge = rollout.surge > 0 and free and rolls(diff) and position % size < rollout.surge
        out.append(renamed(pod, other_name(pod.name, pod.workload)) if surge else pod)
        position += 1
    return out


def rolls(diff: PodDiff) -> bool:
    """Whether a change replaces a running copy (or some of its containers): what a rollout is."""
    if not diff.running:
        return False
    if diff.action is Action.REPLACE:
        return True
    return diff.action is None and any(c.action in (Action.RECREATE, Action.REMOVE, Action.CREATE) and not _proxy(diff.name, c)
                                       for c in diff.containers)


def _proxy(pod: str, c: ContainerDiff) -> bool:
    """A Service port's proxy (loader/services.py): a Service changing never replaces a copy."""
    from podspec.loader.services import is_proxy_name
    from podspec.names import container_in_pod

    return bool(c.intent.spec.get("serviceProxy")) if c.intent is not None else is_proxy_name(container_in_pod(pod, c.name))


def causes(diff: PodDiff, observed: ObservedState, project: str) -> PodDiff:
    """A copy's cause: its new version made beside the old one (a surge), with what changes between
    them (the fields, as a change in place would show them), or changed in place although maxSurge
    asks for a surge, and why."""
    pod = diff.pod
    if pod is None or pod.rollout is None:
        return diff
    old = other_name(pod.name, pod.workload)
    if diff.action is Action.CREATE and old and observed.pod(old) is not None:
        what, fields = _changes_from(renamed(pod, old), observed, project)
        return replace(diff, cause=f"the new version of copy {copy_of(pod.name, pod.workload)}{what}, started beside "
                                   f"{old} (maxSurge {pod.rollout.surge}), which goes once this one is ready",
                       fields=diff.fields + fields)
    if not pod.rollout.in_place or not rolls(diff):
        return diff
    why = f"in place: {pod.rollout.in_place} cannot be taken twice on one host (maxSurge not used)"
    if diff.action is Action.REPLACE:
        return replace(diff, cause=f"{diff.cause}; {why}")
    return replace(diff, containers=tuple(replace(c, cause=f"{c.cause}; {why}") if c.action is not Action.START else c
                                          for c in diff.containers))


def _changes_from(old: Pod, observed: ObservedState, project: str) -> tuple[str, tuple[FieldChange, ...]]:
    """What differs between the copy on the host (`old`, the desired copy under the name the old
    version runs under) and its new version: " (why)" and the fields, as the diff of a change in
    place would give them ("" and none when the old one is not podspec's, or nothing differs)."""
    found = diff_pod(old, pod_intent(old), observed, project, adopt=False)
    if found.action is Action.REPLACE:
        return f" ({found.cause})", found.fields
    changed = [c for c in found.containers if c.action is not Action.START]
    whys = sorted({c.cause for c in changed})
    return (f" ({'; '.join(whys)})" if whys else ""), tuple(f for c in changed for f in c.fields)


def _second(own: Pod, other: Pod, observed: ObservedState) -> bool:
    """Both names of a copy on the host (a rollout stopped between the new copy's creation and the
    old one's removal): whether the copy is placed on the second. The one that runs what is wanted
    stays; else the one that does not run is replaced (the other keeps serving until it is ready)."""
    if _runs(own, observed) or _runs(other, observed):
        return _runs(other, observed) and not _runs(own, observed)
    return _running(own, observed) or not _running(other, observed)


def _running(pod: Pod, observed: ObservedState) -> bool:
    from podspec.observed import PodStatus

    found = observed.pod(pod.name)
    return found is not None and found.status is PodStatus.RUNNING


def _runs(pod: Pod, observed: ObservedState) -> bool:
    """Whether the pod on the host under this name runs what `pod` wants (its hashes)."""
    from podspec import labels as L
    from podspec.names import container_name

    found = observed.pod(pod.name)
    if found is None:
        return False
    intent = pod_intent(pod)
    if found.labels.get(L.HASH) != intent.hash:
        return False
    for c in intent.containers:
        present = observed.container(container_name(pod.name, c.name))
        if present is not None and present.labels.get(L.HASH) != c.hash:
            return False
    return True
