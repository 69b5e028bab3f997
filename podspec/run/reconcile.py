"""`diff` and `apply`: make the host match the manifests with the fewest Podman operations.

    diff(request, connect)            -> DiffResult     (reads the host; never pulls, never changes)
    apply(request, connect, listener) -> ApplyResult    (lock, observe, pull, diff, plan, execute, wait)

`connect` opens the engine; it is called only after the manifests and the policy passed, so bad
input needs no Podman and changes nothing. Errors are podspec's exceptions; a failed step is not an
exception but an ApplyResult with Outcome.FAILED, which says what was and was not done.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from podspec.reconcile import diff as differ
from podspec.run import images
from podspec.run.listener import Listener, Quiet
from podspec.run.manifests import Manifests, load, warn
from podspec.run.results import ApplyResult, DiffResult, Failure, Outcome

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine
    from podspec.model import DesiredState
    from podspec.observed import ObservedState
    from podspec.reconcile.diff import Diff


@dataclass(frozen=True)
class DiffRequest:
    manifests: Manifests
    project: str
    prune: bool = False
    prune_volumes: bool = False
    adopt: bool = False


@dataclass(frozen=True)
class ApplyRequest(DiffRequest):
    dry_run: bool = False
    wait: bool = False
    wait_timeout: float = 120.0
    lock_timeout: float = 60.0
    parallel: int = 3


def check_request(request: DiffRequest) -> None:
    """--prune-volumes widens --prune; alone it would do nothing, so it is refused."""
    if request.prune_volumes and not request.prune:
        from podspec.errors import UsageError

        raise UsageError("--prune-volumes only works with --prune", "pass both: --prune --prune-volumes")


def diff(request: DiffRequest, connect: Callable[[], Engine], listener: Listener | None = None) -> DiffResult:
    listener = listener or Quiet()
    check_request(request)
    desired = load(request.manifests)
    warn(desired, listener)
    with closing(connect()) as engine:
        # The same image checks as apply (an image that cannot be had, runAsNonRoot), without pulling.
        observed = images.prepare(engine, desired, engine.observe(), listener, pulling=False)
    return DiffResult(desired, _compute(desired, observed, request))


def _compute(desired: DesiredState, observed: ObservedState, request: DiffRequest) -> Diff:
    return differ.compute(desired, observed, request.project, prune=request.prune,
                          prune_volumes=request.prune_volumes, adopt=request.adopt)


def apply(request: ApplyRequest, connect: Callable[[], Engine], listener: Listener | None = None) -> ApplyResult:
    from podspec.errors import StepFailed
    from podspec.reconcile import planner
    from podspec.run.executor import execute
    from podspec.run.lock import project_lock
    from podspec.run.wait import wait_ready

    listener = listener or Quiet()
    check_request(request)
    desired = load(request.manifests)
    warn(desired, listener)
    with closing(connect()) as engine:
        waiting = lambda: listener.note(f"waiting for another podspec applying project {request.project!r} ...")
        with project_lock(engine.lock_key, request.project, request.lock_timeout, on_wait=waiting):
            observed = images.prepare(engine, desired, engine.observe(), listener, pulling=not request.dry_run)
            found = _compute(desired, observed, request)
            listener.diffed(found)
            plan = planner.build(found)  # conflicts raise here, before any change
            listener.planned(plan)
            result = ApplyResult(request.project, found, plan, Outcome.NO_CHANGES, warnings=desired.warnings)
            if request.dry_run:
                return replace(result, outcome=Outcome.DRY_RUN)
            if not plan.empty:
                try:
                    execute(plan, engine, listener.step, parallel=request.parallel)
                except StepFailed as failure:
                    return replace(result, outcome=Outcome.FAILED, steps_done=len(failure.done),
                                   failure=Failure(failure.message, failure.hint, failure.not_done))
                result = replace(result, outcome=Outcome.APPLIED, steps_done=len(plan.steps))
            if request.wait:
                wait_ready(engine, desired, request.wait_timeout, listener.info)
                result = replace(result, ready=True)
    return result
