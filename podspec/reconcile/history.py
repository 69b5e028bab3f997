"""Apply history (pure): one record per apply, kept on the host in the labels of an empty volume.

Why a volume. A record must live on the host (so every client, CI job and the sync agent sees the
same history), be owned and labelled like everything podspec makes, cost one engine call to write
and none extra to read. Podman cannot change the labels of an existing object, so the record cannot
be an update of a pod or a container; and a record on a container would vanish when the container
is recreated. A named volume holds labels of any length, is created with ONE call (its labels are
the record), costs nothing but an empty directory, survives pod replacements and reboots, and is
returned with its labels by the volume list that `observe` already reads: `status` gets the
revision of every pod without an extra call. Records are never changed, only added and pruned:
the newest `KEEP` of each project are kept, older ones removed (one call each, after the new one is
written). An apply that changed nothing and would only repeat the project's newest record (same
revision, no changes, same pods) writes none (`repeated`): repeated no-op applies neither cost two
calls each nor push the records of real changes out of the newest `KEEP`.

Each record volume carries `io.podspec.managed-by=podspec`, `io.podspec.project` and
`io.podspec.history` (the record as compact JSON); its name is
`podspec-history.<project>.<seq>` (seq zero-padded). Diff never treats it as a manifest volume:
`--prune-volumes` skips it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from podspec import labels as L
from podspec.observed import ObservedState, ObservedVolume

KEEP = 20  # records kept per project
FORMAT = 1  # the version of the record's JSON
NAME_PREFIX = "podspec-history."
MAX_ERROR = 300  # characters of an error message kept in a record


@dataclass(frozen=True)
class HistoryRecord:
    """One apply: what was applied (revision), when (UTC, ISO 8601), how it ended, what it did."""

    project: str
    seq: int  # 1, 2, 3 ... per project; orders the records
    revision: str  # "" when unknown (not in git, no --revision)
    time: str  # "2026-11-28T14:30:55Z"
    outcome: str  # applied | no-changes | failed (the values of run.results.Outcome)
    summary: Mapping[str, int] = field(default_factory=dict, hash=False)  # the diff summary counts
    changed: tuple[str, ...] = ()  # pods this apply changed (all their steps done)
    unchanged: tuple[str, ...] = ()  # pods that already matched
    removed: tuple[str, ...] = ()  # pods removed (--prune)
    not_done: tuple[str, ...] = ()  # failed applies: pods whose steps did not all run
    error: str = ""  # failed applies: the message
    volume: str = ""  # the volume holding the record (set when read from the host)

    @property
    def pods(self) -> tuple[str, ...]:
        """The pods that now run what this revision says (changed and unchanged)."""
        return tuple(sorted(set(self.changed) | set(self.unchanged)))

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project, "seq": self.seq, "revision": self.revision, "time": self.time,
            "outcome": self.outcome, "summary": dict(sorted(self.summary.items())),
            "changed": list(self.changed), "unchanged": list(self.unchanged), "removed": list(self.removed),
            "not_done": list(self.not_done), "error": self.error,
        }


def volume_name(project: str, seq: int) -> str:
    return f"{NAME_PREFIX}{project}.{seq:06d}"


def is_history(volume: ObservedVolume) -> bool:
    return L.is_managed(volume.labels) and L.HISTORY in volume.labels


def to_labels(record: HistoryRecord) -> dict[str, str]:
    data = record.to_json()
    data["format"] = FORMAT
    data["error"] = record.error[:MAX_ERROR]
    return {L.MANAGED_BY: L.MANAGER, L.PROJECT: record.project,
            L.HISTORY: json.dumps(data, sort_keys=True, separators=(",", ":"))}


def from_volume(volume: ObservedVolume) -> HistoryRecord | None:
    """The record a history volume holds; None for any other volume or an unreadable record."""
    if not is_history(volume):
        return None
    try:
        data = json.loads(volume.labels[L.HISTORY])
        summary = {str(k): int(v) for k, v in (data.get("summary") or {}).items()}
        return HistoryRecord(
            project=str(data.get("project") or L.project_of(volume.labels) or ""),
            seq=int(data["seq"]), revision=str(data.get("revision") or ""), time=str(data.get("time") or ""),
            outcome=str(data.get("outcome") or ""), summary=summary,
            changed=_names(data.get("changed")), unchanged=_names(data.get("unchanged")),
            removed=_names(data.get("removed")), not_done=_names(data.get("not_done")),
            error=str(data.get("error") or ""), volume=volume.name,
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _names(value: Any) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in value or ()))


def records(volumes: tuple[ObservedVolume, ...], project: str | None = None) -> tuple[HistoryRecord, ...]:
    """Every record on the host (of one project, or all), newest first."""
    found = [r for r in (from_volume(v) for v in volumes) if r is not None]
    if project is not None:
        found = [r for r in found if r.project == project]
    return tuple(sorted(found, key=lambda r: (r.project, -r.seq, r.time, r.volume)))


def next_seq(volumes: tuple[ObservedVolume, ...], project: str) -> int:
    return max((r.seq for r in records(volumes, project)), default=0) + 1


def repeated(volumes: tuple[ObservedVolume, ...], record: HistoryRecord) -> HistoryRecord | None:
    """The project's newest record when `record`, of an apply that changed nothing, would say
    nothing more than it (the same revision, outcome no-changes, the same pods; only the time
    differs): that record then stands for this apply too, and none is written. None otherwise."""
    if record.outcome != "no-changes":
        return None
    newest = next(iter(records(volumes, record.project)), None)
    if newest is None:
        return None
    same = lambda r: {**r.to_json(), "seq": 0, "time": "", "error": r.error[:MAX_ERROR]}
    return newest if same(newest) == same(record) else None


def to_prune(volumes: tuple[ObservedVolume, ...], project: str, keep: int = KEEP) -> tuple[str, ...]:
    """The history volumes of `project` beyond the newest `keep`, oldest last."""
    return tuple(r.volume for r in records(volumes, project)[keep:] if r.volume)


def revisions(observed: ObservedState) -> dict[tuple[str, str], str]:
    """(project, pod) -> the revision the pod was last applied from: the newest record listing it
    among the pods it changed or found unchanged (a pod whose steps failed keeps its older revision)."""
    found: dict[tuple[str, str], str] = {}
    for record in records(observed.volumes):  # newest first within each project
        for pod in record.pods:
            found.setdefault((record.project, pod), record.revision)
    return found
