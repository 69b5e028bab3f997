"""Carrying out a plan with Deployment rollouts (reconcile/rollout.py decides the phases): each
batch of a Deployment's copies ready before the next is touched. Used by apply and by rollbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from podspec.errors import PodspecError, StepFailed

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine
    from podspec.model import DesiredState
    from podspec.plan import Plan, Step
    from podspec.run.executor import StopFlag
    from podspec.run.listener import Listener
    from podspec.run.results import Failure


@dataclass(frozen=True)
class Stopped:
    """Why a plan did not run to its end: a failed step, or a rollout that stalled."""

    failure: Failure
    done: int  # steps that ran
    failed_step: Step | None = None  # the step that failed (None: a stalled rollout)


def carry_out(engine: Engine, plan: Plan, desired: DesiredState, listener: Listener, *, parallel: int,
              probe_image: str = "", wait_timeout: float | None = None, stop: StopFlag | None = None) -> Stopped | None:
    """Run the plan phase by phase; between phases, wait for the batch of copies just replaced to be
    ready within its progressDeadlineSeconds (and `wait_timeout`, when the caller waits). None when
    every step ran."""
    from podspec.model import DesiredState as State
    from podspec.reconcile.rollout import phases
    from podspec.run.executor import execute
    from podspec.run.readiness import wait_ready
    from podspec.run.results import Failure

    parts = phases(plan, desired)
    done = 0
    for i, phase in enumerate(parts):
        later = tuple(s for p in parts[i + 1:] for s in p.plan.steps)
        try:
            execute(phase.plan, engine, listener.step, parallel=parallel, stop=stop)
        except StepFailed as failure:
            failed = next((s for s in phase.plan.steps if s not in failure.done and s not in failure.not_done), None)
            return Stopped(Failure(failure.message, failure.hint, failure.not_done + later), done + len(failure.done), failed)
        done += len(phase.plan.steps)
        if not phase.gate:
            continue
        names, what = ", ".join(p.name for p in phase.gate), ", ".join(phase.workloads)
        listener.info(f"Rollout of {what}: waiting for {names} to be ready before the next copies ...")
        deadline = min(phase.deadline, wait_timeout) if wait_timeout is not None else phase.deadline
        try:
            wait_ready(engine, State(pods=phase.gate), deadline, lambda _: None, probe_image=probe_image)
        except PodspecError as error:
            return Stopped(Failure(f"the rollout of {what} stalled: {error.message}; the copies not yet replaced keep "
                                   "the previous version", error.hint, later), done)
        listener.info(f"Rollout of {what}: {names} ready.")
    return None
