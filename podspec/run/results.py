"""What apply and rollback return, and the events they report: plain frozen data for render
(text, JSON) and for exit codes. (diff's DiffResult is in diff_result.py and re-exported here; the
other commands' results are in reports.py: a diff, the command run most, defines none of these.)

No I/O here: render, a pure layer, reads these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from podspec.run.diff_result import DiffResult as DiffResult

if TYPE_CHECKING:  # types only: render and the CLI import this module at start-up
    from podspec.errors import Problem
    from podspec.observed import PullProgress
    from podspec.plan import Plan, Step
    from podspec.reconcile.diff import Diff
    from podspec.reconcile.history import HistoryRecord


class StepStatus(str, Enum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class StepEvent:
    index: int  # from 1, the step's place in the plan
    total: int
    step: Step
    status: StepStatus
    seconds: float = 0.0
    error: str = ""


class PullStatus(str, Enum):
    STARTED = "started"
    PROGRESS = "progress"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class PullEvent:
    """One pull started, moved on, finished or failed (pulls run side by side, before the plan)."""

    reference: str
    status: PullStatus
    policy: str = ""  # the imagePullPolicy that asked for the pull
    progress: PullProgress | None = None
    image_id: str = ""  # DONE: the image the reference now names
    size: int = 0  # DONE: bytes
    layers: int = 0
    seconds: float = 0.0  # DONE, FAILED: since it started
    error: str = ""  # FAILED: the cause, in words (never a credential)
    changed: bool = True  # DONE: False when the reference already named this image (nothing new)


class Outcome(str, Enum):
    APPLIED = "applied"
    NO_CHANGES = "no-changes"
    DRY_RUN = "dry-run"
    FAILED = "failed"


@dataclass(frozen=True)
class Failure:
    message: str
    hint: str
    not_done: tuple[Step, ...]


class RollbackOutcome(str, Enum):
    RESTORED = "restored"  # what ran before is back (and ready, when the apply waited)
    FAILED = "failed"  # the rollback itself failed: see `error`; the next apply or rollback converges


@dataclass(frozen=True)
class Rollback:
    """`apply --rollback-on-failure` after what it changed did not become ready: what failed, what
    was put back. The sync agent reports it (status, metrics, log, notification)."""

    reason: str  # what failed ("not ready after 30s: web-main: exited with code 1 ...")
    outcome: RollbackOutcome
    restored: tuple[str, ...] = ()  # pods put back as they were
    removed: tuple[str, ...] = ()  # pods the apply made, removed again
    steps_done: int = 0
    error: str = ""  # RollbackOutcome.FAILED: why
    seconds: float = 0.0  # from the failure (the readiness deadline) to the previous state ready again
    record: HistoryRecord | None = None  # the rollback's own history record

    @property
    def restored_ok(self) -> bool:
        return self.outcome is RollbackOutcome.RESTORED


@dataclass(frozen=True)
class ApplyResult:
    project: str
    diff: Diff
    plan: Plan
    outcome: Outcome
    steps_done: int = 0
    failure: Failure | None = None
    ready: bool | None = None  # True: --wait saw everything ready; None: not asked
    revision: str = ""  # what was applied (--revision, else the manifests' git commit)
    record: HistoryRecord | None = None  # the history record written on the host (None: dry run, or not written)
    warnings: tuple[Problem, ...] = ()  # fields only a cluster uses, ignored here
    rollback: Rollback | None = None  # --rollback-on-failure: what was put back after a failure
    restored_seq: int = 0  # `podspec rollback`: the history record put back
    pinned: tuple[str, ...] = ()  # `podspec rollback`: containers made from a recorded image ID (the tag moved)

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def pending(self) -> bool:
        """A dry run that found steps to take (exit code 2)."""
        return self.outcome is Outcome.DRY_RUN and not self.plan.empty
