"""Apply history (pure): one record per apply, kept on the host in the labels of a Podman secret.

Why a Podman secret. A record must live on the host (so every client, CI job and the sync agent
sees the same history), be owned and labelled like everything podspec makes, cost one engine call to
write, and, since rollbacks depend on it, survive the routine clean-ups of a Podman host:
`podman volume prune`, `podman system prune [--all] [--volumes]` remove unused volumes, stopped
containers and pods, unused networks and images, but never a secret (checked on 4.3 and 5 by
tests/integration/test_rollback.py). A secret is created with ONE call (its labels hold the record),
reachable over ssh:// through the REST API like every other call, and listed by the secret list that
`observe` already reads. Until podspec 0.x the records were empty labelled volumes
(`podspec-history.<project>.<seq>`): those are still read (listed by `history`, they cannot be
rolled back to: they hold no pods) and pruned like the others; new ones are secrets.

Name: `podspec-history-<8 hex of the project>-<seq, 6 digits>-<12 hex fingerprint>` (the prefix,
which says what is a record at all, is names.is_history_name's: diff asks it without this module).
Podman 4.3 lists secrets without their labels; the name alone then gives the project, the order and
whether a no-op apply would only repeat the newest record (`repeated`), so neither an apply nor a
no-op costs an extra call there; reading a record's content on 4.3 is one inspect of that secret.

Content (JSON in `io.podspec.history`; the secret's value holds the same JSON): what the apply did
(revision, outcome, pods changed/unchanged/removed/not done) and what it takes to put a revision
back: every pod it left running that revision, as the model's JSON (reconcile/podcodec.py: never a
secret's value: Secret keys are digests, secret-looking env values digests), and the image ID each
image reference named. Bounded: the newest `KEEP` records per project are kept (older ones removed,
one call each, after a new one is written), and a record whose pods would take more than `MAX_PODS_BYTES`
keeps none (it is listed, not restorable).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from podspec import labels as L
from podspec.names import HISTORY_LEGACY_PREFIX, HISTORY_PREFIX
from podspec.observed import ObservedSecret, ObservedVolume

KEEP = 20  # records kept per project
FORMAT = 2  # the version of the record's JSON (1: the volumes' records, without pods)
MAX_ERROR = 300  # characters of an error message kept in a record
MAX_PODS_BYTES = 200_000  # a record's pods beyond this are not kept (Podman takes the labels in the URL)
_NAME = re.compile(r"^podspec-history-([0-9a-f]{8})-(\d{6})-([0-9a-f]{12})$")


class Outcome:  # the outcomes a record may have besides run.results.Outcome's
    ROLLED_BACK = "rolled-back"  # a rollback: `restored` is the seq it put back


@dataclass(frozen=True)
class HistoryRecord:
    """One apply: what was applied (revision), when (UTC, ISO 8601), how it ended, what it did."""

    project: str
    seq: int  # 1, 2, 3 ... per project; orders the records
    revision: str  # "" when unknown (not in git, no --revision)
    time: str  # "2026-11-28T14:30:55Z"
    outcome: str  # applied | no-changes | failed (run.results.Outcome) | rolled-back
    summary: Mapping[str, int] = field(default_factory=dict, hash=False)  # the diff summary counts
    changed: tuple[str, ...] = ()  # pods this apply changed (all their steps done)
    unchanged: tuple[str, ...] = ()  # pods that already matched
    removed: tuple[str, ...] = ()  # pods removed (--prune)
    not_done: tuple[str, ...] = ()  # failed applies: pods whose steps did not all run
    error: str = ""  # failed applies: the message
    volume: str = ""  # the secret (or, format 1, the volume) holding the record (set when read from the host)
    # What it takes to put this revision back (not in to_json: `history -o json` stays short).
    pods: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False, compare=False)  # podcodec JSON
    images: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)  # reference -> image ID
    restored: int = 0  # a rollback: the seq it put back (0: none)

    @property
    def running(self) -> tuple[str, ...]:
        """The pods that now run what this revision says (changed and unchanged)."""
        return tuple(sorted(set(self.changed) | set(self.unchanged)))

    @property
    def restorable(self) -> bool:
        """Whether the record holds its pods (format 1 records and oversized ones do not)."""
        return bool(self.pods) and set(self.running) <= set(self.pods)

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project, "seq": self.seq, "revision": self.revision, "time": self.time,
            "outcome": self.outcome, "summary": dict(sorted(self.summary.items())),
            "changed": list(self.changed), "unchanged": list(self.unchanged), "removed": list(self.removed),
            "not_done": list(self.not_done), "error": self.error, "restored": self.restored,
            "restorable": self.restorable,
        }


@dataclass(frozen=True)
class Entry:
    """A record as its name shows it, before its labels are read (Podman 4.3 lists none)."""

    name: str
    seq: int
    project_key: str  # 8 hex of the project (secrets); the project itself (format-1 volumes)
    fingerprint: str  # "" for format-1 volumes
    labels: Mapping[str, str] | None = field(default=None, hash=False, compare=False)  # None: not listed


def project_key(project: str) -> str:
    return hashlib.sha256(project.encode()).hexdigest()[:8]


def fingerprint(record: HistoryRecord) -> str:
    """What a record says of the apply, without its seq and time: equal for an apply that would only
    repeat it (`repeated`)."""
    data = {**record.to_json(), "seq": 0, "time": "", "error": record.error[:MAX_ERROR], "restorable": None}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def secret_name(record: HistoryRecord) -> str:
    return f"{HISTORY_PREFIX}{project_key(record.project)}-{record.seq:06d}-{fingerprint(record)}"


def entries(secrets: tuple[ObservedSecret, ...], volumes: tuple[ObservedVolume, ...],
            project: str | None = None) -> tuple[Entry, ...]:
    """Every record on the host by its name (of one project, or all), newest first."""
    found = []
    key = project_key(project) if project is not None else None
    for s in secrets:
        match = _NAME.match(s.name)
        if match is None or (key is not None and match.group(1) != key):
            continue
        if s.labels_listed and not L.is_managed(s.labels):
            continue
        found.append(Entry(s.name, int(match.group(2)), match.group(1), match.group(3),
                           dict(s.labels) if s.labels_listed else None))
    for v in volumes:
        record = _from_volume(v)
        if record is not None and (project is None or record.project == project):
            found.append(Entry(v.name, record.seq, record.project, "", dict(v.labels)))
    return tuple(sorted(found, key=lambda e: (e.project_key, -e.seq, e.name)))


def next_seq(known: tuple[Entry, ...]) -> int:
    return max((e.seq for e in known), default=0) + 1


def to_labels(record: HistoryRecord) -> dict[str, str]:
    return {L.MANAGED_BY: L.MANAGER, L.PROJECT: record.project, L.HISTORY: record_json(record)}


def record_json(record: HistoryRecord) -> str:
    data = record.to_json()
    del data["restorable"]
    data["format"] = FORMAT
    data["error"] = record.error[:MAX_ERROR]
    pods = {name: record.pods[name] for name in sorted(record.pods)}
    if len(json.dumps(pods)) <= MAX_PODS_BYTES:
        data["pods"], data["images"] = pods, dict(sorted(record.images.items()))
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def from_labels(name: str, labels: Mapping[str, str] | None) -> HistoryRecord | None:
    """The record a history secret's (or format-1 volume's) labels hold; None for any other object
    or an unreadable record."""
    if labels is None or not L.is_managed(labels) or L.HISTORY not in labels:
        return None
    try:
        data = json.loads(labels[L.HISTORY])
        summary = {str(k): int(v) for k, v in (data.get("summary") or {}).items()}
        pods = data.get("pods") or {}
        images = data.get("images") or {}
        if not isinstance(pods, dict) or not isinstance(images, dict):
            return None
        return HistoryRecord(
            project=str(data.get("project") or L.project_of(labels) or ""),
            seq=int(data["seq"]), revision=str(data.get("revision") or ""), time=str(data.get("time") or ""),
            outcome=str(data.get("outcome") or ""), summary=summary,
            changed=_names(data.get("changed")), unchanged=_names(data.get("unchanged")),
            removed=_names(data.get("removed")), not_done=_names(data.get("not_done")),
            error=str(data.get("error") or ""), volume=name,
            pods={str(k): v for k, v in pods.items() if isinstance(v, dict)},
            images={str(k): str(v) for k, v in images.items()}, restored=int(data.get("restored") or 0),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _from_volume(volume: ObservedVolume) -> HistoryRecord | None:
    if not volume.name.startswith(HISTORY_LEGACY_PREFIX):
        return None
    return from_labels(volume.name, volume.labels)


def is_history(volume: ObservedVolume) -> bool:
    """A format-1 record volume (diff's --prune-volumes leaves it alone)."""
    return L.is_managed(volume.labels) and L.HISTORY in volume.labels


def _names(value: Any) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in value or ()))


