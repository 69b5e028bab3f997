"""Rollbacks (pure): from the apply history to the desired state that puts a revision back.

    choose(records, to)                          -> the record `podspec rollback [--to X]` restores
    restore(record, records, observed, project)  -> Restore: the pods as recorded, images pinned, and
                                                    the pods to remove; or RollbackRefused
    previous(records, observed, project, names)  -> Before: where what runs now is recorded, for the pods
                                                    an apply changes (`apply --rollback-on-failure`)
    put_back(before, observed, project)          -> Restore of that, once the apply failed
    env_needed(...)                              -> the containers whose secret-looking env values must
                                                    be read from the host (they are kept as digests only)

The result goes through the same diff, planner and executor as an apply: one step per Podman call,
`--dry-run` shows it. Volumes are never touched (a rollback keeps every volume and its data).

Images by ID: each container's image reference is kept as written when it still names the image
the revision ran; when the tag has moved since, the container is made from the recorded image ID
itself (pull policy Never), so a moved tag never brings other bytes. An image no longer on the host
refuses the rollback (nothing is pulled: the bytes that ran cannot be fetched by a tag).

Secret values: a Secret's key is read from the Podman secret named by its digest, which must still
be on the host; a secret-looking literal env value (kept only as a digest) from a container on the
host that holds that value now. Either missing refuses the rollback, naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from podspec import labels as L
from podspec.errors import RollbackRefused
from podspec.model import AbsentPod, Container, DesiredState, Pod, PullPolicy
from podspec.names import copy_names, podman_secret_name
from podspec.observed import ObservedState
from podspec.reconcile import podcodec
from podspec.reconcile.history import HistoryRecord, Outcome
from podspec.reconcile.intent import describe_ref, pod_intent

RAN = frozenset({"applied", "no-changes", Outcome.ROLLED_BACK})  # outcomes after which the pods ran the revision


@dataclass(frozen=True)
class Restore:
    """What a rollback puts back: `desired` for the diff (its absent_pods: pods to remove)."""

    desired: DesiredState
    seq: int  # the record restored (0: the state before an apply, from several records)
    revision: str
    pinned: tuple[str, ...] = ()  # "container: image ID (tag moved)" for each container made from its image ID


def label(record: HistoryRecord) -> str:
    return f"#{record.seq}" + (f" (revision {record.revision})" if record.revision else "")


def choose(records: Sequence[HistoryRecord], to: str = "") -> HistoryRecord:
    """The record to go back to (records newest first): `to` a seq number ("3" or "#3") or a revision
    (or its prefix); "" the previous one: after a rollback that failed part way, the record it was
    putting back; after a failed apply, the newest record that ran; else the
    newest record that ran and whose pods differ from those of the newest one that ran (no-op records
    of the same state are skipped)."""
    if not records:
        raise RollbackRefused("no apply is recorded for this project on this host",
                              "apply the manifests first; `podspec history` lists what the host recorded")
    if to:
        number = to.removeprefix("#")
        found = [r for r in records if (number.isdigit() and r.seq == int(number))
                 or (not number.isdigit() and r.revision.startswith(to))]
        if not number.isdigit() and not found:
            found = [r for r in records if r.revision.startswith(to)]
        if not found:
            raise RollbackRefused(f"no record {to!r} in this project's history",
                                  "pick a # or a REVISION from `podspec history`")
        chosen = next((r for r in found if r.restorable), found[0])
        return _restorable(chosen)
    ran = [r for r in records if r.outcome in RAN]
    if not ran:
        raise RollbackRefused("no apply of this project ever finished on this host: nothing to go back to",
                              "see `podspec history`")
    if records[0].outcome not in RAN and records[0].restored:  # a rollback that stopped part way: finish it
        return _restorable(next((r for r in records if r.seq == records[0].restored), records[0]))
    if records[0].outcome not in RAN and ran[0].restorable:  # after a failed apply: back to the last that ran
        return ran[0]
    current = ran[0]
    for r in ran[1:]:
        if r.restorable and dict(r.pods) != dict(current.pods):
            return r
    raise RollbackRefused(f"no earlier revision than {label(current)} is recorded with its pods",
                          "see `podspec history`; records from before podspec kept pods cannot be rolled back to")


def _restorable(record: HistoryRecord) -> HistoryRecord:
    if record.outcome not in RAN:
        raise RollbackRefused(f"record {label(record)} is of a {record.outcome} apply: its pods never all ran",
                              "pick a record whose outcome is applied, no-changes or rolled-back (`podspec history`)")
    if not record.restorable:
        raise RollbackRefused(f"record {label(record)} does not hold its pods (written before podspec kept them, "
                              "or too large)", "apply that revision's files instead")
    return record


def env_needed(records: Sequence[HistoryRecord], names: Sequence[str] = ()) -> tuple[tuple[str, str, str], ...]:
    """(env name, digest, pod) of every secret-looking env value the records' pods (of `names`, or all)
    keep as a digest: the run layer reads them from the host's containers."""
    found: set[tuple[str, str, str]] = set()
    for record in records:
        for pod, data in record.pods.items():
            if not names or pod in names:
                found.update((name, digest, pod) for _, name, digest in podcodec.redacted(data))
    return tuple(sorted(found))


