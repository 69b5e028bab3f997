"""`diff` and `apply`: make the host match the manifests with the fewest Podman operations.

    diff(request, connect)            -> DiffResult     (reads the host; never pulls, never changes;
                                                         request.save_plan: also the SavedPlan)
    apply(request, connect, listener) -> ApplyResult    (lock, observe, pull, diff, plan, execute, wait,
                                                         record; nothing to do: no lock; request.saved:
                                                         exactly that plan, or StalePlan)

`connect` opens the engine. The host is first read on a thread while the manifests load
(run/reading.py: Podman's answer hides the loading); bad input is still reported first, before any
error of Podman's, and changes nothing. What only runs after that read (the diff, the image checks,
the results) is imported while Podman answers. Errors are podspec's exceptions; a failed step is not
an exception but an ApplyResult with Outcome.FAILED, which says what was and was not done.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from podspec.errors import PodmanUnavailable, PodspecError
from podspec.run import PODS_AT_ONCE
from podspec.run.listener import Listener
from podspec.run.manifests import LoadOnce, Manifests, load, warn
from podspec.run.reading import HostReading

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine
    from podspec.model import DesiredState
    from podspec.observed import ObservedState
    from podspec.plan import Plan, Step
    from podspec.reconcile.diff import Diff
    from podspec.reconcile.history import HistoryRecord
    from podspec.reconcile.rollback import Before
    from podspec.reconcile.saved_plan import SavedPlan
    from podspec.run.diff_result import DiffResult
    from podspec.run.executor import StopFlag
    from podspec.run.results import ApplyResult
    from podspec.secrets import RegistryCredential


@dataclass(frozen=True)
class DiffRequest:
    """What `podspec diff` is asked: which manifests, against which project, and how."""

    manifests: Manifests
    project: str
    prune: bool = False
    prune_volumes: bool = False
    adopt: bool = False
    revision: str = ""  # what is applied, recorded in the host's history (the CLI: --revision, else git)
    save_plan: bool = False  # diff: also make a SavedPlan (DiffResult.saved)
    image_updates: bool = True  # False: io.containers.autoupdate is ignored (the agent's notify-only mode)
    origin: str = ""  # the source of the manifests (run/origin.py), recorded on what is created; "": none checked
    force_conflicts: bool = False  # change and prune objects another source applied (--force-conflicts)
    former: str = ""  # a default project name: the one an older podspec gave (reconcile/former.py); "": given on purpose
    shared: LoadOnce | None = None  # --target: the manifests loaded once for every target that names them
    # the probe helper's image ("": busybox; references.probe_helper_image): pulled as the pods' images
    # are when an httpGet or tcpSocket probe needs it, and used by --wait
    probe_image: str = ""
    # Only these pods (the agent's repair of the pods Podman's events named): the host is read for
    # their containers alone (observe(pods=...)), the other pods are neither read nor changed, and
    # what depends on every pod (pruning secrets and networks) waits for a whole read. None: all.
    pods: frozenset[str] | None = None


@dataclass(frozen=True)
class ApplyRequest(DiffRequest):
    """What `podspec apply` is asked: a diff's request, and how to carry out its plan."""

    dry_run: bool = False
    wait: bool = False
    wait_timeout: float = 120.0
    lock_timeout: float = 60.0
    lock_lease: float | None = None  # the host-side lock's lease; None: run/hostlock.py's default; --wait's timeout is added
    parallel: int = PODS_AT_ONCE
    saved: SavedPlan | None = None  # apply --plan: carry out exactly this plan, or refuse it as stale
    pull_parallel: int = 3  # pulls side by side, before the plan
    credentials: tuple[RegistryCredential, ...] = ()  # for pulls (an auth file's), by registry
    rollback_on_failure: bool = False  # a failed step, or (--wait) not ready in time: put back what ran before
    # The caller knows the host changed (the agent's repair of the pods Podman's events named): the
    # locks at once, with no reading before them to find out whether there is anything to do.
    changed: bool = False
    # An apply that found nothing to do is recorded too (`podspec apply` of a revision says it was
    # checked); the agent's repairs record only what they changed (a dead job, a restart Podman made
    # by itself: many events, nothing to record).
    record_no_changes: bool = True