def records(labelled: Mapping[str, Mapping[str, str] | None], known: tuple[Entry, ...]) -> tuple[HistoryRecord, ...]:
    """The records of `known` whose labels are in `labelled` (name -> labels), newest first."""
    found = [from_labels(e.name, labelled.get(e.name, e.labels)) for e in known]
    return tuple(sorted((r for r in found if r is not None), key=lambda r: (r.project, -r.seq, r.time, r.volume)))


def repeated(known: tuple[Entry, ...], record: HistoryRecord) -> Entry | None:
    """The project's newest record when `record`, of an apply that changed nothing, would say
    nothing more than it (the same revision, outcome no-changes, the same pods; only the time
    differs): that record then stands for this apply too, and none is written. None otherwise.
    Told by the names alone (their fingerprint)."""
    if record.outcome != "no-changes":
        return None
    mine = [e for e in known if e.project_key in (project_key(record.project), record.project)]
    newest = max(mine, key=lambda e: e.seq, default=None)
    if newest is None or not newest.fingerprint:
        return None
    return newest if newest.fingerprint == fingerprint(record) else None


def to_prune(known: tuple[Entry, ...], keep: int = KEEP) -> tuple[Entry, ...]:
    """The records of one project beyond the newest `keep`, oldest last."""
    return tuple(sorted(known, key=lambda e: -e.seq)[keep:])


def revisions(found: tuple[HistoryRecord, ...]) -> dict[tuple[str, str], str]:
    """(project, pod) -> the revision the pod was last applied from: the newest record listing it
    among the pods it changed or found unchanged (a pod whose steps failed keeps its older revision)."""
    out: dict[tuple[str, str], str] = {}
    for record in sorted(found, key=lambda r: (r.project, -r.seq)):
        for pod in record.running:
            out.setdefault((record.project, pod), record.revision)
    return out