def restore(record: HistoryRecord, records: Sequence[HistoryRecord], observed: ObservedState, project: str,
            values: Mapping[tuple[str, str], str] | None = None) -> Restore:
    """Put `record`'s revision back: its pods as recorded; the project's pods made by a later record
    and not in it are removed."""
    pods = [_pod(record, name, values or {}) for name in record.running]
    later = {p for r in records if r.seq > record.seq for p in r.changed}
    absent = tuple(
        AbsentPod(o.name, f"not in revision {label(record)}")
        for o in observed.pods
        if o.managed and o.project == project and o.name not in record.running and o.name in later
    )
    return _finish(pods, absent, record.images, observed, project, record.seq, record.revision)


@dataclass(frozen=True)
class Before:
    """What ran before an apply, pod by pod: the record each pod's state comes from, and the pods
    the apply makes anew (removed by a rollback)."""

    pods: tuple[tuple[HistoryRecord, str], ...] = ()
    absent: tuple[AbsentPod, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted([n for _, n in self.pods] + [a.name for a in self.absent]))


def previous(records: Sequence[HistoryRecord], observed: ObservedState, project: str,
             names: Sequence[str], values: Mapping[tuple[str, str], str] | None = None) -> Before:
    """What runs before an apply that changes the pods `names` (`observed`: the host before it): each
    pod from the newest record whose pod matches what the host runs (by its intent's hash); a pod
    the host does not have is to be removed. RollbackRefused when a pod's state is in no record."""
    pods, absent = [], []
    for name in sorted(names):
        found = observed.pod(name)
        if found is None or not found.managed or found.project != project:
            absent.append(AbsentPod(name, "not there before the apply"))
            continue
        record = next((r for r in records if r.outcome in RAN and name in r.running and name in r.pods
                       and _matches(r, name, found.labels.get(L.HASH, ""), values or {})), None)
        if record is None:
            raise RollbackRefused(
                f"--rollback-on-failure: pod {name} runs a state no history record holds (recorded before podspec "
                "kept pods, or changed by hand): it could not be put back",
                "apply the files the host runs now once, or apply without --rollback-on-failure")
        pods.append((record, name))
    before = Before(tuple(pods), tuple(absent))
    for record, name in before.pods:
        _check_secrets(_pod(record, name, values or {}), observed, project)
    return before


