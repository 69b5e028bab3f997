"""The pull agent's decisions (`podspec sync`), as plain functions of what it saw.

run/sync/ does the fetching, the waiting, the listening and the applying; everything here is pure
and time is always passed in (seconds on a monotonic clock), so each rule is a table test:

- what to do with the branch's head (apply it, nothing, refuse it: known bad, a rewind, unsigned);
- the retry schedule after a failure (exponential, capped; never a hot loop);
- whether a round reads the whole host, or trusts the event stream (the full resync);
- which Podman events may mean drift, and for which pod;
- debouncing those events (a burst of events is one repair);
- crash loops: a pod repaired again and again is backed off and reported, not restarted in a loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from podspec import labels
from podspec.plan import Step, StepKind

# ------------------------------------------------------------------------------- the branch head


class Verdict(str, Enum):
    APPLY = "apply"  # a new revision: validate and apply it
    CURRENT = "current"  # the host is on the head already: only repair drift
    KNOWN_BAD = "known-bad"  # the head failed validation or policy before; wait for the next commit
    REWIND = "rewind"  # the head is not a descendant of the applied revision: refused
    UNSIGNED = "unsigned"  # --verify-signatures and the head carries no allowed signature: refused


@dataclass(frozen=True)
class Head:
    """What the agent knows about the fetched head, beside its name."""

    revision: str
    descends: bool | None  # from the last applied revision; None: nothing applied yet
    signed: bool | None  # an allowed signature; None: not asked (--verify-signatures not given)


def judge(head: Head, applied: str | None, refused: str | None, allow_rewind: bool) -> Verdict:
    """What to do with the head of the branch.

    `applied`: the revision on the host (None before the first apply); `refused`: the last head
    refused for good (bad manifests, a bad signature, a rewind): refusing it again changes nothing,
    so the agent waits for a new commit instead of reporting the same error every round.
    """
    if head.revision == applied:
        return Verdict.CURRENT
    if head.signed is False:
        return Verdict.UNSIGNED
    if applied is not None and head.descends is False and not allow_rewind:
        return Verdict.REWIND
    if head.revision == refused:
        return Verdict.KNOWN_BAD
    return Verdict.APPLY


# ------------------------------------------------------------------------------------- flags

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str, flag: str = "--interval") -> float:
    """`60`, `60s`, `500ms`, `5m`, `1h` -> seconds (more than 0); UsageError otherwise."""
    from podspec.errors import UsageError

    raw = text.strip().lower()
    number, unit = raw, "s"
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if raw.endswith(suffix):
            number, unit = raw[: -len(suffix)], suffix
            break
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise UsageError(f"{flag} {text!r} is not a duration", f"for example {flag} 60s (ms, s, m or h)")
    return seconds


def project_from_source(source: str) -> str:
    """The project name a source gives when none is passed: its last path part without `.git`."""
    tail = source.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]
    return tail[:-4] if tail.endswith(".git") else tail


# ------------------------------------------------------------------------------------- backoff


@dataclass(frozen=True)
class Backoff:
    """Exponential retry delays: base, 2*base, 4*base ... never more than cap."""

    base: float = 5.0
    cap: float = 300.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` failures in a row (0 after none)."""
        if failures <= 0:
            return 0.0
        return min(self.cap, self.base * 2 ** min(failures - 1, 30))


def next_round(now: float, interval: float, failures: int, backoff: Backoff) -> float:
    """When the next round starts: one interval after a round that worked; after `failures` failed
    rounds in a row, the backoff's delay (which grows from its base up to its cap)."""
    if failures <= 0:
        return now + interval
    return now + backoff.delay(failures)


def whole_read_due(now: float, last_whole: float | None, resync: float, stream_since: float | None) -> bool:
    """Whether a round reads every pod of the host to find drift (a full resync, as controllers
    resync their informers), or trusts Podman's event stream to have named every pod that changed.

    `last_whole`: when the last whole read began (None: never); `stream_since`: when the event stream
    the agent now reads was connected (None: no stream: no --self-heal, or it is lost). Every round
    reads everything without a stream (the round is then the only way to see drift), or when the
    stream connected after the last whole read began (what happened before it is not in it); with a
    stream, every `resync` seconds still (an event Podman never sent, a change no event tells of)."""
    if stream_since is None or last_whole is None or stream_since > last_whole:
        return True
    return now - last_whole >= resync


