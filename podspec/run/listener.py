"""How a workflow tells its caller what happens while it runs (the CLI prints it; the sync agent
logs it; tests collect it). Results come back as return values; this is only for what must be
seen before a workflow ends: notes, the diff and plan before anything changes, and each step."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podspec.plan import Plan
    from podspec.reconcile.diff import Diff
    from podspec.run.results import PullEvent, StepEvent


class Listener:
    """The base of every listener: each method does nothing, so a listener overrides only what it
    shows. A plain Listener() drops everything (the quiet one)."""

    def info(self, text: str) -> None:
        """Progress worth a line (a pull, waiting for the lock, readiness)."""

    def note(self, text: str) -> None:
        """A remark beside the output, never part of it (waiting for the lock)."""

    def warning(self, text: str) -> None:
        """Something the user should know that does not stop the command."""

    def diffed(self, diff: Diff) -> None:
        """The diff, before the plan is made (a conflict is raised after this)."""

    def planned(self, plan: Plan) -> None:
        """The plan, before any step runs."""

    def pull(self, event: PullEvent) -> None:
        """A pull started, moved on, finished or failed (called from one thread at a time)."""

    def step(self, event: StepEvent) -> None:
        """A step started, finished or failed."""


class Recorder(Listener):
    """A listener that keeps what it was told, in order (tests, and callers that report at the end)."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.events: list[StepEvent] = []
        self.pulls: list[PullEvent] = []
        self.diff: Diff | None = None
        self.plan: Plan | None = None

    def info(self, text: str) -> None:
        self.infos.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warning(self, text: str) -> None:
        self.warnings.append(text)

    def diffed(self, diff: Diff) -> None:
        self.diff = diff

    def planned(self, plan: Plan) -> None:
        self.plan = plan

    def pull(self, event: PullEvent) -> None:
        self.pulls.append(event)

    def step(self, event: StepEvent) -> None:
        self.events.append(event)
