"""`delete`: remove the pods the manifests define (only those podspec created for the project) and
their emptyDirs; named volumes only when asked. The decisions are reconcile/delete.py's."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing, nullcontext
from dataclasses import dataclass

from podspec.engine.protocol import Engine
from podspec.model import DesiredState
from podspec.observed import ObservedState
from podspec.reconcile import delete as deletion
from podspec.run import PODS_AT_ONCE
from podspec.run.executor import execute
from podspec.run.hostlock import DEFAULT_LEASE, host_lock
from podspec.run.listener import Listener
from podspec.run.lock import project_lock
from podspec.run.manifests import Manifests, load
from podspec.run.reports import DeleteResult


@dataclass(frozen=True)
class DeleteRequest:
    manifests: Manifests  # delete checks no policy: it only removes what podspec created
    project: str
    volumes: bool = False
    dry_run: bool = False
    lock_timeout: float = 60.0
    lock_lease: float | None = None  # the host-side lock's lease; None: run/hostlock.py's default
    parallel: int = PODS_AT_ONCE
    origin: str = ""  # the source of the manifests (run/origin.py): another source's objects are left alone
    force_conflicts: bool = False  # ... unless this
    former: str = ""  # a default project name: the one an older podspec gave (reconcile/former.py); "": given on purpose


def delete(request: DeleteRequest, connect: Callable[[], Engine], listener: Listener | None = None) -> DeleteResult:
    listener = listener or Listener()
    desired = load(request.manifests)
    with closing(connect()) as engine:
        if request.former:  # a default name: settled on what the host holds, before the lock it names
            request = _settled(request, engine.observe(), desired, listener)
        held = lambda holder: listener.note(f"waiting for {holder}, which is changing project {request.project!r} ...")
        with project_lock(engine.lock_key, request.project, request.lock_timeout), \
                (nullcontext() if request.dry_run else  # a dry run writes nothing on the host, not even a lock
                 host_lock(engine, request.project, request.lock_timeout, lease=request.lock_lease or DEFAULT_LEASE,
                           command="delete", on_wait=held, on_note=listener.note)):
            decided = deletion.plan(desired, engine.observe(), request.project, request.volumes,
                                    request.origin, request.force_conflicts)
            for line in decided.skipped:
                listener.info(line)
            listener.planned(decided.plan)
            if not request.dry_run:
                execute(decided.plan, engine, listener.step, parallel=request.parallel)
    kept = () if request.volumes else desired.volume_names()
    return DeleteResult(request.project, decided.plan, decided.skipped, request.dry_run, tuple(kept))


def _settled(request: DeleteRequest, observed: ObservedState, desired: DesiredState, listener: Listener) -> DeleteRequest:
    from dataclasses import replace

    from podspec.reconcile.former import keeps_former, notice

    if not keeps_former(observed, request.project, request.former, request.origin, desired):
        return replace(request, former="")
    listener.warning(notice(request.project, request.former))
    return replace(request, project=request.former, former="")
