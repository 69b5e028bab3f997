"""Probes as the kubelet runs them: pure rules over results and time (seconds, monotonic, passed in).

Every probe of a container counts: its startupProbe, livenessProbe and readinessProbe each run on
their own schedule (initialDelaySeconds after the container started, then every periodSeconds; a
run that takes longer than timeoutSeconds fails). While a startupProbe has not passed, the others
do not run. Then:

- startup: passes after one success; `failureThreshold` failures in a row restart the container;
- liveness: `failureThreshold` failures in a row restart the container (never before it has run
  `failureThreshold` times); a success resets the count;
- readiness: `successThreshold` successes in a row make the container ready, `failureThreshold`
  failures in a row make it not ready; it never restarts anything.

A container without a readinessProbe is ready once it runs and its startupProbe (if any) passed.
A restart starts the schedule again (a new `ProbeClock`). The running of probes (where, how) is
run/probes.py; this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from podspec.model import Probe, ProbeHandler
from podspec.observed import ProbeResult
from podspec.probe_record import ProbeKind, probes_from_spec, probes_of

__all__ = ["Action", "ProbeClock", "ProbeKind", "ProbeResult", "describe", "probes_from_spec", "probes_of", "restart_cause"]


class Action(str, Enum):
    NONE = "none"
    RESTART = "restart"


def describe(probe: Probe) -> str:
    """`httpGet :80/healthz`, `tcpSocket :6379`, `exec pg_isready -U app`: for messages."""
    if probe.handler is ProbeHandler.EXEC:
        return "exec " + " ".join(probe.command)
    if probe.handler is ProbeHandler.HTTP_GET:
        return f"httpGet {probe.host}:{probe.port}{probe.path or '/'}" if probe.host else f"httpGet :{probe.port}{probe.path or '/'}"
    return f"tcpSocket {probe.host}:{probe.port}" if probe.host else f"tcpSocket :{probe.port}"


@dataclass
class _Count:
    successes: int = 0
    failures: int = 0
    last_run: float | None = None
    last: ProbeResult | None = None


@dataclass
class ProbeClock:
    """The probes of one running container instance (one container ID, one start): when each is
    due, and what its results mean. Made when the container is seen running; replaced after a
    restart."""

    probes: tuple[tuple[ProbeKind, Probe], ...]
    started: float  # when the container was seen running (monotonic)
    started_up: bool = False
    ready: bool = False
    counts: dict[ProbeKind, _Count] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kinds = {kind for kind, _ in self.probes}
        self.started_up = ProbeKind.STARTUP not in kinds
        self.ready = self.started_up and ProbeKind.READINESS not in kinds
        self.counts = {kind: _Count() for kind in kinds}

    def due(self, now: float) -> tuple[tuple[ProbeKind, Probe], ...]:
        """The probes to run at `now`: only the startupProbe until it passed."""
        found = []
        for kind, probe in self.probes:
            if (kind is ProbeKind.STARTUP) == self.started_up:
                continue  # startup runs alone until it passed, then never again
            count = self.counts[kind]
            first = self.started + probe.initial_delay_seconds
            if now < first:
                continue
            if count.last_run is None or now >= count.last_run + probe.period_seconds:
                found.append((kind, probe))
        return tuple(found)

    def next_due(self) -> float:
        """The earliest time a probe is due (for the caller's sleep)."""
        times = []
        for kind, probe in self.probes:
            if (kind is ProbeKind.STARTUP) == self.started_up:
                continue
            last = self.counts[kind].last_run
            times.append(self.started + probe.initial_delay_seconds if last is None else last + probe.period_seconds)
        return min(times, default=float("inf"))

    def record(self, kind: ProbeKind, result: ProbeResult, now: float) -> Action:
        """Count one result of `kind`'s probe; RESTART when the container must be restarted."""
        probe = dict(self.probes)[kind]
        count = self.counts[kind]
        count.last_run, count.last = now, result
        if result.ok:
            count.successes, count.failures = count.successes + 1, 0
        else:
            count.successes, count.failures = 0, count.failures + 1
        if kind is ProbeKind.STARTUP:
            if result.ok:
                self.started_up = True
                self.ready = ProbeKind.READINESS not in self.counts
                return Action.NONE
            return Action.RESTART if count.failures >= probe.failure_threshold else Action.NONE
        if kind is ProbeKind.LIVENESS:
            return Action.RESTART if count.failures >= probe.failure_threshold else Action.NONE
        # readiness: gates, never restarts
        if result.ok and count.successes >= probe.success_threshold:
            self.ready = True
        elif not result.ok and count.failures >= probe.failure_threshold:
            self.ready = False
        return Action.NONE

    def last(self, kind: ProbeKind) -> ProbeResult | None:
        count = self.counts.get(kind)
        return count.last if count else None

    def waiting_for(self) -> str:
        """Why the container is not ready yet, for messages ("" when it is)."""
        if self.ready:
            return ""
        kind = ProbeKind.READINESS if self.started_up else ProbeKind.STARTUP
        probe = dict(self.probes)[kind]
        last = self.last(kind)
        if last is None:
            return f"{kind.value} probe ({describe(probe)}) not run yet"
        said = f": {last.output}" if last.output and not last.ok else ""
        return f"{kind.value} probe ({describe(probe)}) {'passed' if last.ok else 'failed'}{said}"


def restart_cause(kind: ProbeKind, probe: Probe, result: ProbeResult) -> str:
    """Why a container is restarted, for the step and the log."""
    said = f" ({result.output})" if result.output else ""
    return (f"{kind.value} probe {describe(probe)} failed {probe.failure_threshold} times in a row{said}; "
            "restart the container as the kubelet does")
