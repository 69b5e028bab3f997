"""When is an applied state ready (`apply --wait`)? Pure rules over the observed state.

Every container runs, or has finished as its restartPolicy allows (exit 0 under OnFailure or
Never: a completed job); a container that failed and will not be restarted (Never) has failed for
good. A container with a probe must also pass it: its readinessProbe (ready when it passes), its
startupProbe (nothing else counts before it passes), or its livenessProbe. Podman runs one health
check per container: the loader keeps only the probes of a container that agree with its first
(`Container.health_probe()`); that check runs on the probe's own schedule (initialDelaySeconds,
then every periodSeconds).
"""

from __future__ import annotations

from dataclasses import dataclass

from podspec.model import DesiredState, Probe, RestartPolicy
from podspec.names import container_name
from podspec.observed import ContainerState, ObservedState


@dataclass(frozen=True)
class Readiness:
    waiting: tuple[str, ...]  # "name: why", may still become ready
    failed: tuple[str, ...]  # "name: why", will not become ready by waiting
    probes: tuple[tuple[str, Probe], ...]  # running containers whose probe decides


def assess(desired: DesiredState, observed: ObservedState) -> Readiness:
    waiting, failed, probes = [], [], []
    for pod in desired.pods:
        for c in pod.containers:
            name = container_name(pod.name, c.name)
            found = observed.container(name)
            if found is None:
                waiting.append(f"{name}: missing")
            elif found.state is ContainerState.RUNNING:
                probe = c.health_probe()
                if probe is not None:
                    probes.append((name, probe))
            elif found.state is ContainerState.EXITED and pod.restart_policy is not RestartPolicy.ALWAYS:
                if found.exit_code != 0 and pod.restart_policy is RestartPolicy.NEVER:
                    failed.append(f"{name}: exited with code {found.exit_code} (restartPolicy Never)")
                elif found.exit_code != 0:
                    waiting.append(f"{name}: exited with code {found.exit_code}, to be restarted (OnFailure)")
                # exit 0: a finished job is ready
            else:
                waiting.append(f"{name}: {found.state.value}")
    return Readiness(tuple(waiting), tuple(failed), tuple(probes))


def probed(desired: DesiredState) -> bool:
    """Whether any container's readiness is decided by a probe (for the "Ready" message)."""
    return any(c.health_probe() is not None for p in desired.pods for c in p.containers)


def probe_due(probe: Probe, running_since: float, last_run: float | None, now: float) -> bool:
    if now < running_since + probe.initial_delay_seconds:
        return False
    return last_run is None or now >= last_run + probe.period_seconds