_R = TypeVar("_R", bound=DiffRequest)


def check_request(request: DiffRequest) -> None:
    """--prune-volumes widens --prune; alone it would do nothing, so it is refused."""
    if request.prune_volumes and not request.prune:
        from podspec.errors import UsageError

        raise UsageError("--prune-volumes only works with --prune", "pass both: --prune --prune-volumes")


def diff(request: DiffRequest, connect: Callable[[], Engine], listener: Listener | None = None) -> DiffResult:
    listener = listener or Listener()
    check_request(request)
    with HostReading(connect, pods=request.pods, images=()) as reading:  # the images: once the manifests name them
        desired = _desired(request)
        reading.read_images(_images_wanted(desired, request))  # beside the rest of the read
        warn(desired, listener)
        _import_deciders(planning=False)
        engine = reading.engine()
    from podspec.references import probe_helper_image
    from podspec.run import pulls, rootless
    from podspec.run.diff_result import DiffResult

    with closing(engine):
        desired = with_node_name(engine, desired)
        rootless.check(engine, desired)  # what a rootless Podman cannot do: refused as apply refuses it
        rootless.check_links(engine, desired, request.manifests.policy)  # hostPaths where Podman follows links
        first = reading.observed()
        request = settled(request, first, desired, listener)
        # The same image checks as apply (an image that cannot be had, runAsNonRoot), without pulling.
        observed = pulls.prepare(engine, _looked_at(desired, request), first, listener, pulling=False,
                                 probe_image=probe_helper_image(request.probe_image))
    desired, found = _compute(desired, observed, request)
    saved = None
    if request.save_plan and not found.conflicts:
        from podspec.run import history, saved_plan

        saved = saved_plan.make(request.manifests.paths, request.project, request.revision, desired, first, found,
                           request.prune, request.prune_volumes, request.adopt, history.now_utc(), request.force_conflicts)
    return DiffResult(desired, found, saved)


def settled(request: _R, observed: ObservedState, desired: DesiredState, listener: Listener) -> _R:
    """The request with its project settled: a default name gives way to the name an older podspec
    gave these manifests where the host holds them under it (reconcile/former.py), said so."""
    if not request.former:
        return request
    from podspec.reconcile.former import keeps_former, notice

    if not keeps_former(observed, request.project, request.former, request.origin, desired):
        return replace(request, former="")
    listener.warning(notice(request.project, request.former))
    return replace(request, project=request.former, former="")


def _desired(request: DiffRequest) -> DesiredState:
    desired = request.shared.load(request.manifests) if request.shared is not None else load(request.manifests)
    if not request.image_updates:
        from podspec.reconcile.autoupdate import without_updates

        desired = without_updates(desired)
    return desired


def with_node_name(engine: Engine, desired: DesiredState) -> DesiredState:
    """fieldRef spec.nodeName: the host's name, from the host facts read once per engine (GET /info,
    asked only when the manifests use it)."""
    if not desired.uses_node_name:
        return desired
    from podspec.reconcile.nodename import with_node_name as put

    hostname = engine.host().hostname
    if not hostname:
        raise PodspecError(f"Podman at {engine.url} reports no host name, which fieldRef spec.nodeName gives",
                           "set the variable's value instead; nothing was changed")
    return put(desired, hostname)


def _images_wanted(desired: DesiredState, request: DiffRequest) -> frozenset[str]:
    """The images a diff or apply reads from the host: those the manifests name (and the probe
    helper's), once they are loaded. HostReading.read_images() reads them while Podman still
    answers the container list: an inspect of each name they may be stored under costs Podman 1-2
    ms, the whole list ~5 ms an image on the host on Podman 4.3 (engine/parse.image_names)."""
    from podspec.reconcile.pulls import references
    from podspec.references import probe_helper_image

    return references(desired, probe_helper_image(request.probe_image))


