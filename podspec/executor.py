"""The executor: runs plan steps in order, reports each, stops at the first failure.

It makes no decisions. Re-running apply after a failure or a kill converges, because the next run
observes the host again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Protocol

from podspec.errors import PodspecError, StepFailed
from podspec.planner import Plan, Step


class StepRunner(Protocol):
    def run(self, step: Step) -> None: ...


class StepStatus(str, Enum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class StepEvent:
    index: int  # from 1
    total: int
    step: Step
    status: StepStatus
    seconds: float = 0.0
    error: str = ""


def execute(plan: Plan, runner: StepRunner, report: Callable[[StepEvent], None] = lambda e: None,
            clock: Callable[[], float] | None = None) -> tuple[Step, ...]:
    """Run every step; return them. On failure raise StepFailed with what was and was not done."""
    import time

    now = clock or time.monotonic
    total = len(plan.steps)
    for index, step in enumerate(plan.steps, start=1):
        report(StepEvent(index, total, step, StepStatus.STARTED))
        began = now()
        try:
            runner.run(step)
        except PodspecError as error:
            report(StepEvent(index, total, step, StepStatus.FAILED, now() - began, error.message))
            raise StepFailed(
                f"step {index}/{total} failed: {step.describe()}: {error.message}",
                (error.hint + "; " if error.hint else "") + "run apply again after fixing it: it starts from what is on the host",
                done=plan.steps[: index - 1],
                not_done=plan.steps[index:],
            ) from None
        report(StepEvent(index, total, step, StepStatus.DONE, now() - began))
    return plan.steps
