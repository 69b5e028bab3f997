"""The diff: pure comparison of desired intent with what was last applied and with the host.

Intent changes are found by hash and explained field by field (changes.py); drift by comparing
the observed state with what the labels promise (drift.py); conflicts are objects with a name
podspec needs that podspec did not create. Each change carries its consequence (an Action) and a
human cause. One module per object kind: pod_diff.py (pods and their containers), volume_diff.py,
secret_diff.py; this one puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from podspec import labels as L
from podspec.model import DesiredState
from podspec.observed import ObservedState
from podspec.reconcile.changes import Action
from podspec.reconcile.intent import pod_intent
from podspec.reconcile.pod_diff import PodDiff, all_create, diff_pod, observed_grace, scaled_down
from podspec.reconcile.secret_diff import SecretDiff, diff_secrets
from podspec.reconcile.volume_diff import VolumeDiff, diff_volumes

if TYPE_CHECKING:
    from podspec.reconcile.network import NetworkChanges


@dataclass(frozen=True)
class Diff:
    """Everything that differs between the manifests and the host, for one project."""

    project: str
    pods: tuple[PodDiff, ...] = ()
    volumes: tuple[VolumeDiff, ...] = ()
    unchanged_pods: tuple[str, ...] = ()
    secrets: tuple[SecretDiff, ...] = ()  # Podman secrets, sorted by name
    origin: str = ""  # the source of the manifests, recorded on what the plan creates ("": none)
    kept: tuple[str, ...] = ()  # objects --prune would remove but another source applied: left alone, and why
    network: NetworkChanges | None = None  # the project network and the pods' names on it (network.py)
    port_conflicts: tuple[str, ...] = ()  # host ports the plan would publish that another pod holds (ports.py)

    @property
    def has_changes(self) -> bool:
        """Whether apply would make a Podman call (taking a volume over with --adopt makes none)."""
        return (any(v.action is not Action.ADOPT for v in self.volumes) or any(p.changed for p in self.pods)
                or any(s.action not in (Action.ADOPT, Action.HOST) for s in self.secrets)
                or (self.network is not None and self.network.changed))

    @property
    def conflicts(self) -> tuple[str, ...]:
        found = self.network.conflicts() if self.network is not None else []
        found += self.port_conflicts
        found += [f"volume {v.name}: {v.cause}" for v in self.volumes if v.action is Action.CONFLICT]
        found += [f"Podman secret {s.name}: {s.cause}" for s in self.secrets if s.action is Action.CONFLICT]
        for p in self.pods:
            if p.action is Action.CONFLICT:
                found.append(f"pod {p.name}: {p.cause}")
            found += [f"container {c.name}: {c.cause}" for c in p.containers if c.action is Action.CONFLICT]
        return tuple(found)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "recreate": 0, "replace": 0, "start": 0, "remove": 0, "conflict": 0, "adopt": 0,
                  "connect": 0}
        if self.network is not None:
            if self.network.diff is not None:
                counts[self.network.diff.action.value] += 1
            counts["connect"] += len({a.pod for a in self.network.attachments})
        for v in self.volumes:
            counts[v.action.value] += 1
        for s in self.secrets:
            if s.action is not Action.HOST:  # not a change: listed in the plan, never acted on
                counts[s.action.value] += 1
        for p in self.pods:
            if p.action is not None:
                counts[p.action.value] += 1
            if p.action in (None, Action.START):
                for c in p.containers:
                    counts[c.action.value] += 1
        return counts


def compute(
    desired: DesiredState,
    observed: ObservedState,
    project: str,
    *,
    prune: bool = False,
    prune_volumes: bool = False,
    adopt: bool = False,
    origin: str = "",
    force_conflicts: bool = False,
) -> Diff:
    """`origin`: the source of the manifests (run/origin.py). Objects another source applied are
    not changed (a conflict) nor pruned (kept, and said so) unless `force_conflicts`; objects an
    older podspec made, with no source recorded, may be changed by the manifests that name them but
    are pruned only with `force_conflicts`. With origin "" no source is checked.

    A host read for some pods only (`observed.scope`, the agent's repair of the pods Podman's events
    named) gives the diff of those pods: the others count as unchanged (they were not read), and
    only what those pods use is looked at (their volumes); secrets no pod reads and the project
    network are left for a whole read, which alone can tell that nothing uses them."""
    scope = observed.scope
    if scope is not None and any(p.rollout is not None for p in desired.pods):
        from podspec.errors import UsageError

        raise UsageError("a Deployment's copies are placed from a read of every pod, not of some",
                         "diff every pod (no scope) when the manifests hold a Deployment")
    owners = _Owners(origin, force_conflicts)
    if any(p.host_secrets for p in desired.pods):  # a Secret kept on the host and made again is a change
        from podspec.reconcile.hostsecrets import with_host_ids

        desired = with_host_ids(desired, observed)
    pods: list[PodDiff] = []
    # A read of some pods: the others count as unchanged (as the last whole read left them), and
    # their intents are not made (a repair of one pod of 300 costs one pod's diff).
    looked = desired if scope is None else replace(desired, pods=tuple(p for p in desired.pods if p.name in scope))
    unchanged: list[str] = [] if scope is None else [p.name for p in desired.pods if p.name not in scope]
    intents = [pod_intent(pod) for pod in looked.pods]  # made once: the pods' and the secrets' diffs read them
    copies = any(p.rollout is not None for p in desired.pods)
    for pod, intent in zip(looked.pods, intents, strict=True):
        found = diff_pod(pod, intent, observed, project, adopt)
        if copies and pod.rollout is not None:  # a Deployment's copy: surged, or why it cannot be
            from podspec.reconcile.copies import causes

            found = causes(found, observed, project)
        pod_diff = owners.checked(found, observed)
        if pod_diff.changed:
            pods.append(pod_diff)
        else:
            unchanged.append(pod.name)
    wanted = {p.name for p in desired.pods}
    for absent in desired.absent_pods:  # replicas: 0
        obs = observed.pod(absent.name)
        if obs is not None and obs.managed and obs.project == project:
            pods.append(owners.checked(PodDiff(name=absent.name, action=Action.REMOVE, cause=absent.reason,
                                               stop_timeout=observed_grace(observed, obs)), observed))
        wanted.add(absent.name)
    pods += [p for p in scaled_down(desired, observed, project, wanted) if owners.may_remove(f"pod {p.name}", observed.pod(p.name))]
    if prune:
        for obs in sorted(observed.pods, key=lambda o: o.name):
            if obs.name not in wanted and obs.managed and obs.project == project and owners.may_remove(f"pod {obs.name}", obs):
                pods.append(
                    PodDiff(
                        name=obs.name,
                        action=Action.REMOVE,
                        cause="no longer in the manifests (--prune)",
                        stop_timeout=observed_grace(observed, obs),
                    )
                )
    leaving = tuple(p.name for p in pods if p.action is Action.REMOVE)
    volumes = diff_volumes(desired, observed, project, adopt, prune_volumes, leaving, owners.may_remove)
    secrets = diff_secrets(looked, observed, project, pods, adopt, intents)
    if scope is not None:
        volumes, secrets = _scoped(volumes, secrets, desired, scope)
    from podspec.reconcile.network import diff_network

    created = {p.name for p in pods if p.action in (Action.CREATE, Action.REPLACE)}
    port_conflicts: tuple[str, ...] = ()
    if created:  # only a pod created publishes ports (imported then: a no-op pays nothing for it)
        from podspec.reconcile import ports

        port_conflicts = tuple(ports.conflicts(observed, pods))
    return Diff(
        project=project,
        pods=tuple(sorted(pods, key=lambda p: p.name)),
        volumes=volumes,
        unchanged_pods=tuple(sorted(unchanged)),
        secrets=secrets,
        network=diff_network(desired, observed, project, created, set(leaving), adopt, prune),
        port_conflicts=port_conflicts,
        origin=origin,
        kept=tuple(owners.kept),
    )


def _scoped(volumes: tuple[VolumeDiff, ...], secrets: tuple[SecretDiff, ...], desired: DesiredState,
            scope: frozenset[str]) -> tuple[tuple[VolumeDiff, ...], tuple[SecretDiff, ...]]:
    """A diff of some pods: the volumes those pods mount (whether another volume is used, by a pod
    not read, is not known), and no secret removed (a pod not read may still read it)."""
    from podspec.reconcile.intent import empty_dir_volumes

    theirs: set[str] = set()
    for pod in desired.pods:
        if pod.name in scope:
            theirs.update(pod.claim_names())
            theirs.update(empty_dir_volumes(pod))
    return (tuple(v for v in volumes if v.name in theirs or v.empty_dir_of in scope),
            tuple(s for s in secrets if s.action is not Action.REMOVE))


class _Owners:
    """Which source applied an object, against the source of these manifests (see compute)."""

    def __init__(self, origin: str, force: bool) -> None:
        self.origin, self.force = origin, force
        self.kept: list[str] = []

    def other(self, labels: Any) -> str | None:
        """The other source that applied an object ("" when an older podspec recorded none), or
        None when it is this source's, or no source is checked."""
        if not self.origin:
            return None
        theirs = L.origin_of(labels)
        return None if theirs == self.origin else theirs

    def may_remove(self, what: str, obs: Any) -> bool:
        """Whether an object the manifests do not name may be removed: only one this source applied."""
        other = self.other(obs.labels) if obs is not None else None
        if other is None or self.force:
            return True
        whence = f"applied from {other}" if other else "applied by an older podspec, which recorded no source"
        self.kept.append(f"{what}: {whence}, not from {self.origin} (pass --force-conflicts to prune it)")
        return False

    def checked(self, diff: PodDiff, observed: ObservedState) -> PodDiff:
        """A pod of another source: a change is a conflict, unless --force-conflicts takes it over
        (then it is replaced, to carry this source)."""
        obs = observed.pod(diff.name)
        other = self.other(obs.labels) if obs is not None and obs.managed else None
        if not other or diff.action is Action.CONFLICT:
            return diff
        if self.force:
            if diff.action in (Action.REPLACE, Action.REMOVE) or diff.pod is None or diff.intent is None:
                return diff
            return replace(diff, action=Action.REPLACE, cause=f"taken over from {other} (--force-conflicts)",
                           containers=all_create(diff.pod, diff.intent, "pod replaced"))
        if not diff.changed:
            return diff
        return replace(diff, action=Action.CONFLICT, containers=(),
                       cause=f"the pod was applied from another source, {other}, not {self.origin} "
                             "(pass --force-conflicts to take it over, or use another --project)")
