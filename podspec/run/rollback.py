"""Rollbacks: put a recorded revision back without its files (reconcile/rollback.py decides).

    rollback(request, connect, listener) -> ApplyResult   (`podspec rollback [--to X] [--dry-run] [--wait]`)
    prepare(engine, observed, project, names) -> Before   (apply --rollback-on-failure, before its steps)
    undo(engine, before, project, reason, ...) -> Rollback (... after what it changed failed to become ready)

Both go through the same diff, planner and executor as an apply, under the same locks, and are
recorded in the history (outcome `rolled-back`). Killed part way, the host is left as any
interrupted apply leaves it: the next apply or rollback observes it again and converges.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from podspec.errors import PodspecError
from podspec.run import PODS_AT_ONCE
from podspec.run.listener import Listener

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine
    from podspec.model import DesiredState
    from podspec.observed import ObservedState
    from podspec.reconcile.history import HistoryRecord
    from podspec.reconcile.rollback import Before, Restore
    from podspec.run.results import ApplyResult, Rollback


@dataclass(frozen=True)
class RollbackRequest:
    project: str
    to: str = ""  # a record's # or a revision (prefix) from `podspec history`; "": the previous revision
    dry_run: bool = False
    wait: bool = False
    wait_timeout: float = 120.0
    lock_timeout: float = 60.0
    lock_lease: float | None = None
    parallel: int = PODS_AT_ONCE
    probe_image: str = ""  # --wait: the probe helper's image (engine/probes.py)


def rollback(request: RollbackRequest, connect: Callable[[], Engine], listener: Listener | None = None) -> ApplyResult:
    from podspec.run import history
    from podspec.run.hostlock import DEFAULT_LEASE, host_lock
    from podspec.run.lock import project_lock

    listener = listener or Listener()
    with closing(connect()) as engine:
        lease = (request.lock_lease or DEFAULT_LEASE) + (request.wait_timeout if request.wait else 0)
        waiting = lambda: listener.note(f"waiting for another podspec applying project {request.project!r} ...")
        held = lambda holder: listener.note(f"waiting for {holder}, which is applying project {request.project!r} ...")
        with project_lock(engine.lock_key, request.project, request.lock_timeout, on_wait=waiting), \
                (nullcontext() if request.dry_run else
                 host_lock(engine, request.project, request.lock_timeout, lease=lease, on_wait=held, on_note=listener.note)):
            from podspec.reconcile import rollback as R

            observed = engine.observe()
            records = history.read(engine, request.project, observed)
            target = R.choose(records, request.to)
            values = env_values(engine, observed, R.env_needed((target,)))
            restore = R.restore(target, records, observed, request.project, values)
            listener.info(f"Rolling back project {request.project!r} to {R.label(target)}, applied {target.time}.")
            result = put(engine, restore, observed, request.project, listener, parallel=request.parallel,
                         dry_run=request.dry_run, wait=request.wait, timeout=request.wait_timeout,
                         probe_image=request.probe_image)
            result = replace(result, restored_seq=target.seq, pinned=restore.pinned)
            if not request.dry_run:
                result = replace(result, record=_record(engine, listener, result, restore))
            return result


def put(engine: Engine, restore: Restore, observed: ObservedState, project: str, listener: Listener, *,
        parallel: int, dry_run: bool = False, wait: bool = False, timeout: float = 120.0,
        probe_image: str = "") -> ApplyResult:
    """Diff, plan and carry out `restore` (and wait for it to be ready): an ApplyResult, FAILED when a
    step failed or it did not become ready."""
    from podspec.reconcile import diff as differ
    from podspec.reconcile import planner
    from podspec.run.results import ApplyResult, Failure, Outcome

    found = differ.compute(restore.desired, observed, project)
    listener.diffed(found)
    plan = planner.build(found)
    if any(p.rollout is not None for p in restore.desired.pods):
        from podspec.reconcile.rollout import in_phase_order

        plan = in_phase_order(plan, restore.desired)
    listener.planned(plan)
    result = ApplyResult(project, found, plan, Outcome.NO_CHANGES if plan.empty else Outcome.APPLIED,
                         revision=restore.revision)
    if dry_run:
        return replace(result, outcome=Outcome.DRY_RUN)
    from podspec.run.rollout import carry_out

    stopped = carry_out(engine, plan, restore.desired, listener, parallel=parallel, probe_image=probe_image,
                        wait_timeout=timeout if wait else None)
    if stopped is not None:
        return replace(result, outcome=Outcome.FAILED, steps_done=stopped.done, failure=stopped.failure)
    result = replace(result, steps_done=len(plan.steps))
    if wait:
        from podspec.run.readiness import wait_ready

        try:
            wait_ready(engine, restore.desired, timeout, listener.info, probe_image=probe_image)
        except PodspecError as error:
            return replace(result, outcome=Outcome.FAILED, failure=Failure(error.message, error.hint, ()))
        result = replace(result, ready=True)
    return result


def _record(engine: Engine, listener: Listener, result: ApplyResult, restore: Restore) -> HistoryRecord | None:
    from podspec.reconcile.history import Outcome as HistoryOutcome
    from podspec.run import history

    failure = result.failure
    try:
        now = engine.observe()
        record = history.record_of(
            result.project, restore.revision, HistoryOutcome.ROLLED_BACK if not result.failed else "failed", result.diff,
            not_done=failure.not_done if failure else (), error=failure.message if failure else "",
            desired=restore.desired, observed=now)
        return history.record(engine, replace(record, restored=restore.seq), now)
    except PodspecError as error:
        listener.warning(f"could not record this rollback in the host's history: {error.message}")
        return None


def env_values(engine: Engine, observed: ObservedState, needed: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    """(env name, digest) -> value, for the secret-looking env values a rollback needs (kept in the
    history only as digests): read from the project's containers on the host that hold them (one
    inspect per container that has such a variable in its intent; none when nothing is needed)."""
    if not needed:
        return {}
    from podspec import labels as L
    from podspec.secrets import stored_env_value

    wanted = {(name, digest) for name, digest, _ in needed}
    names = {name for name, _ in wanted}
    found: dict[tuple[str, str], str] = {}
    for c in observed.containers:
        spec = L.last_applied(c.labels) if c.managed else None
        if not spec or not names & set(spec.get("env") or {}):
            continue
        try:
            env = (engine.inspect_container(c.name).get("Config") or {}).get("Env") or []
        except PodspecError:
            continue
        for entry in env:
            name, _, value = str(entry).partition("=")
            if name in names and (name, stored_env_value(name, value)) in wanted:
                found[(name, stored_env_value(name, value))] = value
        if len(found) == len(wanted):
            break
    return found


# ------------------------------------------------------------------- apply --rollback-on-failure


def prepare(engine: Engine, observed: ObservedState, project: str, names: Sequence[str]) -> Before:
    """Before an apply's steps: where the state of each pod it changes is recorded (RollbackRefused
    when one is in no record: the apply then changes nothing)."""
    from podspec.reconcile import rollback as R
    from podspec.run import history

    records = history.read(engine, project, observed)
    values = env_values(engine, observed, R.env_needed(records, names))
    return R.previous(records, observed, project, names, values)


def undo(engine: Engine, before: Before, project: str, reason: str, listener: Listener, *,
         parallel: int, wait: bool, timeout: float, probe_image: str = "", applied: DesiredState | None = None,
         ) -> tuple[Rollback, Callable[[], HistoryRecord | None]]:
    """Put `before` back after an apply failed (`reason`) and wait for it: what was done, and how to
    record it (called after the failed apply's own record, so that the history reads in order)."""
    from podspec.reconcile import rollback as R
    from podspec.run.results import Rollback, RollbackOutcome

    started = time.monotonic()
    listener.warning(f"{reason}; rolling back " + ", ".join(before.names))
    try:
        observed = engine.observe()
        values = env_values(engine, observed, R.env_needed([r for r, _ in before.pods], [n for _, n in before.pods]))
        restore = R.put_back(before, observed, project, values, applied)
        result = put(engine, restore, observed, project, listener, parallel=parallel, wait=wait, timeout=timeout,
                     probe_image=probe_image)
    except PodspecError as error:
        return Rollback(reason, RollbackOutcome.FAILED, error=error.message, seconds=time.monotonic() - started), lambda: None
    seconds = time.monotonic() - started
    recorder = lambda: _record(engine, listener, result, restore)
    removed = tuple(a.name for a in before.absent)
    restored = tuple(sorted(n for _, n in before.pods))
    if result.failed:
        assert result.failure is not None
        return Rollback(reason, RollbackOutcome.FAILED, restored, removed, result.steps_done, result.failure.message,
                        seconds), recorder
    return Rollback(reason, RollbackOutcome.RESTORED, restored, removed, result.steps_done, seconds=seconds), recorder
