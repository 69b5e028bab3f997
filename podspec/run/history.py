"""Apply history on the host: write one record per apply, read them back, prune old ones.

    record(engine, project, revision, outcome, ...)   -> HistoryRecord   (one call, plus one per pruned record)
    read(engine, project)                             -> records, newest first (one list call)
    history(project, connect)                         -> HistoryResult   (the `podspec history` workflow)
    record_of(project, revision, outcome, diff, ...)  -> the HistoryRecord an apply result stands for

Where and why: reconcile/history.py (records live in the labels of empty, podspec-owned volumes).
The sync agent calls `record` and `read` the same way `apply` does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime

from podspec.engine.protocol import Engine
from podspec.errors import EngineError
from podspec.observed import ObservedVolume
from podspec.plan import Step, StepKind
from podspec.reconcile import history as H
from podspec.reconcile.changes import Action
from podspec.reconcile.diff import Diff
from podspec.reconcile.history import HistoryRecord
from podspec.run.results import HistoryResult

WRITE_ATTEMPTS = 3


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_of(project: str, revision: str, outcome: str, diff: Diff | None = None,
              not_done: tuple[Step, ...] = (), failed: Step | None = None, error: str = "",
              time: str = "", ran: bool = True) -> HistoryRecord:
    """The record of one apply (seq is filled in when written). A pod counts as changed only when
    every step of it ran; the pods of the failed step and of the steps not done are `not_done` (an
    apply refused before its first step passes ran=False: every pod it would have changed is not done)."""
    if diff is None:
        return HistoryRecord(project, 0, revision, time or now_utc(), outcome, error=error)
    unfinished = {_pod_of(s) for s in (*not_done, *((failed,) if failed else ()))} - {""}
    changed = [p.name for p in diff.pods if p.changed and p.action is not Action.REMOVE]
    removed = [p.name for p in diff.pods if p.action is Action.REMOVE]
    if not ran:
        unfinished = set(changed) | set(removed)
    return HistoryRecord(
        project=project, seq=0, revision=revision, time=time or now_utc(), outcome=outcome,
        summary=diff.summary(),
        changed=tuple(sorted(n for n in changed if n not in unfinished)),
        unchanged=tuple(sorted(diff.unchanged_pods)),
        removed=tuple(sorted(n for n in removed if n not in unfinished)),
        not_done=tuple(sorted(n for n in (*changed, *removed) if n in unfinished)),
        error=error,
    )


def _pod_of(step: Step) -> str:
    if step.lane:
        return step.lane
    if step.pod_name:
        return step.pod_name
    return step.target if step.kind in (StepKind.STOP_POD, StepKind.REMOVE_POD) else ""


def record(engine: Engine, record: HistoryRecord, volumes: tuple[ObservedVolume, ...] | None = None,
           keep: int = H.KEEP) -> HistoryRecord:
    """Write `record` as the project's next one (one engine call), then remove the oldest beyond
    `keep`. `volumes`: the volumes already observed (saves the list call)."""
    from dataclasses import replace

    seen = engine.list_volumes() if volumes is None else volumes
    for attempt in range(WRITE_ATTEMPTS):
        written = replace(record, seq=H.next_seq(seen, record.project))
        name = H.volume_name(written.project, written.seq)
        labels = tuple(sorted(H.to_labels(written).items()))
        try:
            engine.run(Step(StepKind.CREATE_VOLUME, name, f"record apply {written.seq} of project {written.project}",
                            labels=labels))
            break
        except EngineError:
            # Another client wrote that seq meanwhile (or `volumes` was stale): read again, take the next.
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            seen = engine.list_volumes()
    written = replace(written, volume=name)
    after = (*seen, ObservedVolume(name, dict(labels)))
    for old in H.to_prune(after, written.project, keep):
        try:
            engine.run(Step(StepKind.REMOVE_VOLUME, old, "apply history: keep the newest records"))
        except EngineError as error:
            if "no such volume" not in error.message.lower():
                raise
            # another client's apply pruned it first (applies with nothing to do take no lock)
    return written


def read(engine: Engine, project: str | None = None) -> tuple[HistoryRecord, ...]:
    """The records on the host (of one project, or every project), newest first."""
    return H.records(engine.list_volumes(), project)


def history(project: str | None, connect: Callable[[], Engine]) -> HistoryResult:
    with closing(connect()) as engine:
        return HistoryResult(project, read(engine, project))
