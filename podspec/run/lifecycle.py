"""`podspec stop` and `podspec start`: act on the pods podspec manages, from what the host records
(labels, stop marks), with no manifests. The decisions are reconcile/lifecycle.py's.

    stop(request, connect, listener)  -> LifecycleResult   marks each pod stopped on purpose, stops it
    start(request, connect, listener) -> LifecycleResult   removes the marks, starts the pods wave by
                                                           wave, waits for each wave to be ready

Neither takes the project lock: every step is one idempotent Podman call on a pod that exists, and
an apply that runs meanwhile reads the marks when it observes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from podspec.engine.protocol import Engine
from podspec.errors import PodspecError
from podspec.observed import ObservedState
from podspec.plan import Plan, Step
from podspec.reconcile import lifecycle as life
from podspec.reconcile.pod_diff import observed_grace
from podspec.run import PODS_AT_ONCE
from podspec.run.executor import execute
from podspec.run.history import now_utc
from podspec.run.listener import Listener


@dataclass(frozen=True)
class LifecycleRequest:
    pods: tuple[str, ...] = ()
    project: str | None = None
    every: bool = False  # --all
    wait: bool = True  # start: wait until each wave is ready (its probes pass)
    timeout: float = 120.0  # start: the readiness wait, for all waves together
    probe_image: str = ""  # the probe helper's image ("": busybox)
    parallel: int = PODS_AT_ONCE


@dataclass(frozen=True)
class LifecycleResult:
    command: str  # "stop" or "start"
    pods: tuple[str, ...]  # the pods acted on, in order
    waves: tuple[tuple[str, ...], ...]
    steps: tuple[Step, ...]  # the steps done
    ready: tuple[str, ...] = ()  # start: the pods found ready
    not_ready: str = ""  # start: why the wait ended before every pod was ready ("" when it did not)


def stop(request: LifecycleRequest, connect: Callable[[], Engine], listener: Listener | None = None) -> LifecycleResult:
    listener = listener or Listener()
    with closing(connect()) as engine:
        observed = engine.observe()
        pods = life.select(observed, request.pods, request.project, request.every)
        waves = life.start_waves(observed, pods)
        by_name = {p.name: p for p in pods}
        when = now_utc()
        done: list[Step] = []
        for wave in reversed(waves):  # stopped in the reverse of the start order
            steps = [s for name in wave for s in life.stop_steps(observed, by_name[name], when, observed_grace(observed, by_name[name]))]
            done += _run(engine, steps, request, listener)
    return LifecycleResult("stop", tuple(n for w in reversed(waves) for n in w), tuple(reversed(waves)), tuple(done))


def start(request: LifecycleRequest, connect: Callable[[], Engine], listener: Listener | None = None,
          clock: Callable[[], float] = time.monotonic) -> LifecycleResult:
    from podspec.run.readiness import wait_host_ready

    listener = listener or Listener()
    deadline = clock() + request.timeout
    not_ready = ""
    ready: list[str] = []
    with closing(connect()) as engine:
        observed = engine.observe()
        pods = life.select(observed, request.pods, request.project, request.every)
        waves = life.start_waves(observed, pods)
        done: list[Step] = []
        for wave in waves:
            observed = engine.observe() if done else observed  # what the waves before changed
            steps = [s for name in wave for s in _start_steps(observed, name)]
            done += _run(engine, steps, request, listener)
            if not request.wait or not_ready:
                continue
            try:
                wait_host_ready(engine, wave, max(0.0, deadline - clock()), listener.info, clock=clock,
                                probe_image=request.probe_image)
                ready += wave
            except PodspecError as error:
                not_ready = error.message  # the next waves are still started, without waiting
    return LifecycleResult("start", tuple(n for w in waves for n in w), waves, tuple(done), tuple(ready), not_ready)


def _start_steps(observed: ObservedState, name: str) -> tuple[Step, ...]:
    pod = observed.pod(name)
    if pod is None:  # removed meanwhile
        return ()
    return life.unmark_steps(observed, pod) + life.start_steps(observed, pod)


def _run(engine: Engine, steps: list[Step], request: LifecycleRequest, listener: Listener) -> list[Step]:
    if not steps:
        return []
    plan = Plan(request.project or "", tuple(steps))
    listener.planned(plan)
    return list(execute(plan, engine, listener.step, parallel=request.parallel))