def _looked_at(desired: DesiredState, request: DiffRequest) -> DesiredState:
    """The pods whose images an apply pulls and checks: all, or those of ApplyRequest.pods (all
    with image-volumes-mount annotations: every pod's mounts are resolved from the images read)."""
    if request.pods is None or desired.uses_image_mounts:
        return desired
    return replace(desired, pods=tuple(p for p in desired.pods if p.name in request.pods))


def _import_deciders(planning: bool) -> None:
    """Import what runs after the host is read (the diff and its network part, the image checks,
    the rootless checks and the local service's facts they read, the result; for apply the planner,
    the history and apply's results: ~20 ms of a no-op's start-up), while Podman answers the read."""
    from podspec.engine import local  # noqa: F401
    from podspec.reconcile import diff, network  # noqa: F401
    from podspec.run import diff_result, pulls, rootless  # noqa: F401

    if planning:
        from podspec.reconcile import planner  # noqa: F401
        from podspec.run import history, results  # noqa: F401


def _compute(desired: DesiredState, observed: ObservedState, request: DiffRequest) -> tuple[DesiredState, Diff]:
    """The desired state with each Deployment copy under the Podman name it runs (or surges) under
    (reconcile/copies.py: what the plan, --wait and the history then speak of), each container's
    image-volumes-mount annotation resolved into its mounts (reconcile/imagemounts.py, from the
    images' VOLUME paths that run/pulls.py read), and the diff."""
    from podspec.reconcile import diff as differ

    if desired.uses_image_mounts:  # (imported only then)
        from podspec.reconcile.imagemounts import with_image_mounts

        desired = with_image_mounts(desired, dict(observed.image_volumes))
    if any(p.rollout is not None for p in desired.pods):  # (imported only for Deployments)
        from podspec.reconcile.copies import place

        desired = place(desired, observed, request.project)
    return desired, differ.compute(desired, observed, request.project, prune=request.prune,
                                   prune_volumes=request.prune_volumes, adopt=request.adopt,
                                   origin=request.origin, force_conflicts=request.force_conflicts)


def apply(request: ApplyRequest, connect: Callable[[], Engine], listener: Listener | None = None,
          stop: StopFlag | None = None) -> ApplyResult:
    """Observe, pull, diff, plan, execute, wait; then record the apply in the host's history
    (run/history.py): every apply that read the host is recorded, also one that changed nothing or
    failed; a dry run is not. `stop`, once raised, lets no further step start (the pull agent's
    SIGTERM): the apply then fails as after a failed step.

    An apply that finds nothing to do (no step, no pull, no conflict, no check refused) ends there,
    without the project's locks, as `diff` takes none: it changed nothing for a lock to protect.
    Any other apply takes the locks and reads the host again under them, and only that reading is
    planned and carried out (another apply may have changed the host in between)."""
    listener = listener or Listener()
    check_request(request)
    # A dry run and a saved plan read the host under the lock: for them the thread only connects.
    first_read = not request.dry_run and request.saved is None and not request.changed
    # A default project name is settled on what the host holds (reconcile/former.py), before any lock.
    with HostReading(connect, observe=first_read or bool(request.former), pods=request.pods, images=()) as reading:
        desired = _desired(request)
        if first_read:
            reading.read_images(_images_wanted(desired, request))  # beside the rest of the read
        warn(desired, listener)
        if request.saved is not None:
            from podspec.run import saved_plan

            saved_plan.check_manifests(request.saved)  # before any error of Podman's
        _import_deciders(planning=True)
        engine = reading.engine()
    from podspec.run import rootless

    with closing(engine):
        desired = with_node_name(engine, desired)
        rootless.check(engine, desired)  # rootless limits: refused before any lock, pull or change
        rootless.check_links(engine, desired, request.manifests.policy)  # hostPaths where Podman follows links
        if request.former:
            request = settled(request, reading.observed(), desired, listener)
        unchanged = _nothing_to_do(engine, reading.observed(), desired, request) if first_read else None
        if unchanged is not None:
            return _recorded(engine, request, listener, lambda seen: _no_changes(engine, request, listener, seen, *unchanged))
        from podspec.run.hostlock import DEFAULT_LEASE, host_lock
        from podspec.run.lock import project_lock

        waiting = lambda: listener.note(f"waiting for another podspec applying project {request.project!r} ...")
        held = lambda holder: listener.note(f"waiting for {holder}, which is applying project {request.project!r} ...")
        lease = (request.lock_lease or DEFAULT_LEASE) + (request.wait_timeout if request.wait else 0)
        with project_lock(engine.lock_key, request.project, request.lock_timeout, on_wait=waiting), \
                (nullcontext() if request.dry_run else  # a dry run writes nothing on the host, not even a lock
                 host_lock(engine, request.project, request.lock_timeout, lease=lease, on_wait=held, on_note=listener.note)):
            return _recorded(engine, request, listener, lambda seen: _apply_locked(engine, desired, request, listener, seen, stop))


