"""What `podspec delete` removes (pure): the manifests' pods that podspec created for this project,
their emptyDir volumes, and, only when asked, the named volumes podspec created and no other pod
of the project still mounts. Everything else is left alone, and said so."""

from __future__ import annotations

from dataclasses import dataclass

from podspec import labels as L
from podspec.model import DesiredState
from podspec.observed import ObservedState
from podspec.reconcile.diff import observed_grace, volume_users
from podspec.reconcile.planner import Plan, Step, StepKind


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
    for scratch in observed.volumes:
        owner = scratch.labels.get(L.EMPTY_DIR)
        if owner in removed and L.project_of(scratch.labels) == project:
            steps.append(Step(StepKind.REMOVE_VOLUME, scratch.name, f"emptyDir of pod {owner}"))
    if volumes:
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
            elif still_used.get(name):
                skipped.append(f"volume {name}: still mounted by pod {', '.join(still_used[name])}; kept")
            else:
                steps.append(Step(StepKind.REMOVE_VOLUME, name, "podspec delete --volumes"))
    return Deletion(Plan(project=project, steps=tuple(steps)), tuple(skipped))