def put_back(before: Before, observed: ObservedState, project: str,
             values: Mapping[tuple[str, str], str] | None = None, applied: DesiredState | None = None) -> Restore:
    """The desired state that puts `before` back on the host as it is now (`observed`: images are
    pinned against the tags as they are after the apply's pulls). `applied`: what the failed apply
    wanted; its other pods (unchanged), Services, ConfigMaps and Secrets stay as they are."""
    pods: list[Pod] = []
    images: dict[str, str] = {}
    for record, name in before.pods:
        pods.append(_pod(record, name, values or {}))
        images.update(record.images)
    revisions = {record.revision for record, _ in before.pods}
    seqs = {record.seq for record, _ in before.pods}
    # The revision (and record) put back, when the pods come from one; else "" (and 0).
    restore = _finish(pods, before.absent, images, observed, project, seqs.pop() if len(seqs) == 1 else 0,
                      revisions.pop() if len(revisions) == 1 else "")
    if applied is None:
        return restore
    # (a copy put back under either of its Podman names: names.py)
    put = {n for p in restore.desired.pods for n in copy_names(p.name, p.workload)} | {a.name for a in before.absent}
    desired = replace(restore.desired, pods=tuple(sorted(restore.desired.pods + tuple(p for p in applied.pods if p.name not in put),
                                                         key=lambda p: p.name)),
                      services=applied.services, config_maps=applied.config_maps, secrets=applied.secrets)
    return replace(restore, desired=desired)


def _matches(record: HistoryRecord, name: str, pod_hash: str, values: Mapping[tuple[str, str], str]) -> bool:
    if podcodec.redacted(record.pods[name]) and not values:
        return True  # cannot be hashed without the values: the newest record naming it stands
    try:
        pod = podcodec.decode(record.pods[name], values)
    except podcodec.DecodeError:
        return False
    return pod_intent(pod).hash == pod_hash


def _pod(record: HistoryRecord, name: str, values: Mapping[tuple[str, str], str]) -> Pod:
    try:
        pod = podcodec.decode(record.pods[name], values)
    except podcodec.DecodeError as error:
        raise RollbackRefused(f"record {label(record)}: pod {name} cannot be read back ({error})",
                              "apply that revision's files instead") from None
    for c, env, digest in podcodec.redacted(record.pods[name]):
        if (env, digest) not in values:
            raise RollbackRefused(
                f"pod {name}, container {c}: the value of {env} that revision {label(record)} ran is on no "
                "container of the host any more (podspec keeps secret-looking values only as digests)",
                "apply that revision's files instead")
    return pod


def _finish(pods: list[Pod], absent: tuple[AbsentPod, ...], images: Mapping[str, str], observed: ObservedState,
            project: str, seq: int, revision: str) -> Restore:
    pinned: list[str] = []
    out = []
    for pod in pods:
        out.append(_pinned(pod, images, observed, pinned))
        _check_secrets(pod, observed, project)
    from podspec.reconcile.network import observed_record, record_services

    # The project's Services as the host records them (its names record): pods put back join the
    # project network with their names, as the apply that made them did.
    record = observed_record(observed, project)
    from podspec.reconcile.copies import place

    desired = DesiredState(pods=tuple(sorted(out, key=lambda p: p.name)), absent_pods=tuple(sorted(absent, key=lambda a: a.name)),
                           services=record_services(record) if record is not None else ())
    # A Deployment's copies under the names they run under now (or surge to): reconcile/copies.py.
    return Restore(place(desired, observed, project), seq, revision, tuple(pinned))


def _pinned(pod: Pod, images: Mapping[str, str], observed: ObservedState, pinned: list[str]) -> Pod:
    def pin(c: Container) -> Container:
        recorded = images.get(c.image)
        if recorded is None or observed.image_id(c.image) == recorded:
            return c
        if not any(i.id == recorded for i in observed.images):
            raise RollbackRefused(
                f"pod {pod.name}, container {c.name}: image {c.image} as it ran then (image {recorded[:12]}) is no "
                "longer on the host", "a tag may have moved and the old image been pruned; apply that revision's files")
        pinned.append(f"{pod.name}/{c.name}: image {recorded[:12]} ({c.image} has moved)")
        return replace(c, image=recorded, pull_policy=PullPolicy.NEVER)

    return replace(pod, containers=tuple(pin(c) for c in pod.containers),
                   init_containers=tuple(pin(c) for c in pod.init_containers))


def _check_secrets(pod: Pod, observed: ObservedState, project: str) -> None:
    for c in pod_intent(pod).containers:
        for ref in c.refs:
            if observed.secret(podman_secret_name(project, ref)) is None:
                raise RollbackRefused(
                    f"pod {pod.name}, container {c.name}: the value of {describe_ref(ref)} it ran then is no "
                    "longer on the host", "apply that revision's files (with its Secret or ConfigMap) instead")