# ---------------------------------------------------------------------------------- drift events

def _attributes(event: Mapping) -> Mapping:
    attributes = (event.get("Actor") or {}).get("Attributes") or {}
    return attributes if isinstance(attributes, Mapping) else {}


def _action(event: Mapping) -> str:
    return str(event.get("Action") or event.get("status") or "")


# Container events after which the container may no longer be what the manifests say.
DRIFT_ACTIONS = frozenset({"died", "stop", "kill", "remove", "pause", "oom", "cleanup"})
# Pod events of the same kind (a pod stopped, killed or removed as a whole).
POD_DRIFT_ACTIONS = frozenset({"stop", "kill", "remove", "pause"})


def drift_pod(event: Mapping, project: str) -> str | None:
    """The pod of `project` that a libpod event may have changed, or None when it cannot have.

    Events of containers podspec did not make, of other projects, and of actions that change
    nothing (create, start, exec, health checks) are not drift. Whether a dead container is drift
    (a finished Never or OnFailure job is not) is decided by the diff, with the same restart rules
    as apply (reconcile/drift.py); this only says which pod to look at.
    """
    pod = event_pod(event, project)
    kind, action = event.get("Type"), _action(event)
    if kind == "container" and action in DRIFT_ACTIONS:
        return pod
    if kind == "pod" and action in POD_DRIFT_ACTIONS:
        return pod
    return None


# The ends of a container that Podman may answer by itself (its restart policy; a failing health
# check's --health-on-failure=restart): the repair waits Debouncer.settle for it, not to start the
# container under Podman's own restart. A removal or a stop is answered at once.
SETTLE_ACTIONS = frozenset({"died", "kill", "oom", "cleanup"})


def may_restart_itself(event: Mapping) -> bool:
    return event.get("Type") == "container" and _action(event) in SETTLE_ACTIONS


def event_pod(event: Mapping, project: str) -> str | None:
    """The pod of `project` an event of a container or pod podspec made is about, whatever the action."""
    attributes = _attributes(event)
    if attributes.get(labels.MANAGED_BY) != labels.MANAGER or attributes.get(labels.PROJECT) != project:
        return None
    return str(attributes.get(labels.POD) or "") or None


@dataclass
class Debouncer:
    """Collects pods seen in drift events; they are due `quiet` seconds after the last event of a
    burst (`settle` seconds while the latest event of one of them is a death Podman may answer by
    itself: may_restart_itself), but never later than `most` seconds after the first (a steady
    stream still gets repaired)."""

    quiet: float = 0.2
    most: float = 2.0
    settle: float = 1.0
    first: float | None = None
    last: float | None = None
    pods: set[str] = field(default_factory=set)
    settling: set[str] = field(default_factory=set)  # pods whose latest event was such a death

    def add(self, pod: str, now: float, settle: bool = False) -> None:
        if self.first is None:
            self.first = now
        self.last = now
        self.pods.add(pod)
        if settle:
            self.settling.add(pod)
        else:
            self.settling.discard(pod)

    def due_at(self) -> float | None:
        if self.first is None or self.last is None:
            return None
        return min(self.last + (self.settle if self.settling else self.quiet), self.first + max(self.most, self.settle))

    def take(self, now: float) -> frozenset[str]:
        """The pods due at `now` (emptied), or nothing yet."""
        due = self.due_at()
        if due is None or now < due:
            return frozenset()
        pods = frozenset(self.pods)
        self.first, self.last, self.pods, self.settling = None, None, set(), set()
        return pods


# ----------------------------------------------------------------------------------- crash loops


def is_infra(event: Mapping) -> bool:
    """An event of a pod's infra container (it carries the pod's labels: the containers the pod
    should have, and no role of its own)."""
    attributes = _attributes(event)
    return labels.ROLE not in attributes and labels.CONTAINERS in attributes


def is_start(event: Mapping) -> bool:
    """A container started (created and started, restarted, or started again)."""
    return event.get("Type") == "container" and _action(event) == "start"