def _recorded(engine: Engine, request: ApplyRequest, listener: Listener, run: Callable[[_Seen], ApplyResult]) -> ApplyResult:
    """`run`'s result, recorded in the host's history (a dry run: not recorded); an error is
    recorded as a failed apply, then raised."""
    from podspec.run import history
    from podspec.run.results import Outcome

    seen = _Seen()
    try:
        result = run(seen)
    except PodmanUnavailable:
        raise  # nothing to record it on
    except PodspecError as error:
        if not request.dry_run:
            _record(engine, listener, history.record_of(
                request.project, request.revision, Outcome.FAILED.value, seen.diff,
                error=error.message, ran=seen.ran, desired=seen.desired, observed=seen.observed), seen.observed)
        raise
    if result.outcome is Outcome.DRY_RUN or (result.outcome is Outcome.NO_CHANGES and not request.record_no_changes):
        return result
    failure = result.failure
    record = history.record_of(request.project, request.revision, result.outcome.value, result.diff,
                               not_done=failure.not_done if failure else (), failed=seen.failed,
                               error=failure.message if failure else "")
    from podspec.reconcile import history as H

    # Nothing changed and the newest record says just that of this revision: it stands for this apply.
    # (Told without the pods a record keeps for a rollback: they are no part of what it says.)
    same = None
    if seen.observed is not None:
        same = H.repeated(H.entries(seen.observed.secrets, seen.observed.volumes, request.project), record)
    if same is not None:
        return replace(result, record=replace(record, seq=same.seq, volume=same.name))
    if seen.desired is not None:
        record = history.with_pods(record, seen.desired, seen.observed)
    result = replace(result, record=_record(engine, listener, record, seen.observed))
    if seen.record_rollback is not None and result.rollback is not None:
        result = replace(result, rollback=replace(result.rollback, record=seen.record_rollback()))
    return result


@dataclass
class _Seen:
    """What an apply had seen when it stopped: for the history record of a failed apply."""

    diff: Diff | None = None
    ran: bool = False  # the plan's steps have run (a later error: --wait)
    failed: Step | None = None
    observed: ObservedState | None = None  # the host the plan was made from
    desired: DesiredState | None = None
    record_rollback: Callable[[], HistoryRecord | None] | None = None  # --rollback-on-failure: after the apply's record


