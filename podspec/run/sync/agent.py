"""`podspec sync`: keep the host on a git branch, and repair hand changes within seconds.

    sync(request, connect, log) -> SyncResult

A round: fetch the branch into the state directory; judge its head (reconcile/sync.py: new,
current, known bad, a rewind, unsigned); a new head is checked out, validated with the policy
(before any Podman call) and applied with the same workflow as `podspec apply`, and its revision
recorded. Whatever the head, the round ends by repairing drift against the revision on the host (with the
event stream connected, a whole read only every `resync` seconds: see below). A head that fails validation,
policy, signature or ancestry is refused for good (until the next commit) and the host stays on
the last good revision; a fetch or apply that fails is retried with capped exponential backoff.

With self-heal, Podman's event stream (events.py) wakes the loop; events are debounced, and only
the pods they name are read and diffed against the applied revision, by the same apply workflow
(locks, plan, executor, history; the restart rules of apply decide what is drift), so a repair
costs the same with 3 pods or 300. A pod repaired again and again is held back (a crash loop) and
reported. While the stream is connected a round trusts it and reads the whole host only every
`resync` seconds (a full resync, as controllers resync); without it (no --self-heal, the stream
lost) every round reads the whole host, and a stream connected again is followed by a whole read.

The long-running process (loop.py) sleeps in select() on a wake-up pipe (signals, events) with a
timeout to the next thing due, and asks the Agent for a round, a repair or to take events in.
SIGTERM/SIGINT raise the agent's stop flag: the step in progress finishes and no other starts (the
apply ends as after a failed step and releases the lock), the state is written, exit 0. SIGHUP: a
round now.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from podspec.engine.protocol import Engine
from podspec.errors import InvalidRevision, KeyUnavailable, ManifestError, PodspecError, SyncError
from podspec.loader.sops import Decrypt
from podspec.plan import StepKind
from podspec.policy import Policy
from podspec.reconcile.autoupdate import UpdateMode
from podspec.reconcile.diff import Diff
from podspec.reconcile.notices import Event, EventKind, ImageChange
from podspec.reconcile.sync import (
    ENDING,
    STARTING,
    Act,
    Backoff,
    CrashTracker,
    Debouncer,
    Head,
    HealthRestarts,
    OwnSteps,
    Verdict,
    drift_pod,
    event_pod,
    is_start,
    judge,
    may_restart_itself,
    whole_read_due,
)
from podspec.run import PODS_AT_ONCE
from podspec.run.executor import StopFlag
from podspec.run.lock import project_lock
from podspec.run.manifests import LoadOnce, Manifests
from podspec.run.origin import for_repository
from podspec.run.results import ApplyResult, Outcome, StepEvent, StepStatus
from podspec.run.sync import state as saved
from podspec.run.sync.git import Repository
from podspec.run.sync.log import AgentLog, LogListener
from podspec.run.sync.state import AgentState, HistoryWriter, Revision
from podspec.secrets import RegistryCredential, redact_url


@dataclass(frozen=True)
class SyncRequest:
    source: str  # a git URL (ssh, https, file) or a local repository
    branch: str
    paths: tuple[str, ...]  # inside the repository
    project: str
    state_dir: Path
    policy: Policy
    interval: float = 60.0
    prune: bool = False
    self_heal: bool = False
    once: bool = False
    verify_signatures: bool = False
    allowed_signers: Path | None = None
    gpg_home: Path | None = None
    allow_rewind: bool = False
    metrics_address: tuple[str, int] | None = None
    backoff: Backoff = Backoff()
    lock_timeout: float = 600.0
    parallel: int = PODS_AT_ONCE
    debounce: float = 0.2  # seconds of quiet after a burst of events before the repair
    # With --self-heal and the event stream connected: a whole read of the host at most this often
    # (the rounds between trust the stream); without the stream every round reads the whole host.
    resync: float = 300.0
    probes: bool = True  # run the pods' probes (restart on failing liveness/startup; run/sync/probing.py)
    probe_image: str = ""  # the probe helper's image ("": busybox; engine/probes.py)
    notify: tuple[str, ...] = ()  # URLs that get a JSON event for each applied, failed, ... revision
    notify_secret: bytes | None = field(default=None, repr=False)  # signs the events' bodies (HMAC-SHA256)
    webhook_secret: bytes | None = field(default=None, repr=False)  # the receiver (/hooks/...) is on when set
    image_updates: UpdateMode = UpdateMode.APPLY  # io.containers.autoupdate images: apply, notify or off
    image_interval: float = 300.0  # seconds between image checks
    credentials: tuple[RegistryCredential, ...] = ()  # an auth file's, for pulls and image checks
    registries_conf: str = ""  # the text of Podman's registries.conf here (which registries are insecure)
    # SOPS-encrypted manifests: decrypted with the host's key (run/sops.py); None: sops is not asked
    decrypt: Decrypt | None = field(default=None, repr=False)
    # A new commit must become ready within this many seconds (apply --wait), else it is rolled back
    # (apply --rollback-on-failure), marked bad and not retried until a new commit; None: no gate.
    ready_timeout: float | None = None


UPDATE_READY_TIMEOUT = 120.0  # seconds an image update has to become ready (without --rollback-on-failure)


@dataclass(frozen=True)
class SyncResult:
    ok: bool  # --once: the host is on the branch's head and the round saw no error
    state: AgentState


def check_request(request: SyncRequest) -> None:
    from podspec.errors import UsageError

    if request.source.startswith("-"):
        raise UsageError(f"the source {redact_url(request.source)!r} looks like an option", "pass a git URL or a path")
    if not request.branch or request.branch.startswith("-") or any(c in request.branch for c in " ~^:?*[\\") \
            or ".." in request.branch:
        raise UsageError(f"--branch {request.branch!r} is not a branch name", "for example --branch main")
    for path in request.paths:
        parts = Path(path).parts
        if Path(path).is_absolute() or ".." in parts:
            raise UsageError(f"--path {path!r} leaves the repository", "give a directory inside it, e.g. --path manifests")
    if request.interval <= 0:
        raise UsageError("--interval must be more than 0 seconds", "for example --interval 60s")
    if request.resync <= 0:
        raise UsageError("--resync must be more than 0 seconds", "for example --resync 5m")
    if request.image_interval <= 0:
        raise UsageError("--image-interval must be more than 0 seconds", "for example --image-interval 5m")
    if request.verify_signatures and request.allowed_signers is None and request.gpg_home is None:
        raise UsageError("--verify-signatures needs keys to trust",
                         "pass --allowed-signers FILE (SSH signatures) or --gpg-home DIR (an OpenPGP keyring)")


def sync(request: SyncRequest, connect: Callable[[], Engine], log: AgentLog, recorder: HistoryWriter | None = None) -> SyncResult:
    check_request(request)
    agent = Agent(request, connect, log, recorder or saved.HostHistory(connect))
    if request.once:
        ok = agent.once()
    else:
        from podspec.run.sync.loop import Loop

        ok = Loop(agent).run()
    return SyncResult(ok, agent.state)


def changed_pods(diff: Diff) -> tuple[str, ...]:
    return tuple(sorted(p.name for p in diff.pods if p.action is not None or p.containers))


def _one_line(text: str, checkout: Path) -> str:
    return "; ".join(line.strip() for line in text.replace(str(checkout) + os.sep, "").splitlines() if line.strip())


RESTART_SLACK = 30.0  # seconds: a container's death this soon after the probes' restart of it began is the restart's


class Recording(LogListener):
    """The apply's log lines, and what its steps did to containers: each step that ends or starts
    containers (reconcile/sync.ENDING, STARTING), once it is done or failed, becomes an Act with
    when it began and ended (wall clock) for the agent's OwnSteps: the crash-loop rule tells by
    them which deaths the agent caused (and which starts it made)."""

    def __init__(self, log: AgentLog, revision: str, record: Callable[[Act], None],
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(log, revision)
        self.record = record
        self.clock = clock
        self.began: dict[tuple[int, str, str], float] = {}  # (index, kind, target) -> when the step began

    def step(self, event: StepEvent) -> None:
        super().step(event)
        step = event.step
        if step.kind not in ENDING and step.kind not in STARTING:
            return
        key = (event.index, step.kind.value, step.target)
        if event.status is StepStatus.STARTED:
            self.began[key] = self.clock()
            return
        began = self.began.pop(key, None)
        ended = self.clock()
        self.record(Act.of(step, ended if began is None else began, ended))


class Agent:
    def __init__(self, request: SyncRequest, connect: Callable[[], Engine], log: AgentLog, recorder: HistoryWriter) -> None:
        self.request = request
        self.connect = connect
        self.log = log
        self.recorder = recorder
        self.dir = saved.project_dir(request.state_dir, request.project)
        saved.make_private(request.state_dir, self.dir)  # 0700, whoever starts the agent
        self.repo = Repository(self.dir / "repo.git")
        self.state = self._initial_state()
        self.crash = CrashTracker()
        self.health = HealthRestarts()  # Podman's own --health-on-failure=restart restarts, from the events
        self.debounce = Debouncer(quiet=request.debounce)
        # SIGTERM raises it: no further step of an apply starts (the one in progress finishes, the
        # executor stops as after a failed step, the lock is released), no further round starts
        self.stop = StopFlag("the agent was asked to stop", "the agent applies the rest when it starts again")
        self.metrics: Any = None
        self._held_logged: set[str] = set()
        self.own = OwnSteps()  # what the agent's own steps did to containers, for the crash-loop rule
        self._restarting: dict[str, float] = {}  # container -> when the probes' restart of it began (wall clock)
        self.probes: Any = None  # the probe loop (run/sync/probing.py), while the agent runs
        self._signature = ""  # git's words on the head's signature, when checked
        self.notifier: Any = None  # run/sync/notify.Notifier when --notify is given
        self._last_failure_told: tuple[str, str | None, str] | None = None
        self._images: dict[str, Any] = {}  # image -> reconcile.agent_page.ImageLine, for the page
        self._told_available: dict[str, str] = {}  # image -> the digest told as available (notify-only)
        self._updated: dict[str, str] = {}  # image -> the last update applied ("DIGEST at TIME"), for the page
        self._held_images: dict[str, str] = {}  # image -> a digest whose update was rolled back (not tried again)
        self._loaded: tuple[str, LoadOnce] | None = None  # the applied revision's manifests, loaded once
        self._last_whole: float | None = None  # when the last read of the whole host for drift began (monotonic)
        # when the event stream now read was connected (monotonic; None: none): set by the loop
        self.stream_since: Callable[[], float | None] = lambda: None

    def _initial_state(self) -> AgentState:
        r = self.request
        fresh = AgentState(r.project, redact_url(r.source), r.branch, r.paths, os.getpid(), running=True)
        prior = saved.read(r.state_dir, r.project)
        if prior is None:
            return fresh
        if (redact_url(prior.source), prior.branch) != (redact_url(r.source), r.branch):
            self.log.warning("new-source", previous=f"{redact_url(prior.source)}#{prior.branch}",
                             message="the revision applied from the previous source is not compared with this one")
            return fresh
        return replace(fresh, applied=prior.applied, applied_at=prior.applied_at, refused=prior.refused, rejected=prior.rejected,
                       drift_repairs=prior.drift_repairs)

    # --------------------------------------------------------------------------- notifications

    def tell(self, kind: EventKind, outcome: str, message: str = "", pods: tuple[str, ...] = (),
             revision: str | None = None, images: tuple[ImageChange, ...] = ()) -> None:
        """An event for the --notify URLs (queued: never blocks). The API for every part of the
        agent that has something to report (applies, failures, rollbacks, repairs, image updates)."""
        if self.notifier is None:
            return
        r = self.request
        self.notifier.send(Event(kind, r.project, revision if revision is not None else (self.state.applied or ""),
                                 outcome, time.time(), message, tuple(pods), images, redact_url(r.source), r.branch))

    def start_notifier(self) -> None:
        if self.request.notify and self.notifier is None:
            from podspec.run.sync.notify import Notifier

            self.notifier = Notifier(self.request.notify, self.request.notify_secret, self.log)

    def stop_notifier(self) -> None:
        if self.notifier is not None:
            self.notifier.close()
            self.notifier = None

    # --------------------------------------------------------------------------- bookkeeping

    def save(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        saved.write(self.request.state_dir, self.state)

    def _record(self, revision: str, outcome: str, message: str = "", steps: int = 0) -> None:
        r = self.request
        try:
            self.recorder.record(Revision(r.project, revision, outcome, message, redact_url(r.source), r.branch, steps))
        except PodspecError as exc:
            self.log.warning("record-failed", revision=revision[:12], message=exc.message)

    def _failed(self, kind: str, message: str, revision: str | None, backoff: bool) -> None:
        failures = self.state.failures + 1 if backoff else self.state.failures
        self.save(last_error=message, error_revision=revision, failures=failures)
        delay = self.request.backoff.delay(failures) if backoff else None
        self.log.error(kind, revision=revision[:12] if revision else None, message=message,
                       retry_in=f"{delay:g}s" if delay is not None else None)
        if self.metrics:
            self.metrics.failed(kind)
        told = (kind, revision, message)
        if kind not in ("invalid", "unsigned", "rewind") and told != self._last_failure_told:
            self._last_failure_told = told  # a failure repeated round after round is told once
            self.tell(EventKind.FAILED, kind, message, revision=revision or self.state.applied or "")

    def _refuse(self, kind: str, revision: str, message: str) -> None:
        """A head that must never reach the host: logged, and recorded in the history once. An
        invalid one is left until the next commit; one refused for trust (unsigned, a rewind) is
        judged again each round, since flags may change."""
        first = revision not in (self.state.refused, self.state.rejected)
        self.save(**({"refused": revision} if kind == "invalid" else {"rejected": revision}))
        self._failed(kind, message, revision, backoff=False)
        if first:
            self._record(revision, "refused" if kind != "invalid" else "invalid", message)
            self.tell(EventKind.REFUSED, kind, message, revision=revision)

    def _succeeded(self) -> None:
        self.save(failures=0, last_error=None, error_revision=None)
        self._last_failure_told = None
        if self.metrics:
            self.metrics.last_success.set(time.time())

    # --------------------------------------------------------------------------- one round

    def once(self) -> bool:
        from podspec.run.sync.loop import install_signals, restore_handlers

        previous = install_signals(self.stop, lambda: None, None)  # SIGHUP: this round is the one
        self.start_notifier()
        try:
            ok = self.round()
        finally:
            self.stop_notifier()
            self.save(running=False, next_round=None)
            restore_handlers(previous)
        if self.stop.raised:
            self.log.info("stopped", revision=(self.state.applied or "")[:12] or None)
            return True
        return ok

    def round(self) -> bool:
        """Fetch, judge, apply or refuse, repair. True when the host ends on the head with no error."""
        with project_lock(f"sync-state:{self.dir}", self.request.project, self.request.lock_timeout):
            if self.metrics:
                self.metrics.rounds.inc()
            try:
                head = self.repo.fetch(self.request.source, self.request.branch)
            except SyncError as exc:
                self._failed("fetch", exc.message, None, backoff=True)
                self._drift()
                return False
            self.save(last_fetch=time.time(), fetched=head)
            verdict = self._judge(head)
            if verdict is Verdict.APPLY:
                return self.apply_revision(head)
            if verdict is not Verdict.CURRENT:
                return self._not_applied(verdict, head)
            if self._drift():
                self._succeeded()
                return True
            return False

    def _judge(self, head: str) -> Verdict:
        applied, r = self.state.applied, self.request
        if head == applied:
            return Verdict.CURRENT
        signed = None
        if r.verify_signatures:
            signature = self.repo.verify(head, r.allowed_signers, r.gpg_home)
            signed = signature.ok
            self._signature = signature.detail
        descends = self.repo.descends(applied, head) if applied else None
        return judge(Head(head, descends, signed), applied, self.state.refused, r.allow_rewind)

    def _not_applied(self, verdict: Verdict, head: str) -> bool:
        repeated = self.state.rejected == head and not self.request.once  # --once: say it every run
        if verdict is Verdict.UNSIGNED and not repeated:
            self._refuse("unsigned", head, f"commit {head[:12]} has no signature by an allowed key: {self._signature}")
        elif verdict is Verdict.REWIND and not repeated:
            self._refuse("rewind", head, f"commit {head[:12]} does not descend from the applied revision "
                         f"{(self.state.applied or '')[:12]} (a force-push or a rollback); pass --allow-rewind to accept it")
        elif verdict is Verdict.KNOWN_BAD and self.request.once:
            self.log.error("invalid", revision=head[:12], message=f"still refused: {self.state.last_error}")
        self._drift()
        return False

    def apply_revision(self, head: str) -> bool:
        checkout = self.dir / "checkouts" / head
        try:
            self.repo.checkout(head, checkout, self.request.paths)
            manifests = self._manifests(checkout)
            self._shared(head, manifests)  # validation and policy, before any Podman call
        except SyncError as exc:
            if not isinstance(exc, InvalidRevision):  # git could not write the files out: try again
                self._failed("checkout", exc.message, head, backoff=True)
                return False
            shutil.rmtree(checkout, ignore_errors=True)
            self._refuse("invalid", head, _one_line(exc.message, checkout))
            self._drift()
            return False
        except KeyUnavailable as exc:  # this host lacks the key (or sops): the same commit may pass once it has it
            shutil.rmtree(checkout, ignore_errors=True)
            self._failed("decrypt", _one_line(f"{exc.message}: {exc}", checkout), head, backoff=True)
            self._drift()
            return False
        except PodspecError as exc:  # invalid manifests or policy; a missing --path
            shutil.rmtree(checkout, ignore_errors=True)
            what = f"{exc.message}: {exc}" if isinstance(exc, ManifestError) else exc.message
            self._refuse("invalid", head, _one_line(what, checkout))
            self._drift()
            return False
        subject = self.repo.subject(head)
        self.log.info("applying", revision=head[:12], subject=subject)
        result = self._apply(manifests, head)
        if result is None:
            return False
        self.save(applied=head, applied_at=time.time(), refused=None, rejected=None)
        self.log.info("applied", revision=head[:12], outcome=result.outcome.value, steps=result.steps_done)
        if self.metrics:
            self.metrics.applies.labels(self.request.project, result.outcome.value).inc()
            self.metrics.applied(head, self.request.branch)
        self._drop_old_checkouts(head)
        self._succeeded()
        self.tell(EventKind.APPLIED, result.outcome.value, subject, changed_pods(result.diff), revision=head)
        return True

    def _checked_out(self, applied: str, checkout: Path) -> Path:
        """`checkout`: the applied revision's files under the request's paths, checked out again when
        they are gone (a restart, a cleanup): drift repairs and image checks read the same files."""
        if not checkout.is_dir():
            self.repo.checkout(applied, checkout, self.request.paths)
        return checkout

    def _manifests(self, checkout: Path) -> Manifests:
        return Manifests(tuple(str(checkout / p) for p in self.request.paths), self.request.policy,
                         decrypt=self.request.decrypt)

    def _shared(self, revision: str, manifests: Manifests) -> LoadOnce:
        """The manifests of `revision` loaded (validated, policy checked, decrypted) once for all the
        applies, repairs and image checks of that revision: a revision's files never change. Raises
        as load() does; a failed load is not kept (a key the host gets later is tried again)."""
        if self._loaded is None or self._loaded[0] != revision:
            once = LoadOnce()
            once.load(manifests)
            self._loaded = (revision, once)
        return self._loaded[1]

    def _apply(self, manifests: Manifests, revision: str, update: bool = False,
               pods: frozenset[str] | None = None, changed: bool = False) -> ApplyResult | None:
        """The apply workflow (lock, observe, diff, plan, execute); None when it failed (reported).
        `update`: an image update, always behind the readiness gate (--rollback-on-failure's
        timeout, else UPDATE_READY_TIMEOUT); its rollback is returned to the caller, which keeps
        the revision and holds the image back instead of marking the commit bad. `pods`: only
        those pods are read and repaired (ApplyRequest.pods); `changed`: the locks at once
        (ApplyRequest.changed)."""
        from podspec.run.apply import ApplyRequest, apply

        r = self.request
        gated = r.ready_timeout is not None or update
        try:
            shared = self._shared(revision, manifests)
        except PodspecError as exc:
            self._failed("apply", _one_line(exc.message, self.dir), revision, backoff=True)
            return None
        request = ApplyRequest(manifests=manifests, project=r.project, prune=r.prune, origin=for_repository(r.source),
                               lock_timeout=r.lock_timeout, parallel=r.parallel, revision=revision,
                               credentials=r.credentials, image_updates=r.image_updates is not UpdateMode.NOTIFY,
                               wait=gated, wait_timeout=r.ready_timeout or (UPDATE_READY_TIMEOUT if update else 0.0),
                               rollback_on_failure=gated, probe_image=r.probe_image,
                               shared=shared, pods=pods, changed=changed, record_no_changes=pods is None)
        whole = time.monotonic()
        try:
            result = apply(request, self.connect, Recording(self.log, revision, self.own.record), stop=self.stop)
        except PodspecError as exc:
            self._failed("apply", _one_line(exc.message, self.dir), revision, backoff=True)
            return None  # recorded by apply when it got as far as the lock
        if pods is None:
            self._last_whole = whole  # the apply read the whole host: drift in it is repaired
        if result.outcome is Outcome.FAILED and self.stop.raised:
            self.log.info("interrupted", revision=revision[:12], steps=result.steps_done,
                          message="asked to stop: the step in progress finished, the rest waits for the next start")
            return None
        if result.rollback is not None:
            if update:
                return result
            self._bad(revision, result)
            return None
        if result.outcome is Outcome.FAILED:
            message = result.failure.message if result.failure else "a step failed"
            self._failed("apply", message, revision, backoff=True)
            return None
        if self.probes is not None and result.steps_done:
            self.probes.poke()  # new or started containers: their probes start now
        return result

    def _bad(self, revision: str, result: ApplyResult) -> None:
        """A commit whose pods did not become ready, rolled back by the apply: marked bad (not tried
        again until a new commit), the last good revision keeps running. The history holds the
        failed apply and the rollback (written by the apply)."""
        rollback = result.rollback
        assert rollback is not None
        restored = "rolled back" if rollback.restored_ok else f"the rollback failed too ({rollback.error})"
        message = f"{rollback.reason}; {restored}; marked bad until a new commit"
        kind = "rolled-back" if rollback.restored_ok else "rollback-failed"
        self.save(refused=revision, last_error=message, error_revision=revision)
        self.log.error(kind, revision=revision[:12], message=message, restored=",".join(rollback.restored) or None,
                       removed=",".join(rollback.removed) or None, seconds=f"{rollback.seconds:.1f}",
                       back_to=(self.state.applied or "")[:12] or None)
        if self.metrics:
            self.metrics.failed(kind)
        self.tell(EventKind.ROLLED_BACK, "restored" if rollback.restored_ok else "failed", message,
                  pods=rollback.restored + rollback.removed, revision=revision)

    def _drop_old_checkouts(self, keep: str) -> None:
        for old in (self.dir / "checkouts").iterdir():
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)

    # --------------------------------------------------------------------------- drift

    def _drift(self) -> bool:
        """A round's look for drift: a whole read of the host, unless the event stream has named
        every pod that changed since the last one (reconcile/sync.whole_read_due). True: nothing left."""
        if not whole_read_due(time.monotonic(), self._last_whole, self.request.resync, self.stream_since()):
            return True
        return self.repair("interval")

    def repair(self, why: str) -> bool:
        """Make the host match the applied revision again (a diff first: no lock, no change when
        nothing drifted). Pods held back for crash-looping are left alone. True: nothing left to do."""
        applied = self.state.applied
        if applied is None:
            return True
        checkout = self.dir / "checkouts" / applied
        from podspec.run.apply import DiffRequest, diff

        began = time.monotonic()
        try:
            manifests = self._manifests(self._checked_out(applied, checkout))
            found = diff(DiffRequest(manifests=manifests, project=self.request.project, prune=self.request.prune,
                                     image_updates=self.request.image_updates is not UpdateMode.NOTIFY,
                                     origin=for_repository(self.request.source), probe_image=self.request.probe_image,
                                     shared=self._shared(applied, manifests)),
                         self.connect).diff
        except PodspecError as exc:
            self._failed("observe", _one_line(exc.message, checkout), applied, backoff=True)
            return False
        self._last_whole = began
        now = time.monotonic()
        changed = changed_pods(found)
        todo = self._not_held(changed, now)
        held = [pod for pod in changed if pod not in todo]
        if not todo and not found.volumes:
            return not held
        self.log.info("drift", why=why, revision=applied[:12], pods=",".join(todo) or None)
        result = self._apply(manifests, applied)
        if result is None:
            self._last_whole = None  # the drift is still there: the next round reads everything again
            return False
        self._repaired(why, todo, applied, result)
        return True

    def repair_pods(self, pods: frozenset[str]) -> bool:
        """Repair the pods Podman's events named, reading only them (the apply workflow with
        ApplyRequest.pods: the same locks, checks, plan, executor and history as any apply; the pods
        are read once, under the locks: events say they changed). "" among `pods` (the stream was lost:
        events may be missing), or a Deployment among the manifests (its copies are placed from a
        read of every pod): a whole repair. True: nothing left to do."""
        applied = self.state.applied
        if applied is None:
            return True
        if "" in pods:
            return self.repair("event")
        checkout = self.dir / "checkouts" / applied
        try:
            manifests = self._manifests(self._checked_out(applied, checkout))
            desired = self._shared(applied, manifests).load(manifests)
        except PodspecError as exc:
            self._failed("observe", _one_line(exc.message, checkout), applied, backoff=True)
            self._last_whole = None
            return False
        if any(p.rollout is not None for p in desired.pods):
            return self.repair("event")
        todo = self._not_held(sorted(pods), time.monotonic())
        if not todo:
            return False
        # Events named these pods: they changed. One read of them, under the locks (Podman loads every
        # container to filter its list: at 300 pods ~0.3 s a read, against ~1.9 s unfiltered; bench/README.md).
        result = self._apply(manifests, applied, pods=frozenset(todo), changed=True)
        if result is None:
            self._last_whole = None  # the next round (brought forward by the backoff) reads everything
            return False
        if result.steps_done:
            repaired = list(changed_pods(result.diff))
            self.log.info("drift", why="event", revision=applied[:12], pods=",".join(repaired) or None)
            self._repaired("event", repaired, applied, result)
        return True

    def _not_held(self, pods: Sequence[str], now: float) -> list[str]:
        """`pods` without those held back for crash-looping (logged once when they change)."""
        held = [pod for pod in pods if self.crash.held(pod, now)]
        if set(held) - self._held_logged:
            self.log.warning("held-back", pods=",".join(held), message="crash loop: repair backed off")
        self._held_logged = set(held)
        return [pod for pod in pods if pod not in held]

    def _repaired(self, why: str, pods: Sequence[str], applied: str, result: ApplyResult) -> None:
        if not result.steps_done:
            return
        self.save(drift_repairs=self.state.drift_repairs + 1)
        self.log.info("repaired", why=why, pods=",".join(pods), steps=result.steps_done)
        self.tell(EventKind.REPAIRED, "repaired", f"drift repaired ({why}): {result.steps_done} steps",
                  tuple(pods), revision=applied)
        if self.metrics:
            self.metrics.repairs.inc()

    def _held(self, pod: str, until: float, now: float) -> None:
        rule = self.crash.rule
        self.log.warning("crash-loop", pod=pod, held_for=f"{until - now:g}s",
                         message=f"containers of pod {pod} died {rule.deaths} times within {rule.window:g}s; "
                                 f"the agent will not repair it for {until - now:g}s")
        self._save_crash_loops(now)

    def _save_crash_loops(self, now: float) -> None:
        wall = time.time()
        looping = {pod: wall + (until - now) for pod, until in self.crash.looping(now).items()}
        self.save(crash_loops=looping)
        if self.metrics:
            self.metrics.crash_loops.set(len(looping))

    def unexpected(self, error: PodspecError) -> None:
        """An error no step of a round or a repair expected: logged, and retried with backoff (a
        whole read: what the round or repair did not finish is not known)."""
        self._last_whole = None
        self._failed("round", error.message, None, backoff=True)

    # --------------------------------------------------------------------------- what the loop asks

    def image_lines(self) -> tuple[Any, ...]:
        """The watched images' states, for the status page."""
        return tuple(line for _, line in sorted(self._images.items()))

    # --------------------------------------------------------------------------- image updates

    def check_images_locked(self) -> bool:
        with project_lock(f"sync-state:{self.dir}", self.request.project, self.request.lock_timeout):
            return self.check_images()

    def check_images(self) -> bool:
        """Check the applied revision's io.containers.autoupdate images (one observe; one registry
        request per distinct `registry` image); apply or tell what moved. True: nothing failed."""
        from contextlib import closing

        from podspec.names import container_name
        from podspec.reconcile import autoupdate, pulls
        from podspec.reconcile.agent_page import ImageLine
        from podspec.run.sync.autoupdate import RegistryCheckFailed, RegistryClient
        from podspec.secrets import credential_for

        applied = self.state.applied
        if applied is None:
            return True
        checkout = self.dir / "checkouts" / applied
        try:
            manifests = self._manifests(self._checked_out(applied, checkout))
            desired = self._shared(applied, manifests).load(manifests)
            watches = autoupdate.watched(desired)
            if not watches:
                self._images = {}
                return True
            with closing(self.connect()) as engine:
                observed = engine.observe()
            if any(p.rollout is not None for p in desired.pods):  # copies under the names they run under
                from podspec.reconcile.copies import place

                desired = place(desired, observed, self.request.project)
                watches = autoupdate.watched(desired)
        except PodspecError as exc:
            self._failed("images", _one_line(exc.message, checkout), applied, backoff=False)
            return False
        client = RegistryClient(self.request.registries_conf)
        auth = {c.registry: c for c in self.request.credentials}
        from_secrets = pulls.pull_secret_credentials(desired)
        pod_of = {container_name(p.name, c.name): p.name for p in desired.pods for c in p.all_containers()}
        now, changes, ok = time.time(), [], True
        for watch in watches:
            try:
                if watch.mode is autoupdate.AutoUpdate.LOCAL:
                    change = autoupdate.local_change(watch, observed)
                else:
                    credential = credential_for(watch.image, {**auth, **from_secrets.get(watch.image, {})})
                    change = autoupdate.registry_change(watch, client.digest(watch.image, credential), observed)
            except RegistryCheckFailed as exc:
                ok = False
                self._images[watch.image] = ImageLine(watch.image, watch.mode.value, f"check failed: {exc.message}", now,
                                                      watch.containers)
                self.log.warning("image-check-failed", image=watch.image, message=exc.message)
                continue
            if change is not None and self._held_images.get(watch.image) == change.available:
                self._images[watch.image] = ImageLine(watch.image, watch.mode.value,
                                                      f"update {change.available[:19]} rolled back: held", now,
                                                      watch.containers, self._updated.get(watch.image, ""))
                continue
            state = "current" if change is None else "update available"
            self._images[watch.image] = ImageLine(watch.image, watch.mode.value, state, now, watch.containers,
                                                  self._updated.get(watch.image, ""))
            if change is not None:
                changes.append(change)
        self.log.info("image-check", images=len(watches), updates=len(changes) or None)
        if changes:
            self._image_updates(tuple(changes), manifests, applied, pod_of)
        return ok

    def _image_updates(self, changes: tuple[ImageChange, ...], manifests: Manifests, applied: str,
                       pod_of: dict[str, str]) -> None:
        from dataclasses import replace as with_state

        pods = tuple(sorted({pod_of.get(c, c) for change in changes for c in change.containers}))
        what = ", ".join(f"{c.image} ({c.running[:19] or '?'} -> {c.available[:19]})" for c in changes)
        if self.request.image_updates is UpdateMode.NOTIFY:
            new = tuple(c for c in changes if self._told_available.get(c.image) != c.available)
            for c in new:
                self._told_available[c.image] = c.available
            if new:
                self.log.info("image-update-available", images=what, pods=",".join(pods))
                self.tell(EventKind.IMAGE_UPDATE, "available", f"image update available (not applied: notify-only): {what}",
                          pods, revision=applied, images=new)
            return
        self.log.info("image-update", images=what, pods=",".join(pods))
        result = self._apply(manifests, applied, update=True)
        if result is not None and result.rollback is not None:
            rollback = result.rollback
            for c in changes:
                self._held_images[c.image] = c.available  # not tried again until the tag moves on
            restored = "rolled back" if rollback.restored_ok else f"the rollback failed too ({rollback.error})"
            message = f"{what}: {rollback.reason}; {restored}; not tried again until the tag moves"
            self.save(last_error=message, error_revision=applied)
            self.log.error("image-update-rolled-back", images=what, message=message)
            if self.metrics:
                self.metrics.failed("image-update")
            self.tell(EventKind.IMAGE_UPDATE, "rolled-back" if rollback.restored_ok else "rollback-failed", message,
                      rollback.restored + rollback.removed or pods, revision=applied, images=changes)
            for c in changes:
                line = self._images.get(c.image)
                if line is not None:
                    self._images[c.image] = with_state(line, state=f"update {c.available[:19]} rolled back: held")
            return
        if result is None:
            self.tell(EventKind.IMAGE_UPDATE, "failed", f"{what}: {self.state.last_error}", pods, revision=applied,
                      images=changes)
            return
        from podspec.reconcile.notices import iso_time

        for c in changes:
            self._updated[c.image] = f"{c.available[:19]} at {iso_time(time.time())}"
            line = self._images.get(c.image)
            if line is not None:
                self._images[c.image] = with_state(line, state="current", updated=self._updated[c.image])
        self.log.info("image-updated", images=what, steps=result.steps_done)
        self.tell(EventKind.IMAGE_UPDATE, "applied", f"image updated: {what}", changed_pods(result.diff) or pods,
                  revision=applied, images=changes)

    def repair_locked(self, pods: frozenset[str]) -> bool:
        with project_lock(f"sync-state:{self.dir}", self.request.project, self.request.lock_timeout):
            return self.repair_pods(pods)

    def take_events(self, events: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        for event in events:
            if event.get("Type") == "podspec":  # the stream was lost: events may have been missed
                self.debounce.add("", now)
                continue
            pod = event_pod(event, self.request.project)
            if pod is None:
                continue
            looping = self.crash.looping(now)
            name = str(((event.get("Actor") or {}).get("Attributes") or {}).get("name", ""))
            # the agent's own: a death of a container its steps or its probes' restarts ended, a
            # start its steps made, a restart its probes made (reconcile/sync.caused_by_us)
            ours = self.own.see(event, self._restarted(name, pod))
            if self.health.see(event) and not ours:
                self._podman_restarted(pod, name)
            until = self.crash.see(event, pod, now, ours=ours)
            if until is not None:
                self._held(pod, until, now)
            elif self.crash.looping(now) != looping:  # a hold taken back (the deaths were a stop's or a restart's)
                self._save_crash_loops(now)
            if drift_pod(event, self.request.project) is not None:
                self.debounce.add(pod, now, settle=may_restart_itself(event))
            elif self.probes is not None and is_start(event) and not ours:
                self.probes.poke()  # a container someone else started: its probes, if it has any, begin

    def _restarted(self, container: str, pod: str) -> tuple[Act, ...]:
        """The probes' last restart of `container`, as an Act of RESTART_SLACK seconds from when it
        began (the death of the container it restarted is the restart's, no crash; a death after the
        container started again is its own). Told by the probe thread before it restarts."""
        began = self._restarting.get(container)
        if began is None:
            return ()
        return (Act(StepKind.RESTART_CONTAINER, container, pod, began, began + RESTART_SLACK),)

    # --------------------------------------------------------------------------- probes

    def start_probes(self) -> None:
        from podspec.run.sync.probing import IDLE, ProbeLoop

        self.probes = ProbeLoop(self.connect, self.request.project, self.request.probe_image, self._probe_restarted,
                                lambda message: self.log.warning("probes", message=message),
                                lambda f: self.log.info("probe-failed", pod=f.pod, container=f.container, probe=f.kind.value,
                                                        failures=f.failures, message=f.output),
                                self._probe_restarting,
                                # with the event stream a start pokes it (take_events): no read every 30 s
                                idle=self.request.resync if self.request.self_heal else IDLE)
        self.probes.start()

    def stop_probes(self) -> None:
        if self.probes is not None:
            self.probes.stop()

    def _probe_restarting(self, container: str) -> None:
        """Called from the probe thread before it restarts `container`."""
        self._restarting[container] = time.time()

    def _podman_restarted(self, pod: str, container: str) -> None:
        """Podman restarted `container` by itself: its health check (the liveness probe) failed.
        Counted as the probes' own restarts are: on the host (for status) and in the metrics."""
        from contextlib import closing

        from podspec.reconcile.lifecycle import restart_record_steps
        from podspec.run.history import now_utc

        cause = "Podman restarted it: its health check (the exec liveness probe) failed (--health-on-failure=restart)"
        self.log.warning("podman-restart", pod=pod, container=container, probe="liveness", message=cause)
        if self.metrics:
            self.metrics.probe_restarts.labels(self.request.project, pod, container, "liveness").inc()
        try:
            with closing(self.connect()) as engine:
                observed = engine.observe()
                found = observed.container(container)
                if found is not None:
                    for step in restart_record_steps(observed, found, now_utc(), cause):
                        engine.run(step)
        except PodspecError as exc:
            self.log.warning("record-failed", container=container, message=f"the restart was not counted: {exc.message}")

    def _probe_restarted(self, restart: Any) -> None:
        """A container restarted by its failing liveness or startup probe (called from the probe thread)."""
        self.log.warning("probe-restart", pod=restart.pod, container=restart.container, probe=restart.kind.value,
                         message=restart.cause + (f" ({restart.error})" if restart.error else ""))
        if self.metrics:
            self.metrics.probe_restarts.labels(self.request.project, restart.pod, restart.container, restart.kind.value).inc()

    def release_crash_holds(self, now: float) -> None:
        for pod, until in list(self.crash.held_until.items()):
            if until <= now:
                self.crash.held(pod, now)  # drops the hold
                self.log.info("crash-loop-retry", pod=pod)
                self.debounce.add(pod, now)
                self._save_crash_loops(now)
