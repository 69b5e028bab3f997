"""The probe runner: podspec's kubelet for probes, for as long as something runs it.

    prober = Prober(engine, image="")           # image: the helper's (httpGet/tcpSocket), default busybox
    round = prober.tick(observed, pods)         # runs the probes due now, restarts what must be
    round.ready / round.waiting / round.restarted
    prober.next_due()                           # when to call tick again (monotonic seconds)
    prober.close()                              # removes the probe helpers it made

Who runs it: `apply --wait` and `podspec start` (until every pod is ready or --timeout), and the sync
agent (for as long as it runs). Without one of them nothing runs a probe (hosts without systemd run
no Podman health-check timers either; see docs/lifecycle.md).

What to probe is read off the host, never the manifests: each running container's probes are those
of its last-applied intent (its labels), so `podspec start` needs no files and `apply --wait` probes
exactly what it applied. The rules (schedule, thresholds, what a failure does) are
reconcile/probing.py; how a probe runs (exec inside, a helper in the pod's network namespace) is
engine/probes.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from podspec import labels as L
from podspec.engine.probes import ProbeTarget
from podspec.engine.protocol import Engine
from podspec.errors import EngineError
from podspec.observed import ContainerState, ObservedContainer, ObservedState
from podspec.plan import Step, StepKind
from podspec.reconcile.probing import Action, ProbeClock, ProbeKind, probes_from_spec, restart_cause


@dataclass(frozen=True)
class Restart:
    """A container the runner restarted, and why."""

    container: str
    pod: str
    kind: ProbeKind
    cause: str
    error: str = ""  # Podman refused the restart


@dataclass(frozen=True)
class Failed:
    """One failed run of a probe (the kubelet's "Liveness probe failed" event)."""

    container: str
    pod: str
    kind: ProbeKind
    output: str
    failures: int  # in a row, this one included


@dataclass(frozen=True)
class Round:
    ready: frozenset[str]  # running containers whose probes say ready (none: ready once running)
    waiting: tuple[str, ...]  # "container: why" for those not ready yet
    restarted: tuple[Restart, ...]
    failed: tuple[Failed, ...] = ()


class Prober:
    def __init__(self, engine: Engine, image: str = "", clock: Callable[[], float] = time.monotonic,
                 act: bool = True, record: bool = True, restarting: Callable[[str], None] = lambda container: None) -> None:
        """`act`: restart on failing liveness and startup probes (False: only report); `record`:
        count each restart on the host (reconcile/lifecycle.py), for status and the agent's metrics."""
        self.engine = engine
        self.image = image
        self.clock = clock
        self.act = act
        self.record = record
        self.restarting = restarting  # told before each restart (the agent: that death is no crash)
        self.clocks: dict[str, tuple[tuple[str, int], ProbeClock]] = {}  # container -> ((id, started_at), clock)
        self.restarts: dict[str, int] = {}  # container -> restarts by this runner

    def watched(self, observed: ObservedState, pods: Collection[str] | None) -> list[ObservedContainer]:
        """The running, managed, non-init containers of `pods` (None: every managed pod) that have probes."""
        found = []
        for pod in observed.pods:
            if not pod.managed or (pods is not None and pod.name not in pods):
                continue
            for c in observed.containers_of(pod):
                if c.managed and c.labels.get(L.ROLE) != "init" and c.state is ContainerState.RUNNING:
                    found.append(c)
        return found

    def tick(self, observed: ObservedState, pods: Collection[str] | None = None) -> Round:
        now = self.clock()
        ready: set[str] = set()
        waiting: list[str] = []
        restarted: list[Restart] = []
        failed: list[Failed] = []
        seen = set()
        for c in self.watched(observed, pods):
            seen.add(c.name)
            probes = probes_from_spec(L.last_applied(c.labels))
            if not probes:
                ready.add(c.name)
                continue
            key = (c.id, c.started_at)
            known = self.clocks.get(c.name)
            if known is None or known[0] != key:
                known = (key, ProbeClock(probes, now))
                self.clocks[c.name] = known
            clock = known[1]
            target = _target(observed, c)
            for kind, probe in clock.due(now):
                result = self.engine.probe(target, probe, self.image)
                action = clock.record(kind, result, self.clock())
                if not result.ok:
                    failed.append(Failed(c.name, c.pod_name, kind, result.output, clock.counts[kind].failures))
                if action is Action.RESTART and self.act:
                    restarted.append(self._restart(observed, c, kind, restart_cause(kind, probe, result)))
                    del self.clocks[c.name]
                    break
            if c.name not in self.clocks:
                waiting.append(f"{c.name}: restarted ({restarted[-1].cause})")
            elif clock.ready:
                ready.add(c.name)
            else:
                waiting.append(f"{c.name}: {clock.waiting_for()}")
        for gone in set(self.clocks) - seen:
            del self.clocks[gone]
        return Round(frozenset(ready), tuple(waiting), tuple(restarted), tuple(failed))

    def _restart(self, observed: ObservedState, c: ObservedContainer, kind: ProbeKind, cause: str) -> Restart:
        grace = int((L.last_applied(c.labels) or {}).get("terminationGracePeriodSeconds") or 30)
        self.restarting(c.name)
        try:
            self.engine.run(Step(StepKind.RESTART_CONTAINER, c.name, cause, timeout=grace, pod_name=c.pod_name))
        except EngineError as error:
            return Restart(c.name, c.pod_name, kind, cause, error.message)
        self.restarts[c.name] = self.restarts.get(c.name, 0) + 1
        if self.record:
            from podspec.reconcile.lifecycle import restart_record_steps
            from podspec.run.history import now_utc

            try:
                for step in restart_record_steps(observed, c, now_utc(), cause):
                    self.engine.run(step)
            except EngineError as error:  # the restart happened; only its count is missing
                return Restart(c.name, c.pod_name, kind, cause, f"the restart was not counted: {error.message}")
        return Restart(c.name, c.pod_name, kind, cause)

    def next_due(self) -> float:
        return min((clock.next_due() for _, clock in self.clocks.values()), default=float("inf"))

    def close(self) -> None:
        try:
            self.engine.end_probes()
        except EngineError:
            pass


def _target(observed: ObservedState, c: ObservedContainer) -> ProbeTarget:
    pod = observed.pod(c.pod_name)
    infra = observed.infra_of(pod) if pod is not None else None
    return ProbeTarget(c.name, c.pod_name, infra.id if infra is not None else "")
