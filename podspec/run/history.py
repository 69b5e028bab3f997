"""Apply history on the host: write one record per apply, read them back, prune old ones.

    record(engine, record, observed)                  -> HistoryRecord   (one call, plus one per pruned record)
    read(engine, project, observed)                   -> records, newest first (Podman 5: no call beyond the
                                                         observe; 4.3: one inspect per record read)
    history(project, connect)                         -> HistoryResult   (the `podspec history` workflow)
    record_of(project, revision, outcome, diff, ...)  -> the HistoryRecord an apply result stands for

Where and why: reconcile/history.py (records live in the labels of podspec-owned Podman secrets,
which no prune removes). The sync agent calls `record` and `read` the same way `apply` does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Mapping

from podspec import labels as L
from podspec.engine.protocol import Engine
from podspec.errors import EngineError, Refusal
from podspec.names import HISTORY_LEGACY_PREFIX
from podspec.plan import Step, StepKind
from podspec.reconcile import history as H
from podspec.reconcile.changes import Action
from podspec.reconcile.diff import Diff
from podspec.reconcile.history import HistoryRecord

if TYPE_CHECKING:
    from podspec.model import DesiredState, Pod
    from podspec.observed import ObservedState
    from podspec.run.reports import HistoryResult

WRITE_ATTEMPTS = 3


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_of(project: str, revision: str, outcome: str, diff: Diff | None = None,
              not_done: tuple[Step, ...] = (), failed: Step | None = None, error: str = "",
              time: str = "", ran: bool = True, desired: DesiredState | None = None,
              observed: ObservedState | None = None) -> HistoryRecord:
    """The record of one apply (seq is filled in when written). A pod counts as changed only when
    every step of it ran; the pods of the failed step and of the steps not done are `not_done` (an
    apply refused before its first step passes ran=False: every pod it would have changed is not done).
    `desired` and `observed` (the host the plan was made from: the images its references named)
    give the pods to keep for a rollback: those that now run this revision."""
    if diff is None:
        return HistoryRecord(project, 0, revision, time or now_utc(), outcome, error=error)
    unfinished = {_pod_of(s) for s in (*not_done, *((failed,) if failed else ()))} - {""}
    changed = [p.name for p in diff.pods if p.changed and p.action is not Action.REMOVE]
    removed = [p.name for p in diff.pods if p.action is Action.REMOVE]
    if not ran:
        unfinished = set(changed) | set(removed)
    record = HistoryRecord(
        project=project, seq=0, revision=revision, time=time or now_utc(), outcome=outcome,
        summary=diff.summary(),
        changed=tuple(sorted(n for n in changed if n not in unfinished)),
        unchanged=tuple(sorted(diff.unchanged_pods)),
        removed=tuple(sorted(n for n in removed if n not in unfinished)),
        not_done=tuple(sorted(n for n in (*changed, *removed) if n in unfinished)),
        error=error,
    )
    return with_pods(record, desired, observed) if desired is not None else record


def with_pods(record: HistoryRecord, desired: DesiredState, observed: ObservedState | None) -> HistoryRecord:
    """`record` holding the pods that run its revision (as podcodec JSON) and the image ID each of
    their image references names on the host."""
    from podspec.reconcile import podcodec

    running = set(record.running)
    pods = {p.name: _encoded(p, podcodec.encode) for p in desired.pods if p.name in running}
    images: dict[str, str] = {}
    if observed is not None:
        for pod in desired.pods:
            for c in pod.all_containers():
                if pod.name in running:
                    found = observed.image_id(c.image)
                    if found is not None:
                        images[c.image] = found
    return replace(record, pods=pods, images=images)


# id(pod) -> (the pod, its podcodec encoding): the pull agent records the same pods (one DesiredState
# per revision, kept) at every repair; encoding 300 pods costs ~0.1 s of CPU each time.
_ENCODED: dict[int, tuple[Pod, dict[str, Any]]] = {}
_ENCODED_MOST = 4096


def _encoded(pod: Pod, encode: Callable[[Pod], dict[str, Any]]) -> dict[str, Any]:
    """`encode(pod)`, made once for as long as the very same pod object is recorded again."""
    hit = _ENCODED.get(id(pod))
    if hit is not None and hit[0] is pod:
        return hit[1]
    value = encode(pod)
    if len(_ENCODED) >= _ENCODED_MOST:
        _ENCODED.clear()
    _ENCODED[id(pod)] = (pod, value)
    return value


def _pod_of(step: Step) -> str:
    if step.lane:
        return step.lane
    if step.pod_name:
        return step.pod_name
    return step.target if step.kind in (StepKind.STOP_POD, StepKind.REMOVE_POD) else ""


def record(engine: Engine, record: HistoryRecord, observed: ObservedState | None = None,
           keep: int = H.KEEP) -> HistoryRecord:
    """Write `record` as the project's next one (one engine call), then remove the oldest beyond
    `keep`. `observed`: the host already read (saves the list calls)."""
    seen = engine.observe() if observed is None else observed
    known = H.entries(seen.secrets, seen.volumes, record.project)
    for attempt in range(WRITE_ATTEMPTS):
        written = replace(record, seq=H.next_seq(known))
        name = H.secret_name(written)
        labels = H.to_labels(written)
        try:
            engine.run(Step(StepKind.CREATE_SECRET, name, f"record apply {written.seq} of project {written.project}",
                            labels=tuple(sorted(labels.items())), data=labels[L.HISTORY].encode()))
            break
        except EngineError:
            # Another client wrote that seq meanwhile (or `observed` was stale): read again, take the next.
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            seen = engine.observe()
            known = H.entries(seen.secrets, seen.volumes, record.project)
    written = replace(written, volume=name)
    after = (*known, H.Entry(name, written.seq, H.project_key(written.project), H.fingerprint(written), labels))
    for old in H.to_prune(after, keep):
        legacy = old.name.startswith(HISTORY_LEGACY_PREFIX)
        kind = StepKind.REMOVE_VOLUME if legacy else StepKind.REMOVE_SECRET
        try:
            engine.run(Step(kind, old.name, "apply history: keep the newest records"))
        except EngineError as error:
            if error.reason is not Refusal.NOT_FOUND:
                raise
            # another client's apply pruned it first (applies with nothing to do take no lock)
    return written


def read(engine: Engine, project: str | None = None, observed: ObservedState | None = None,
         newest: int | None = None) -> tuple[HistoryRecord, ...]:
    """The records on the host (of one project, or every project), newest first; `newest`: only
    that many per project (each costs an inspect on Podman 4.3, which lists no secret labels)."""
    seen = engine.observe() if observed is None else observed
    known = H.entries(seen.secrets, seen.volumes, project)
    if newest is not None:
        by_project: dict[str, list[H.Entry]] = {}
        for e in known:
            by_project.setdefault(e.project_key, []).append(e)
        known = tuple(e for group in by_project.values() for e in sorted(group, key=lambda e: -e.seq)[:newest])
    labelled: dict[str, Mapping[str, str] | None] = {}
    for e in known:
        if e.labels is None:
            labelled[e.name] = engine.secret_labels(e.name)
    found = H.records(labelled, known)
    return tuple(r for r in found if project is None or r.project == project)


def history(project: str | None, connect: Callable[[], Engine]) -> HistoryResult:
    from podspec.run.reports import HistoryResult  # (the `history` command's: an apply records without it)

    with closing(connect()) as engine:
        return HistoryResult(project, read(engine, project))