def _nothing_to_do(engine: Engine, observed: ObservedState, desired: DesiredState,
                   request: ApplyRequest) -> tuple[DesiredState, ObservedState, Diff, Plan] | None:
    """The host as first read, without a lock: what it holds and the (empty) plan when the apply has
    nothing to do; None when it has something to do, or an error to report, or cannot tell: the
    locked path then does it all again (and reports the error as it always did)."""
    from podspec.reconcile import planner
    from podspec.reconcile.pulls import needs
    from podspec.references import probe_helper_image
    from podspec.run import pulls

    probe_image = probe_helper_image(request.probe_image)
    if any(need.pull for need in needs(_looked_at(desired, request), observed, probe_image)):
        return None  # a pull may change what the plan finds (and is a change on the host)
    try:
        # the checks; nothing to pull
        observed = pulls.prepare(engine, _looked_at(desired, request), observed, Listener(), pulling=True,
                                 probe_image=probe_image)
        desired, found = _compute(desired, observed, request)
        if found.conflicts or found.has_changes:
            return None
        plan = planner.build(found)
    except PodmanUnavailable:
        raise
    except PodspecError:
        return None
    return (desired, observed, found, plan) if plan.empty else None


def _no_changes(engine: Engine, request: ApplyRequest, listener: Listener, seen: _Seen, desired: DesiredState,
                observed: ObservedState, found: Diff, plan: Plan) -> ApplyResult:
    """The end of an apply that had nothing to do: what it found, and --wait."""
    from podspec.run.results import ApplyResult, Outcome

    seen.observed, seen.desired, seen.diff, seen.ran = observed, desired, found, True
    listener.diffed(found)
    listener.planned(plan)
    result = ApplyResult(request.project, found, plan, Outcome.NO_CHANGES, revision=request.revision,
                         warnings=desired.warnings)
    if request.wait:
        from podspec.run.readiness import wait_ready

        wait_ready(engine, desired, request.wait_timeout, listener.info, probe_image=request.probe_image,
                   project=request.project)
        result = replace(result, ready=True)
    return result


def _apply_locked(engine: Engine, desired: DesiredState, request: ApplyRequest, listener: Listener,
                  seen: _Seen, stop: StopFlag | None = None) -> ApplyResult:
    from podspec.reconcile import planner
    from podspec.references import probe_helper_image
    from podspec.run import pulls
    from podspec.run.results import ApplyResult, Failure, Outcome

    observed = engine.observe() if request.pods is None else engine.observe(request.pods)
    seen.observed, seen.desired = observed, desired
    saved = request.saved
    if saved is not None:  # the host as the plan saw it, before any pull
        from podspec.reconcile import saved_plan
        from podspec.run.saved_plan import stale

        differences = saved_plan.stale_host(saved.host, saved_plan.host_view(
            desired, observed, request.project, request.prune, request.prune_volumes))
        if differences:
            raise stale(differences)
    # With a saved plan, only absent images are pulled: a tag that moved would change the plan.
    observed = pulls.prepare(engine, _looked_at(desired, request), observed, listener, pulling=not request.dry_run,
                              refresh=saved is None, credentials={c.registry: c for c in request.credentials},
                              parallel=request.pull_parallel, probe_image=probe_helper_image(request.probe_image))
    desired, found = _compute(desired, observed, request)
    seen.diff, seen.observed, seen.desired = found, observed, desired  # (the images as pulled: the record keeps their IDs)
    listener.diffed(found)
    plan = planner.build(found)  # conflicts raise here, before any change
    _check_free_ports(engine, observed, found)
    if saved is not None:
        differences = saved_plan.stale_steps(saved.steps, saved_plan.saved_steps(plan))
        if differences:
            raise stale(differences)
    plan = _in_phase_order(plan, desired)
    listener.planned(plan)
    result = ApplyResult(request.project, found, plan, Outcome.NO_CHANGES if plan.empty else Outcome.APPLIED,
                         revision=request.revision, warnings=desired.warnings)
    if request.dry_run:
        return replace(result, outcome=Outcome.DRY_RUN)
    before = None
    if request.rollback_on_failure and not plan.empty:
        from podspec.run import rollback

        # Where what runs now is recorded, before anything changes (refused: nothing changes).
        before = rollback.prepare(engine, observed, request.project, [p.name for p in found.pods])
        plan, held = _holding_back(plan)
    if not plan.empty:
        from podspec.run.rollout import carry_out

        stopped = carry_out(engine, plan, desired, listener, parallel=request.parallel, probe_image=request.probe_image,
                            wait_timeout=request.wait_timeout if request.wait else None, stop=stop)
        if stopped is not None:
            seen.failed = stopped.failed_step
            result = replace(result, outcome=Outcome.FAILED, steps_done=stopped.done, failure=stopped.failure)
            return _rolled_back(engine, request, listener, result, before, seen)
        result = replace(result, steps_done=len(plan.steps))
    seen.ran = True
    if request.wait:
        from podspec.run.readiness import wait_ready

        try:
            wait_ready(engine, desired, request.wait_timeout, listener.info, probe_image=request.probe_image,
                       project=request.project)
        except PodspecError as error:
            if before is None:
                raise
            result = replace(result, outcome=Outcome.FAILED, failure=Failure(error.message, error.hint, ()))
            return _rolled_back(engine, request, listener, result, before, seen)
        result = replace(result, ready=True)
    if before is not None and held.steps:  # ready: the old values are not needed for a rollback any more
        from podspec.run.executor import execute

        execute(held, engine, listener.step, parallel=request.parallel)
    return result


