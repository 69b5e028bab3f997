"""What `podspec delete` removes (pure): the manifests' pods that podspec created for this project,
their emptyDir volumes, and, only when asked, the named volumes podspec created and no other pod
of the project still mounts. Everything else is left alone, and said so."""

from __future__ import annotations

from dataclasses import dataclass

from podspec import labels as L
from podspec.diff import observed_grace
from podspec.model import DesiredState
from podspec.observed import ObservedState
from podspec.planner import Plan, Step, StepKind


@dataclass(frozen=True)
class Deletion:
    plan: Plan
    skipped: tuple[str, ...]  # what was left alone, and why


def plan(desired: DesiredState, observed: ObservedState, project: str, volumes: bool) -> Deletion:
    skipped: list[str] = []
    steps: list[Step] = []
    removed: set[str] = set()
    for pod in desired.pods:
        found = observed.pod(pod.name)
        if found is None:
            continue
        if not found.managed or found.project != project:
            skipped.append(f"pod {pod.name}: not created by podspec for project {project!r}; left alone")
            continue
        removed.add(pod.name)
        timeout = observed_grace(observed, found)
        steps.append(Step(StepKind.STOP_POD, pod.name, "podspec delete", timeout=timeout, lane=pod.name))
        steps.append(Step(StepKind.REMOVE_POD, pod.name, "podspec delete", lane=pod.name))
    for found in observed.volumes:
        owner = found.labels.get(L.EMPTY_DIR)
        if owner in removed and L.project_of(found.labels) == project:
            steps.append(Step(StepKind.REMOVE_VOLUME, found.name, f"emptyDir of pod {owner}"))
    if volumes:
        still_used = _claims_of_remaining_pods(observed, project, removed)
        for name in desired.volume_names():
            found = observed.volume(name)
            if found is None:
                continue
            if not found.managed or L.project_of(found.labels) != project:
                skipped.append(f"volume {name}: not created by podspec for project {project!r}; left alone")
            elif name in still_used:
                skipped.append(f"volume {name}: still mounted by pod {still_used[name]}; kept")
            else:
                steps.append(Step(StepKind.REMOVE_VOLUME, name, "podspec delete --volumes"))
    return Deletion(Plan(project=project, steps=tuple(steps)), tuple(skipped))


def _claims_of_remaining_pods(observed: ObservedState, project: str, removed: set[str]) -> dict[str, str]:
    """Named volume -> a pod of the project that is not being removed and mounts it."""
    used: dict[str, str] = {}
    for c in observed.containers:
        if c.pod_name in removed or not c.managed or L.project_of(c.labels) != project:
            continue
        for mount in ((L.last_applied(c.labels) or {}).get("volumeMounts") or {}).values():
            parts = str(mount.get("source", "")).split(":")
            if parts[0] == "volume" and len(parts) > 1:
                used.setdefault(parts[1], c.pod_name)
    return used