def is_death(event: Mapping) -> bool:
    """A container of the pod ended (crashed, finished, or was killed)."""
    return event.get("Type") == "container" and _action(event) == "died"


def is_failure(event: Mapping) -> bool:
    """A container of the pod died failing: with an exit code other than 0, or with 0 where it
    should run for ever (restartPolicy Always, as applied). An init container that finished (exit
    0) and a job that completed (OnFailure, Never) did what they are for: no failure; nor does the
    pod's infra container, which ends only when the pod is stopped or removed as a whole. A death
    whose exit code Podman does not say counts as a failure."""
    if not is_death(event) or is_infra(event):
        return False
    attributes = _attributes(event)
    try:
        code = int(str(attributes.get("containerExitCode")))
    except (TypeError, ValueError):
        return True
    if code != 0:
        return True
    if attributes.get(labels.ROLE) == "init":
        return False
    return (labels.last_applied(attributes) or {}).get("restartPolicy", "Always") == "Always"


def event_time(event: Mapping) -> float | None:
    """When the event happened (wall clock, seconds): timeNano, else time (whole seconds)."""
    if event.get("timeNano"):
        return float(event["timeNano"]) / 1e9
    if event.get("time"):
        return float(event["time"])
    return None


# ------------------------------------------------------------------------- the agent's own steps

# Steps that end the running containers they act on (a container removed, its pod stopped or
# removed, a probe's restart), and steps that start them. Only these are recorded as Acts.
ENDING = frozenset({StepKind.REMOVE_CONTAINER, StepKind.STOP_POD, StepKind.REMOVE_POD, StepKind.RESTART_CONTAINER})
STARTING = frozenset({StepKind.START_CONTAINER, StepKind.START_POD})
_POD_STEPS = frozenset({StepKind.STOP_POD, StepKind.REMOVE_POD, StepKind.START_POD})


@dataclass(frozen=True)
class Act:
    """One step the agent carried out that ends or starts containers: its kind, the Podman object
    it named (a container, or a pod for the pod steps), that object's pod, and when the step began
    and ended (wall clock, seconds: Podman's event times are wall clock too)."""

    kind: StepKind
    target: str
    pod: str
    began: float
    ended: float

    @classmethod
    def of(cls, step: Step, began: float, ended: float) -> Act:
        pod = step.target if step.kind in _POD_STEPS else step.pod_name
        return cls(step.kind, step.target, pod, began, ended)

    def covers(self, when: float, slack: float) -> bool:
        return self.began - slack <= when <= self.ended + slack

    def names(self, container: str, pod: str, infra: bool) -> bool:
        """Whether the step acted on this container: a pod step on every container of its pod
        (its infra container too), a container step on the container it names; starting a
        container also starts its pod's infra container when that is stopped."""
        if self.kind in _POD_STEPS:
            return bool(pod) and self.pod == pod
        if infra:
            return self.kind in STARTING and bool(pod) and self.pod == pod
        return self.target == container


def caused_by_us(event: Mapping, acts: Iterable[Act], started: float | None = None, slack: float = 1.0) -> bool:
    """Whether a container event is the work of the agent's own steps (`acts`, of any pod: the
    container's name and pod label pick the steps that acted on it):

    - a death (`died`) of a container that one of its steps ended while it ran (removed it, stopped
      or removed its pod, restarted it), if that very container was running when the step began:
      `started` is when the event stream last told of this container's (Actor.ID's) start (None:
      not since the agent listens, so before). A container that started after the step began (the
      replacement a step created for the container it removed, the new containers of a pod it
      recreated, the container a restart started again) is not the one the step ended: its death
      is its own, however soon after its start, and counts towards a crash loop;
    - a start (`start`) of a container that one of its steps started (the container by name, or
      its pod), while that step ran;
    - a `restart` of a container that one of its steps restarted, while that step ran.

    Event times (timeNano, else `time`: whole seconds) are compared with the steps' with `slack`
    seconds on either side (an event Podman notes a moment after its call returned). An event
    without a time is nobody's."""
    when = event_time(event)
    if when is None or event.get("Type") != "container":
        return False
    action = _action(event)
    attributes = _attributes(event)
    container, pod, infra = str(attributes.get("name") or ""), str(attributes.get(labels.POD) or ""), is_infra(event)
    for act in acts:
        if not act.names(container, pod, infra) or not act.covers(when, slack):
            continue
        if action == "died" and act.kind in ENDING and (started is None or started < act.began):
            return True
        if action == "start" and act.kind in STARTING:
            return True
        if action == "restart" and act.kind is StepKind.RESTART_CONTAINER:
            return True
    return False


