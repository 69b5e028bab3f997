"""`podspec stop` / `podspec start`, pure: which pods, in what order, with which steps, and the
records they leave on the host. Everything is read off the host (labels, records); no manifests.

Stopped on purpose. `podspec stop` records, before it stops a pod, a stop mark: an empty volume
`podspec-stopped.<pod>` whose labels say which pod (its ID) and when (one call; Podman cannot
change a pod's labels, and a volume's labels come with the volume list `observe` reads anyway).
While the pod it names is not running, the pod is stopped on purpose: diff, apply and the agent's
self-heal leave it stopped, and status says so. A pod replaced since (another ID) or running again
(started by hand) is no longer stopped on purpose; a crashed container of a running pod is still
repaired. `podspec start` removes the mark.

Restart counts. Each restart the probe runner makes is counted in a record volume
`podspec-restarts.<container>.<n>` (the newest replaces the one before): status and the agent's
metrics show it while the container keeps its ID.

Order. `podspec start` starts pods in waves: first the pods a Service selects (`service_backends`:
read off each project's names record, reconcile/network.py), then the others; within that, a pod annotated
`podspec.io/start-after: a, b` starts after the pods a and b (when they are started too).
`podspec stop` stops in the reverse order.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from podspec import labels as L
from podspec.errors import ConflictError, PodNotFound, UsageError
from podspec.names import RESTARTS_PREFIX, STOP_PREFIX, copy_of
from podspec.observed import ObservedContainer, ObservedPod, ObservedState, ObservedVolume, PodStatus
from podspec.plan import Step, StepKind
from podspec.reconcile import drift

START_AFTER = "podspec.io/start-after"  # a pod annotation: the pods it starts after


# ----------------------------------------------------------------------------- stopped on purpose


@dataclass(frozen=True)
class StopMark:
    pod: str
    pod_id: str
    time: str  # when it was stopped (UTC, ISO 8601)
    volume: str


def stop_mark_name(pod: str) -> str:
    return STOP_PREFIX + pod


def stop_mark_labels(project: str, pod: ObservedPod, time: str) -> tuple[tuple[str, str], ...]:
    record = json.dumps({"pod_id": pod.id, "time": time}, sort_keys=True, separators=(",", ":"))
    return tuple(sorted({L.MANAGED_BY: L.MANAGER, L.PROJECT: project, L.POD: pod.name, L.STOPPED: record}.items()))


def _stop_mark(volume: ObservedVolume) -> StopMark | None:
    if not L.is_managed(volume.labels) or L.STOPPED not in volume.labels:
        return None
    try:
        data = json.loads(volume.labels[L.STOPPED])
        return StopMark(str(volume.labels.get(L.POD) or ""), str(data["pod_id"]), str(data.get("time") or ""), volume.name)
    except (ValueError, KeyError, TypeError):
        return None


def stop_marks(observed: ObservedState) -> dict[str, StopMark]:
    """Every stop mark on the host, by pod name."""
    return {m.pod: m for m in (_stop_mark(v) for v in observed.volumes) if m is not None and m.pod}


def stopped_on_purpose(observed: ObservedState, pod: ObservedPod) -> StopMark | None:
    """The stop mark that holds `pod` stopped: it names this pod (its ID) and the pod is not running."""
    if pod.status in drift.RUNNING_POD:
        return None
    mark = stop_marks(observed).get(pod.name)
    return mark if mark is not None and mark.pod_id == pod.id else None


def stopped_by_accident(observed: ObservedState, pod: ObservedPod) -> bool:
    """A stopped pod, as diff (which starts it) and status (which reports it) both judge it: Exited,
    Stopped or Created, and not held stopped by `podspec stop`. (Running and Degraded pods run;
    Paused ones are left alone, a deliberate and temporary act; any other status is Podman's own
    trouble, shown by the pod's containers.)"""
    return pod.status in STOPPED_POD and stopped_on_purpose(observed, pod) is None


STOPPED_POD = (PodStatus.EXITED, PodStatus.STOPPED, PodStatus.CREATED)


# ------------------------------------------------------------------------------------ which pods


def select(observed: ObservedState, names: Collection[str], project: str | None, every: bool) -> tuple[ObservedPod, ...]:
    """The managed pods the command acts on: those named, or all of `project`, or all (`every`)."""
    if not names and project is None and not every:
        raise UsageError("no pods given", "name pods, or pass --project NAME, or --all")
    if names and every:
        raise UsageError("pods named and --all", "name pods, or pass --all, not both")
    chosen = []
    for name in names:
        pod = observed.pod(name)
        copies = [] if pod is not None else [p for p in observed.pods if p.managed and copy_of(p.name, p.labels.get(L.WORKLOAD, "")) == name]
        if copies:  # a Deployment's copy named as the manifests name it, running under its other name (names.py)
            chosen += [p for p in copies if project is None or p.project == project]
            continue
        if pod is None:
            raise PodNotFound(f"no pod named {name!r} on the host", "`podspec status` lists the pods podspec manages")
        if not pod.managed:
            raise UsageError(f"pod {name} was not made by podspec", "podspec stops and starts only the pods it manages; "
                             "use podman for the others")
        if project is not None and pod.project != project:
            raise UsageError(f"pod {name} belongs to project {pod.project!r}, not {project!r}", "drop --project, or name pods of it")
        chosen.append(pod)
    if not names:
        chosen = [p for p in observed.pods if p.managed and (every or p.project == project)]
    return tuple(sorted({p.name: p for p in chosen}.values(), key=lambda p: p.name))


# ----------------------------------------------------------------------------------------- order


def service_backends(observed: ObservedState) -> frozenset[str]:
    """The pods a Service selects, from what the host records of Services: they start first.

    Each project's names record (reconcile/network.py, a volume the observed state lists) says which
    names each pod was given; a pod with more names than its own serves a Service."""
    from podspec.names import NAMES_PREFIX
    from podspec.reconcile.network import NamesRecord

    served: set[str] = set()
    for volume in observed.volumes:
        if volume.name.startswith(NAMES_PREFIX) and volume.managed and L.NAMES in volume.labels:
            record = NamesRecord.read(volume.labels.get(L.NAMES))
            for pod, names in (record.pods.items() if record is not None else ()):
                if set(names) - {pod}:
                    served.add(pod)
    return frozenset(served)


def start_after(observed: ObservedState, pod: ObservedPod) -> tuple[str, ...]:
    """The pods `pod` starts after, from its `podspec.io/start-after` annotation as applied (its
    containers' last-applied intent carries the pod's annotations)."""
    for c in observed.containers_of(pod):
        annotations = (L.last_applied(c.labels) or {}).get("annotations") or {}
        if isinstance(annotations, dict) and START_AFTER in annotations:
            return tuple(sorted({n.strip() for n in str(annotations[START_AFTER]).split(",") if n.strip()}))
    return ()


def start_waves(observed: ObservedState, pods: Iterable[ObservedPod]) -> tuple[tuple[str, ...], ...]:
    """The pods in waves: each wave after the ones before it are up. Pods Services select come
    first; `start-after` is honoured among the pods started together; a cycle is an error."""
    chosen = {p.name: p for p in pods}
    served = service_backends(observed)
    after = {name: set(start_after(observed, p)) & set(chosen) for name, p in chosen.items()}
    waves: list[tuple[str, ...]] = []
    done: set[str] = set()
    for group in (sorted(set(chosen) & served), sorted(set(chosen) - served)):
        left = set(group)
        while left:
            # (a pod a Service selects does not wait for one that none selects: those come later)
            ready = sorted(n for n in left if after[n] & (left | done) <= done)
            if not ready:
                cycle = ", ".join(sorted(left))
                raise UsageError(f"the pods {cycle} wait for each other ({START_AFTER})",
                                 "remove the cycle from their start-after annotations")
            waves.append(tuple(ready))
            done |= set(ready)
            left -= set(ready)
    return tuple(waves)


# ----------------------------------------------------------------------------------------- steps


def start_steps(observed: ObservedState, pod: ObservedPod) -> tuple[Step, ...]:
    """What starts `pod`: the pod (its init containers run again as their type says: Podman's own
    rule), or, when it runs already, its containers that should run and do not (the restart
    rules of apply: a finished job stays finished)."""
    if pod.status not in drift.RUNNING_POD:
        return (Step(StepKind.START_POD, pod.name, f"start the pod (it is {pod.status.value.lower()})", lane=pod.name),)
    steps = []
    for c in observed.containers_of(pod):
        if c.labels.get(L.ROLE) == "init" or not c.managed:
            continue
        policy = (L.last_applied(c.labels) or {}).get("restartPolicy", "Always")
        if drift.should_start(c.state, c.exit_code, policy):
            steps.append(Step(StepKind.START_CONTAINER, c.name, f"start the container (it is {c.state.value})",
                              lane=pod.name, pod_name=pod.name))
    return tuple(steps)


def stop_steps(observed: ObservedState, pod: ObservedPod, time: str, grace: int) -> tuple[Step, ...]:
    """The stop mark (removing a stale one first), then the pod's stop when it runs."""
    steps = []
    old = stop_marks(observed).get(pod.name)
    if old is not None and old.pod_id == pod.id:
        pass  # stopped on purpose already: the mark stays as it is
    else:
        found = observed.volume(stop_mark_name(pod.name))
        if found is not None and not _a_mark_of_ours(found):
            raise ConflictError(
                f"cannot stop pod {pod.name} on purpose: a volume {found.name}, which podspec did not make as a stop "
                "mark, holds the name of its stop mark; podspec leaves it alone",
                f"rename or remove that volume (podman volume inspect {found.name}), then run the command again",
            )
        if old is not None or found is not None:
            steps.append(Step(StepKind.REMOVE_VOLUME, stop_mark_name(pod.name), "a stop mark of an earlier pod of this name",
                              lane=pod.name))
        steps.append(Step(StepKind.CREATE_VOLUME, stop_mark_name(pod.name),
                          "record that the pod is stopped on purpose (apply and the agent leave it stopped)",
                          labels=stop_mark_labels(pod.project or "", pod, time), lane=pod.name))
    if pod.status in drift.RUNNING_POD or pod.status.value in ("Paused",):
        steps.append(Step(StepKind.STOP_POD, pod.name, "stop the pod", timeout=grace, lane=pod.name))
    return tuple(steps)


def _a_mark_of_ours(volume: ObservedVolume) -> bool:
    """A stop mark podspec made, readable or not (its record damaged): managed, with the mark's label."""
    return L.is_managed(volume.labels) and L.STOPPED in volume.labels


def unmark_steps(observed: ObservedState, pod: ObservedPod) -> tuple[Step, ...]:
    """`podspec start`: the pod's stop mark goes (it is no longer stopped on purpose); a volume of
    that name that is no stop mark of podspec's is left alone."""
    found = observed.volume(stop_mark_name(pod.name))
    if found is None or not _a_mark_of_ours(found):
        return ()
    return (Step(StepKind.REMOVE_VOLUME, stop_mark_name(pod.name), "the pod is no longer stopped on purpose", lane=pod.name),)


# ------------------------------------------------------------------------------- restart counts


@dataclass(frozen=True)
class RestartCount:
    container: str
    container_id: str
    count: int
    last: str  # when (UTC, ISO 8601)
    why: str
    volume: str = ""


def _restart_count(volume: ObservedVolume) -> RestartCount | None:
    if not L.is_managed(volume.labels) or L.RESTARTS not in volume.labels:
        return None
    try:
        data = json.loads(volume.labels[L.RESTARTS])
        return RestartCount(str(volume.labels.get(L.CONTAINER) or ""), str(data["container_id"]), int(data["count"]),
                            str(data.get("last") or ""), str(data.get("why") or ""), volume.name)
    except (ValueError, KeyError, TypeError):
        return None


def restart_counts(observed: ObservedState) -> dict[str, RestartCount]:
    """The restarts the probe runner made of each container that still has the ID it had then."""
    found: dict[str, RestartCount] = {}
    for r in (_restart_count(v) for v in observed.volumes):
        if r is None:
            continue
        current = observed.container(r.container)
        if current is None or current.id != r.container_id:
            continue
        if r.container not in found or r.count > found[r.container].count:
            found[r.container] = r
    return found


def restart_record_steps(observed: ObservedState, c: ObservedContainer, time: str, why: str) -> tuple[Step, ...]:
    """Count one more restart of `c`: a new record volume, then the old ones of it go."""
    previous = [r for r in (_restart_count(v) for v in observed.volumes) if r is not None and r.container == c.name]
    same = [r.count for r in previous if r.container_id == c.id]
    count = max(same, default=0) + 1
    record = json.dumps({"container_id": c.id, "count": count, "last": time, "why": why[:300]},
                        sort_keys=True, separators=(",", ":"))
    labels = {L.MANAGED_BY: L.MANAGER, L.PROJECT: L.project_of(c.labels) or "", L.POD: c.pod_name,
              L.CONTAINER: c.name, L.RESTARTS: record}
    name = f"{RESTARTS_PREFIX}{c.name}.{c.id[:12]}.{count:06d}"
    steps = [Step(StepKind.CREATE_VOLUME, name, f"count restart {count} of {c.name}", labels=tuple(sorted(labels.items())))]
    steps += [Step(StepKind.REMOVE_VOLUME, r.volume, f"an older restart count of {c.name}") for r in previous if r.volume]
    return tuple(steps)
