"""What validate, delete, status, export and history return: plain frozen data for render (text,
JSON) and for exit codes, as results.py holds diff's and apply's (apart, so that those do not define
these at every start-up).

No I/O here: render, a pure layer, reads these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only
    from podspec.model import DesiredState
    from podspec.plan import Plan
    from podspec.reconcile.history import HistoryRecord
    from podspec.reconcile.status import PodReport
    from podspec.run.sync.state import AgentState


@dataclass(frozen=True)
class ValidateResult:
    desired: DesiredState


@dataclass(frozen=True)
class DeleteResult:
    project: str
    plan: Plan
    skipped: tuple[str, ...]  # what was left alone, and why
    dry_run: bool
    volumes_kept: tuple[str, ...]  # the manifests' named volumes, kept because --volumes was not given


@dataclass(frozen=True)
class StatusResult:
    project: str | None  # the project asked for; None: every project
    pods: tuple[PodReport, ...]
    agents: tuple[AgentState, ...] = ()  # the pull agents (`podspec sync`) found in the state directory


@dataclass(frozen=True)
class ExportResult:
    text: str  # the manifests, YAML or a JSON Kubernetes List
    pods: int
    claims: int
    notes: tuple[str, ...]  # what could not be exported faithfully
    redacted: int  # secret-looking env values and probe headers written as (redacted)


@dataclass(frozen=True)
class HistoryResult:
    project: str | None  # the project asked for; None: every project
    records: tuple[HistoryRecord, ...]  # newest first