@dataclass
class OwnSteps:
    """What the agent's own steps did (the Acts the agent records as its applies run them), and
    when each container last started (from the event stream, in its order): tells the events the
    agent caused (caused_by_us). Bounded: a pod's acts that ended `horizon` seconds before its
    latest began are dropped (the events of an apply are taken in after it, however long it ran);
    a container's start is forgotten when it is removed."""

    slack: float = 1.0
    horizon: float = 3600.0
    acts: dict[str, list[Act]] = field(default_factory=dict)  # pod -> its acts, oldest first
    started: dict[str, float] = field(default_factory=dict)  # container ID -> when it last started

    def record(self, act: Act) -> None:
        kept = [a for a in self.acts.get(act.pod, ()) if a.ended >= act.began - self.horizon]
        kept.append(act)
        self.acts[act.pod] = kept

    def see(self, event: Mapping, more: Sequence[Act] = ()) -> bool:
        """Take in one event, in the stream's order; True when the agent's steps (or `more`, acts
        recorded elsewhere: the probes' restarts) caused it."""
        if event.get("Type") != "container":
            return False
        ident = str((event.get("Actor") or {}).get("ID") or "")
        pod = str(_attributes(event).get(labels.POD) or "")
        acts = [*self.acts.get(pod, ()), *(self.acts.get("", ()) if pod else ()), *more]
        ours = caused_by_us(event, acts, self.started.get(ident), self.slack)
        action = _action(event)
        if action == "start" and ident:
            when = event_time(event)
            if when is not None:
                self.started[ident] = when
        elif action == "remove":
            self.started.pop(ident, None)
        return ours


@dataclass(frozen=True)
class CrashRule:
    """A pod whose containers failed `deaths` times within `window` seconds is crash-looping: the
    agent holds back its repairs for base, 2*base ... up to cap seconds (longer each time it loops
    again), and reports it. A finished job dies once, so it never counts as a loop. `slack`: how
    long after a death the event that explains it (its pod's infra container's death) may come."""

    deaths: int = 3
    window: float = 60.0
    backoff: Backoff = Backoff(base=10.0, cap=300.0)
    slack: float = 2.0


@dataclass(frozen=True)
class Death:
    at: float
    container: str