def _in_phase_order(plan: Plan, desired: DesiredState) -> Plan:
    if not any(p.rollout is not None for p in desired.pods):
        return plan
    from podspec.reconcile.rollout import in_phase_order

    return in_phase_order(plan, desired)


def _holding_back(plan: Plan) -> tuple[Plan, Plan]:
    """--rollback-on-failure: the plan without its removals of Podman secrets (old ConfigMap and
    Secret values: a rollback reads them), and those, for once what the apply made is ready."""
    from podspec.plan import Plan, StepKind

    held = tuple(s for s in plan.steps if s.kind is StepKind.REMOVE_SECRET)
    return (Plan(plan.project, tuple(s for s in plan.steps if s.kind is not StepKind.REMOVE_SECRET)),
            Plan(plan.project, held))


def _rolled_back(engine: Engine, request: ApplyRequest, listener: Listener, result: ApplyResult,
                 before: Before | None, seen: _Seen) -> ApplyResult:
    """A failed apply's result; with --rollback-on-failure, after putting back what ran before."""
    if before is None:
        return result
    from podspec.run import rollback

    assert result.failure is not None
    done, seen.record_rollback = rollback.undo(engine, before, request.project, result.failure.message, listener,
                                               parallel=request.parallel, wait=request.wait, timeout=request.wait_timeout,
                                               probe_image=request.probe_image, applied=seen.desired)
    return replace(result, rollback=done)


def _record(engine: Engine, listener: Listener, record: HistoryRecord,
            observed: ObservedState | None) -> HistoryRecord | None:
    """Write the record; a record that cannot be written is a warning, never the apply's failure."""
    from podspec.run import history

    try:
        return history.record(engine, record, observed)
    except PodspecError as error:
        listener.warning(f"could not record this apply in the host's history: {error.message}")
        return None


def _check_free_ports(engine: Engine, observed: ObservedState, found: Diff) -> None:
    """A host port the plan publishes that a process of the host holds is named before any change
    (a local service only: a remote machine's ports are not visible; Podman then says so itself)."""
    from podspec.reconcile import ports

    wanted = ports.to_probe(observed, found.pods)
    if not wanted:
        return
    busy = engine.ports_in_use(sorted({(p.ip, p.port, p.protocol) for _, p in wanted}))
    if not busy:
        return
    from podspec.errors import ConflictError

    lines = [f"pod {pod}: host port {port} is in use by another process on the host"
             for pod, port in wanted if (port.ip, port.port, port.protocol) in busy]
    raise ConflictError("host ports the plan would publish are taken:\n  " + "\n  ".join(lines),
                        "stop what listens there, or choose another hostPort; nothing was changed")
