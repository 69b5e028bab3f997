"""The diff: pure comparison of desired intent with what was last applied and with the host.

Intent changes are found by hash and explained field by field (changes.py); drift by comparing
the observed state with what the labels promise (drift.py); conflicts are objects with a name
podspec needs that podspec did not create. Each change carries its consequence (an Action) and a
human cause. One module per object kind: pod_diff.py (pods and their containers), volume_diff.py,
secret_diff.py; this one puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from podspec.model import DesiredState
from podspec.observed import ObservedState
from podspec.reconcile.changes import Action
from podspec.reconcile.intent import pod_intent
from podspec.reconcile.pod_diff import PodDiff, diff_pod, observed_grace, scaled_down
from podspec.reconcile.secret_diff import SecretDiff, diff_secrets
from podspec.reconcile.volume_diff import VolumeDiff, diff_volumes

if TYPE_CHECKING:
    from podspec.reconcile.network import NetworkChanges


@dataclass(frozen=True)
class Diff:
    project: str
    pods: tuple[PodDiff, ...] = ()
    volumes: tuple[VolumeDiff, ...] = ()
    unchanged_pods: tuple[str, ...] = ()
    secrets: tuple[SecretDiff, ...] = ()  # Podman secrets, sorted by name
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
) -> Diff:
    if any(p.host_secrets for p in desired.pods):  # a Secret kept on the host and made again is a change
        from podspec.reconcile.hostsecrets import with_host_ids

        desired = with_host_ids(desired, observed)
    pods: list[PodDiff] = []
    unchanged: list[str] = []
    intents = [pod_intent(pod) for pod in desired.pods]  # made once: the pods' and the secrets' diffs read them
    for pod, intent in zip(desired.pods, intents, strict=True):
        pod_diff = diff_pod(pod, intent, observed, project, adopt)
        if pod_diff.changed:
            pods.append(pod_diff)
        else:
            unchanged.append(pod.name)
    wanted = {p.name for p in desired.pods}
    for absent in desired.absent_pods:  # replicas: 0
        obs = observed.pod(absent.name)
        if obs is not None and obs.managed and obs.project == project:
            pods.append(PodDiff(name=absent.name, action=Action.REMOVE, cause=absent.reason,
                                stop_timeout=observed_grace(observed, obs)))
        wanted.add(absent.name)
    pods += scaled_down(desired, observed, project, wanted)
    if prune:
        for obs in observed.pods:
            if obs.name not in wanted and obs.managed and obs.project == project:
                pods.append(
                    PodDiff(
                        name=obs.name,
                        action=Action.REMOVE,
                        cause="no longer in the manifests (--prune)",
                        stop_timeout=observed_grace(observed, obs),
                    )
                )
    leaving = tuple(p.name for p in pods if p.action is Action.REMOVE)
    volumes = diff_volumes(desired, observed, project, adopt, prune_volumes, leaving)
    from podspec.reconcile import ports
    from podspec.reconcile.network import diff_network

    created = {p.name for p in pods if p.action in (Action.CREATE, Action.REPLACE)}
    return Diff(
        project=project,
        pods=tuple(sorted(pods, key=lambda p: p.name)),
        volumes=volumes,
        unchanged_pods=tuple(sorted(unchanged)),
        secrets=diff_secrets(desired, observed, project, pods, adopt, intents),
        network=diff_network(desired, observed, project, created, set(leaving), adopt, prune),
        port_conflicts=tuple(ports.conflicts(observed, pods)),
    )