@dataclass
class CrashTracker:
    """Counts the failures of each pod's containers, from Podman's events, in the order they come.

    A pod stopped or removed as a whole (`podspec stop`, `podman pod stop`, a replacement, a
    reboot) is no failure, whoever stopped it: its infra container dies, and every death in the pod
    until the infra container starts again is the stop's. A container may die a moment before its
    pod's infra container, so the infra container's death also takes back the pod's deaths of the
    last `rule.slack` seconds, and a crash-loop hold they started. (A `restart` event says nothing:
    Podman sends one for its restart policy's restarts after a crash too.)

    `ours`: deaths the agent caused (containers its applies' steps or its probes' restarts ended:
    OwnSteps) do not count either; a container it only created or started that dies is a failure.
    """

    rule: CrashRule = CrashRule()
    deaths: dict[str, list[Death]] = field(default_factory=dict)
    strikes: dict[str, int] = field(default_factory=dict)  # times held back in a row
    held_until: dict[str, float] = field(default_factory=dict)
    hold_began: dict[str, tuple[float, tuple[Death, ...]]] = field(default_factory=dict)  # pod -> when, and the deaths that held it
    stopped: dict[str, float] = field(default_factory=dict)  # pod -> when its infra container died (until it starts)

    def see(self, event: Mapping, pod: str, now: float, ours: bool = False) -> float | None:
        """Take in one container event of `pod` (as `drift_pod` names it), seen at `now`; `ours`:
        the agent itself caused it (OwnSteps.see). When a failure starts a hold, until when."""
        if event.get("Type") != "container":
            return None
        action, container = _action(event), str(_attributes(event).get("name") or "")
        if is_infra(event):
            if action == "died":
                self.stopped[pod] = now
                self._take_back(pod, now)
            elif action == "start":
                self.stopped.pop(pod, None)
            return None
        if is_failure(event) and not ours and pod not in self.stopped:
            return self.died(pod, now, container)
        return None

    def _take_back(self, pod: str, now: float) -> None:
        """The deaths of `pod` in the last `slack` seconds were no failures: the pod was stopped."""
        since = now - self.rule.slack

        def explained(d: Death) -> bool:
            return d.at >= since

        self.deaths[pod] = [d for d in self.deaths.get(pod, []) if not explained(d)]
        began = self.hold_began.get(pod)
        if began is not None and pod in self.held_until and any(explained(d) for d in began[1]):
            del self.held_until[pod], self.hold_began[pod]
            self.strikes[pod] = self.strikes.get(pod, 1) - 1
            self.deaths[pod] = [d for d in began[1] if not explained(d)] + self.deaths[pod]

    def died(self, pod: str, now: float, container: str = "") -> float | None:
        """Count a failure in `pod`; when that starts a hold, return until when (else None)."""
        recent = [d for d in self.deaths.get(pod, []) if now - d.at < self.rule.window]
        if not recent and pod not in self.held_until:
            self.strikes.pop(pod, None)  # quiet for a whole window: forgiven
        recent.append(Death(now, container))
        self.deaths[pod] = recent
        if len(recent) < self.rule.deaths or pod in self.held_until:
            return None
        strikes = self.strikes.get(pod, 0) + 1
        self.strikes[pod] = strikes
        self.deaths[pod] = []
        self.held_until[pod] = now + self.rule.backoff.delay(strikes)
        self.hold_began[pod] = (now, tuple(recent))
        return self.held_until[pod]

    def held(self, pod: str, now: float) -> bool:
        until = self.held_until.get(pod)
        if until is None:
            return False
        if now >= until:
            del self.held_until[pod]
            self.hold_began.pop(pod, None)
            return False
        return True

    def looping(self, now: float) -> dict[str, float]:
        """Pods backed off now, and until when."""
        return {pod: until for pod, until in sorted(self.held_until.items()) if until > now}

    def release_at(self) -> float | None:
        return min(self.held_until.values(), default=None)


# --------------------------------------------------------------------- Podman's own health restarts


@dataclass
class HealthRestarts:
    """Tells, from the event stream, the restarts Podman makes by itself for a failing health check
    (`--health-on-failure=restart`: podspec gives it to a container whose liveness probe is its
    first exec probe, so that Podman restarts it where its health check timers run).

    Seen on both engines: Podman 4.3 sends `restart` while the container still runs (then its
    death); Podman 5 sends an `unhealthy` health status, the death, then `restart`. A restart its
    restart policy makes after a crash is a death then `restart` with no unhealthy status: not one.
    A `podman restart` by hand of such a container on 4.3 looks the same as Podman's and is
    counted with it. The agent leaves out the restarts its own probes make."""

    unhealthy: set[str] = field(default_factory=set)  # containers Podman found unhealthy since they started
    dead: set[str] = field(default_factory=set)  # containers that died since they started

    def see(self, event: Mapping) -> bool:
        """Take in one container event; True when it is such a restart."""
        if event.get("Type") != "container":
            return False
        attributes, action = _attributes(event), _action(event)
        name = str(attributes.get("name") or "")
        if action == "start":
            self.unhealthy.discard(name)
            self.dead.discard(name)
        elif action == "health_status":
            if str(event.get("HealthStatus") or attributes.get("health_status") or "") == "unhealthy":
                self.unhealthy.add(name)
        elif action == "died":
            self.dead.add(name)
        elif action == "restart":
            liveness = (labels.last_applied(attributes) or {}).get("livenessProbe") or {}
            carried = isinstance(liveness, Mapping) and liveness.get("handler") == "exec"
            return carried and (name in self.unhealthy or name not in self.dead)
        return False
