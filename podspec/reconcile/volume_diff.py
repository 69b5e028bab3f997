"""The diff of volumes: claims (named volumes, created when absent, never removed unless asked)
and emptyDirs (a pod's own volume, made before it and removed with it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from podspec import labels as L
from podspec.model import DesiredState
from podspec.names import named_volume_of
from podspec.observed import ObservedState, ObservedVolume
from podspec.reconcile.changes import Action
from podspec.reconcile.intent import SpecDict, empty_dir_volumes


@dataclass(frozen=True)
class VolumeDiff:
    """What happens to one named volume, and why."""

    name: str
    action: Action
    cause: str
    empty_dir_of: str = ""  # the pod whose emptyDir this volume is ("" for a claim)
    labels: tuple[tuple[str, str], ...] = ()  # the PersistentVolumeClaim's own labels, to create it with


def volume_users(observed: ObservedState) -> dict[str, set[tuple[str, str]]]:
    """Named volume -> {(project, pod)} of the podspec pods that mount it, read off the last-applied
    labels of their containers and of the pods themselves (whose init containers Podman may have
    removed after their run)."""
    users: dict[str, set[tuple[str, str]]] = {}

    def note(spec: SpecDict | None, project: str, pod: str) -> None:
        for mount in ((spec or {}).get("volumeMounts") or {}).values():
            volume = named_volume_of(str(mount.get("source", "")))
            if volume is not None:
                users.setdefault(volume, set()).add((project, pod))

    for c in observed.containers:
        if c.managed and not c.is_infra:
            note(L.last_applied(c.labels), L.project_of(c.labels) or "", c.pod_name)
    for p in observed.pods:
        if p.managed:
            for init in ((L.last_applied(p.labels) or {}).get("initContainers") or {}).values():
                note(init, p.project or "", p.name)
    return users


def _volume_used_by_project(observed: ObservedState, project: str, volume: str) -> bool:
    return any(owner == project for owner, _ in volume_users(observed).get(volume, ()))


def diff_volumes(
    desired: DesiredState, observed: ObservedState, project: str, adopt: bool, prune_volumes: bool,
    leaving: tuple[str, ...] = (), may_remove: Callable[[str, ObservedVolume], bool] = lambda what, found: True,
) -> tuple[VolumeDiff, ...]:
    """`may_remove`: whether --prune-volumes may remove a volume this project's manifests left
    (another source's is kept: diff.py)."""
    diffs = _claim_volumes(desired, observed, project, adopt) + _empty_dir_volumes(desired, observed, project, leaving)
    if prune_volumes:
        wanted = desired.volume_names()
        for found in sorted(observed.volumes, key=lambda v: v.name):
            if (found.name not in wanted and found.managed and L.project_of(found.labels) == project
                    and not found.labels.get(L.EMPTY_DIR) and not L.is_record(found.labels)
                    and may_remove(f"volume {found.name}", found)):
                diffs.append(VolumeDiff(found.name, Action.REMOVE, "no longer in the manifests (--prune-volumes)"))
    return tuple(sorted(diffs, key=lambda v: v.name))


def _claim_volumes(desired: DesiredState, observed: ObservedState, project: str, adopt: bool) -> list[VolumeDiff]:
    """Named volumes (claims): created when absent; someone else's is a conflict, or adopted."""
    diffs = []
    claim_labels = {c.name: c.labels for c in desired.claims}
    for name in desired.volume_names():
        found = observed.volume(name)
        if found is None:
            diffs.append(VolumeDiff(name, Action.CREATE, "not on the host", labels=claim_labels.get(name, ())))
        elif owner_pod := found.labels.get(L.EMPTY_DIR):  # removed with its pod: never a claim's, even adopted
            owner = L.project_of(found.labels)
            diffs.append(VolumeDiff(
                name, Action.CONFLICT,
                f"a volume with this name exists: the emptyDir of pod {owner_pod}"
                f"{f' (podspec project {owner!r})' if owner != project else ''}, removed with that pod "
                "(give the claim another name)",
            ))
        elif L.project_of(found.labels) != project and not _volume_used_by_project(observed, project, name):
            owner = L.project_of(found.labels)
            made_by = f"podspec project {owner!r}" if owner else "someone else (not podspec)"
            if adopt:
                diffs.append(VolumeDiff(name, Action.ADOPT, f"made by {made_by}; used as it is, its data kept"))
            else:
                diffs.append(VolumeDiff(
                    name, Action.CONFLICT,
                    f"a volume with this name exists, made by {made_by} (pass --adopt to use it as it is: its data is kept)",
                ))
    return diffs


def _empty_dir_volumes(desired: DesiredState, observed: ObservedState, project: str,
                       leaving: tuple[str, ...]) -> list[VolumeDiff]:
    """emptyDir: a volume of the pod's own, made before it and removed with it."""
    diffs = []
    scratch = set()
    for pod in desired.pods:
        for name in empty_dir_volumes(pod):
            scratch.add(name)
            found = observed.volume(name)
            if found is None:
                diffs.append(VolumeDiff(name, Action.CREATE, f"emptyDir of pod {pod.name}", empty_dir_of=pod.name))
            elif found.labels.get(L.EMPTY_DIR) != pod.name or L.project_of(found.labels) != project:
                diffs.append(VolumeDiff(
                    name, Action.CONFLICT,
                    f"pod {pod.name} needs this volume for an emptyDir, and it holds other data "
                    "(remove it or rename the emptyDir volume)",
                ))
    staying = {p.name for p in desired.pods}
    for found in observed.volumes:
        owner = found.labels.get(L.EMPTY_DIR)
        if not owner or L.project_of(found.labels) != project or found.name in scratch:
            continue
        if owner in leaving:
            diffs.append(VolumeDiff(found.name, Action.REMOVE, f"emptyDir of pod {owner}, which is removed",
                                    empty_dir_of=owner))
        elif owner in staying:  # removed last, after the containers that mounted it were recreated
            diffs.append(VolumeDiff(found.name, Action.REMOVE, f"emptyDir no longer in pod {owner}",
                                    empty_dir_of=owner))
    return diffs
