"""When is a set of pods ready (`apply --wait`, `podspec start`)? Pure rules over the observed state.

Every container runs, or has finished as its restartPolicy allows (exit 0 under OnFailure or
Never: a completed job); a container that failed and will not be restarted (Never) has failed for
good. Running containers with probes must also be ready by them (reconcile/probing.py: the
startupProbe passed, the readinessProbe passes; liveness restarts but never gates): that part is
the probe runner's (run/probes.py), which says which running containers are ready.

What is expected comes from the manifests (`expected_of`, after an apply) or from the host's own
records (`expected_on_host`, for `podspec start`: the containers each pod's labels list).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from podspec import labels as L
from podspec.model import DesiredState, RestartPolicy
from podspec.names import container_name
from podspec.observed import ContainerState, ObservedState


@dataclass(frozen=True)
class Expected:
    """A container that must run (or finish as its policy allows) for its pod to be ready."""

    name: str
    restart_policy: RestartPolicy


@dataclass(frozen=True)
class Readiness:
    waiting: tuple[str, ...]  # "name: why", may still become ready
    failed: tuple[str, ...]  # "name: why", will not become ready by waiting
    running: tuple[str, ...]  # running containers (their probes decide the rest)


def expected_of(desired: DesiredState) -> tuple[Expected, ...]:
    return tuple(Expected(container_name(p.name, c.name), p.restart_policy) for p in desired.pods for c in p.containers)


def expected_on_host(observed: ObservedState, pods: Collection[str]) -> tuple[Expected, ...]:
    """The regular containers each pod's labels say it has, with its restartPolicy as applied. The
    list names init containers too: they are known by the pod's last-applied spec, as an init
    container of type `once` is no longer on the host once it has run (Podman removes it)."""
    found = []
    for name in sorted(pods):
        pod = observed.pod(name)
        if pod is None:
            continue
        inits = set((L.last_applied(pod.labels) or {}).get("initContainers", {}))
        wanted = [n for n in (pod.labels.get(L.CONTAINERS) or "").split(",") if n and n not in inits]
        members = {c.name: c for c in observed.containers_of(pod)}
        regular = [c for c in members.values() if c.labels.get(L.ROLE) != "init"]
        names = [container_name(name, n) for n in wanted] if wanted else [c.name for c in regular]
        for full in names:
            c = members.get(full)
            if c is not None and c.labels.get(L.ROLE) == "init":
                continue
            policy = ((L.last_applied(c.labels) or {}).get("restartPolicy") if c is not None else None) or "Always"
            try:
                found.append(Expected(full, RestartPolicy(policy)))
            except ValueError:
                found.append(Expected(full, RestartPolicy.ALWAYS))
    return tuple(found)


def assess(expected: Collection[Expected], observed: ObservedState) -> Readiness:
    waiting, failed, running = [], [], []
    for e in expected:
        found = observed.container(e.name)
        if found is None:
            waiting.append(f"{e.name}: missing")
        elif found.state is ContainerState.RUNNING:
            running.append(e.name)
        elif found.state is ContainerState.EXITED and e.restart_policy is not RestartPolicy.ALWAYS:
            if found.exit_code != 0 and e.restart_policy is RestartPolicy.NEVER:
                failed.append(f"{e.name}: exited with code {found.exit_code} (restartPolicy Never)")
            elif found.exit_code != 0:
                waiting.append(f"{e.name}: exited with code {found.exit_code}, to be restarted (OnFailure)")
            # exit 0: a finished job is ready
        else:
            waiting.append(f"{e.name}: {found.state.value}")
    return Readiness(tuple(waiting), tuple(failed), tuple(running))
