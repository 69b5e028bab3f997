"""The executor: runs plan steps, reports each, stops at the first failure. It makes no decisions.

Steps run in plan order, except that consecutive steps of different lanes (different pods) may run
side by side, up to `parallel` lanes at once; within a lane the order is kept, and a step with no
lane waits for everything before it and runs alone. After a failure no further step starts; the
steps already running finish. A StopFlag raised from outside (the agent's SIGTERM) stops it the
same way: the step it reaches next fails as not started, without reaching Podman. Re-running apply
after a failure, a stop or a kill converges, because the next run observes the host again.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Protocol

from podspec.errors import EngineError, PodspecError, Refusal, StepFailed, Stopped
from podspec.plan import Plan, Step, StepKind
from podspec.run.results import StepEvent, StepStatus

__all__ = ["StepEvent", "StepRunner", "StepStatus", "StopFlag", "execute", "waves"]


class StepRunner(Protocol):
    def run(self, step: Step) -> None: ...


class StopFlag:
    """Raised from outside (a signal handler: a plain attribute, no lock) to ask the executor to
    start no further step; the steps in progress finish. `reason` and `hint` say why, in the failure
    of the step that was not started."""

    def __init__(self, reason: str, hint: str = "") -> None:
        self.reason, self.hint = reason, hint
        self.raised = False

    def raise_(self) -> None:
        self.raised = True


def waves(plan: Plan) -> list[list[list[tuple[int, Step]]]]:
    """The plan as waves (run one after another) of lanes (run side by side) of numbered steps."""
    result: list[list[list[tuple[int, Step]]]] = []
    current: dict[str, list[tuple[int, Step]]] = {}
    for index, step in enumerate(plan.steps, start=1):
        if not step.lane:
            if current:
                result.append(list(current.values()))
                current = {}
            result.append([[(index, step)]])
        else:
            current.setdefault(step.lane, []).append((index, step))
    if current:
        result.append(list(current.values()))
    return result


SUBNET_TRIES = 32  # other subnets a network's creation tries when the host uses the one planned


def _run(runner: StepRunner, step: Step) -> None:
    """One step. A network whose subnet the host uses without its Podman listing it (another Podman's
    bridge, a VPN's route: Podman refuses it, and the plan, made again, would choose it again) is
    created with the next free subnet of the pool instead."""
    try:
        runner.run(step)
    except EngineError as error:
        if step.kind is not StepKind.CREATE_NETWORK or error.reason is not Refusal.SUBNET_TAKEN or not step.subnet:
            raise
        from dataclasses import replace

        from podspec.reconcile.network import later_subnets

        for subnet in later_subnets(step.subnet, SUBNET_TRIES):
            try:
                runner.run(replace(step, subnet=subnet))
                return
            except EngineError as again:
                if again.reason is not Refusal.SUBNET_TAKEN:
                    raise
        raise


def execute(plan: Plan, runner: StepRunner, report: Callable[[StepEvent], None] = lambda e: None,
            clock: Callable[[], float] = time.monotonic, parallel: int = 1, stop: StopFlag | None = None) -> tuple[Step, ...]:
    """Run every step; return them. On failure, or once `stop` is raised, raise StepFailed with what
    was and was not done."""
    total = len(plan.steps)
    guard = threading.Lock()
    done: set[int] = set()
    failure: list[tuple[int, Step, PodspecError]] = []

    def emit(event: StepEvent) -> None:
        with guard:
            report(event)

    def run_lane(lane: list[tuple[int, Step]]) -> None:
        for index, step in lane:
            if failure:
                return
            emit(StepEvent(index, total, step, StepStatus.STARTED))
            began = clock()
            try:
                if stop is not None and stop.raised:
                    raise Stopped(f"not started: {step.describe()} ({stop.reason})", stop.hint)
                _run(runner, step)
            except PodspecError as error:
                with guard:
                    failure.append((index, step, error))
                emit(StepEvent(index, total, step, StepStatus.FAILED, clock() - began, error.message))
                return
            with guard:
                done.add(index)
            emit(StepEvent(index, total, step, StepStatus.DONE, clock() - began))

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        for wave in waves(plan):
            if failure:
                break
            if len(wave) == 1 or parallel <= 1:
                for lane in wave:
                    run_lane(lane)
            else:
                for future in [pool.submit(run_lane, lane) for lane in wave]:
                    future.result()

    if failure:
        index, step, error = min(failure, key=lambda f: f[0])
        raise StepFailed(
            f"step {index}/{total} failed: {step.describe()}: {error.message}",
            (error.hint + "; " if error.hint else "") + "run the command again once fixed: it starts from what is on the host",
            done=tuple(s for i, s in enumerate(plan.steps, start=1) if i in done),
            not_done=tuple(s for i, s in enumerate(plan.steps, start=1) if i not in done and i != index),
        )
    return plan.steps
