"""The pull agent's decisions (`podspec sync`), as plain functions of what it saw.

run/sync/ does the fetching, the waiting, the listening and the applying; everything here is pure
and time is always passed in (seconds on a monotonic clock), so each rule is a table test:

- what to do with the branch's head (apply it, nothing, refuse it: known bad, a rewind, unsigned);
- the retry schedule after a failure (exponential, capped; never a hot loop);
- which Podman events may mean drift, and for which pod;
- debouncing those events (a burst of events is one repair);
- crash loops: a pod repaired again and again is backed off and reported, not restarted in a loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from podspec import labels

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


# ---------------------------------------------------------------------------------- drift events

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
    attributes = (event.get("Actor") or {}).get("Attributes") or {}
    if not isinstance(attributes, Mapping) or attributes.get(labels.MANAGED_BY) != labels.MANAGER:
        return None
    if attributes.get(labels.PROJECT) != project:
        return None
    kind, action = event.get("Type"), event.get("Action") or event.get("status")
    if kind == "container" and action in DRIFT_ACTIONS:
        return attributes.get(labels.POD) or None
    if kind == "pod" and action in POD_DRIFT_ACTIONS:
        return attributes.get(labels.POD) or None
    return None


@dataclass
class Debouncer:
    """Collects pods seen in drift events; they are due `quiet` seconds after the last event of a
    burst, but never later than `most` seconds after the first (a steady stream still gets repaired)."""

    quiet: float = 0.5
    most: float = 2.0
    first: float | None = None
    last: float | None = None
    pods: set[str] = field(default_factory=set)

    def add(self, pod: str, now: float) -> None:
        if self.first is None:
            self.first = now
        self.last = now
        self.pods.add(pod)

    def due_at(self) -> float | None:
        if self.first is None or self.last is None:
            return None
        return min(self.last + self.quiet, self.first + self.most)

    def take(self, now: float) -> frozenset[str]:
        """The pods due at `now` (emptied), or nothing yet."""
        due = self.due_at()
        if due is None or now < due:
            return frozenset()
        pods = frozenset(self.pods)
        self.first, self.last, self.pods = None, None, set()
        return pods


# ----------------------------------------------------------------------------------- crash loops


def is_death(event: Mapping) -> bool:
    """A container of the pod ended (crashed, finished, or was killed)."""
    return event.get("Type") == "container" and (event.get("Action") or event.get("status")) == "died"


def is_failure(event: Mapping) -> bool:
    """A container of the pod died failing: with an exit code other than 0, or with 0 where it
    should run for ever (restartPolicy Always, as applied). An init container that finished (exit
    0) and a job that completed (OnFailure, Never) did what they are for: no failure. A death
    whose exit code Podman does not say counts as a failure."""
    if not is_death(event):
        return False
    attributes = (event.get("Actor") or {}).get("Attributes") or {}
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


def caused_by_us(event: Mapping, windows: Sequence[tuple[float, float]], slack: float = 1.0) -> bool:
    """Whether the event happened while the agent itself was applying (wall-clock windows, with
    `slack` seconds on either side: events still in flight after, and event times Podman rounds
    down to the second before): a container the agent recreated died because of the agent, not
    by itself, and is no crash."""
    when = event_time(event)
    if when is None:
        return False
    return any(start - slack <= when <= end + slack for start, end in windows)


@dataclass(frozen=True)
class CrashRule:
    """A pod whose containers died `deaths` times within `window` seconds is crash-looping: the
    agent holds back its repairs for base, 2*base ... up to cap seconds (longer each time it loops
    again), and reports it. A finished job dies once, so it never counts as a loop."""

    deaths: int = 3
    window: float = 60.0
    backoff: Backoff = Backoff(base=10.0, cap=300.0)


@dataclass
class CrashTracker:
    rule: CrashRule = CrashRule()
    deaths: dict[str, list[float]] = field(default_factory=dict)
    strikes: dict[str, int] = field(default_factory=dict)  # times held back in a row
    held_until: dict[str, float] = field(default_factory=dict)

    def died(self, pod: str, now: float) -> float | None:
        """Count a death in `pod`; when that starts a hold, return until when (else None)."""
        recent = [t for t in self.deaths.get(pod, []) if now - t < self.rule.window]
        if not recent and pod not in self.held_until:
            self.strikes.pop(pod, None)  # quiet for a whole window: forgiven
        recent.append(now)
        self.deaths[pod] = recent
        if len(recent) < self.rule.deaths or pod in self.held_until:
            return None
        strikes = self.strikes.get(pod, 0) + 1
        self.strikes[pod] = strikes
        self.deaths[pod] = []
        self.held_until[pod] = now + self.rule.backoff.delay(strikes)
        return self.held_until[pod]

    def held(self, pod: str, now: float) -> bool:
        until = self.held_until.get(pod)
        if until is None:
            return False
        if now >= until:
            del self.held_until[pod]
            return False
        return True

    def looping(self, now: float) -> dict[str, float]:
        """Pods backed off now, and until when."""
        return {pod: until for pod, until in sorted(self.held_until.items()) if until > now}

    def release_at(self) -> float | None:
        return min(self.held_until.values(), default=None)
