"""Status: the managed pods on the host, their state, and drift from what their labels promise (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from podspec import labels as L
from podspec.names import container_name
from podspec.observed import ObservedState
from podspec.reconcile import drift
from podspec.reconcile.lifecycle import restart_counts, stopped_by_accident, stopped_on_purpose


@dataclass(frozen=True)
class ContainerLine:
    name: str
    role: str
    state: str
    image: str
    restarts: int = 0  # restarts by failing probes (podspec's probe runner), while it keeps its ID


@dataclass(frozen=True)
class PodReport:
    name: str
    project: str
    status: str
    containers: tuple[ContainerLine, ...]
    drift: tuple[str, ...]
    revision: str = ""  # the revision the pod was last applied from (reconcile/history.py); "" unknown
    stopped: str = ""  # when `podspec stop` stopped it (UTC), while it is stopped on purpose; "" otherwise


def report(observed: ObservedState, project: str | None = None,
           applied_from: Mapping[tuple[str, str], str] | None = None) -> tuple[PodReport, ...]:
    """`applied_from`: (project, pod) -> the revision it was last applied from (reconcile.history.revisions)."""
    reports = []
    applied_from = applied_from or {}
    for pod in observed.pods:
        if not pod.managed or (project is not None and pod.project != project):
            continue
        drifts: list[str] = []
        # A stopped pod is drift exactly when diff would start it (reconcile/lifecycle.py).
        stopped = stopped_on_purpose(observed, pod)
        if stopped_by_accident(observed, pod):
            drifts.append(f"pod is {pod.status.value.lower()}")
        present = observed.containers_of(pod)
        counts = restart_counts(observed)
        lines = [ContainerLine(c.name, c.labels.get(L.ROLE, "unmanaged"), c.state.value, c.image,
                               counts[c.name].count if c.name in counts else 0) for c in present]
        init_names = set((L.last_applied(pod.labels) or {}).get("initContainers", {}))
        promised = [drift.Promise(container_name(pod.name, short), init=short in init_names)
                    for short in pod.labels.get(L.CONTAINERS, "").split(",") if short]
        for found in drift.containers(pod.status, present, promised, pod.labels.get(L.INIT_TYPE, "once")):
            if found.finding is drift.Finding.BY_HAND:
                drifts.append(f"container {found.name} was added by hand")
            elif found.finding is drift.Finding.NOT_RUNNING and found.found is not None:
                drifts.append(f"container {found.name} is {found.found.state.value}")
            elif found.finding is drift.Finding.MISSING:
                drifts.append(f"container {found.name} is missing")
        spec = L.last_applied(pod.labels) or {}
        infra = observed.infra_of(pod)
        ports = drift.ports_drift(infra, spec)
        if ports is not None:
            drifts.append(f"published ports {ports[0]} differ from {ports[1]}")
        reports.append(
            PodReport(pod.name, pod.project or "", pod.status.value, tuple(sorted(lines, key=lambda x: x.name)),
                      tuple(drifts), applied_from.get((pod.project or "", pod.name), ""), stopped.time if stopped else "")
        )
    return tuple(sorted(reports, key=lambda r: (r.project, r.name)))
