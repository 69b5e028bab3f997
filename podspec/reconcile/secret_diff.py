"""The diff of Podman secrets: one per ConfigMap or Secret key a container reads, created before
its readers, removed once no remaining container reads it; someone else's is a conflict."""

from __future__ import annotations

from dataclasses import dataclass, field

from podspec import labels as L
from podspec.model import DesiredState, KeyRef, SourceKind
from podspec.names import is_history_name, owns_secret, podman_secret_name
from podspec.observed import ObservedState
from podspec.reconcile.changes import Action
from podspec.reconcile.intent import PodIntent, describe_ref, pod_intent, secret_labels
from podspec.reconcile.pod_diff import PodDiff


@dataclass(frozen=True)
class SecretDiff:
    """A Podman secret holding one ConfigMap or Secret key: created before the containers that
    read it, removed after the last container that read it is gone. Never shows the value."""

    name: str
    action: Action
    cause: str
    labels: tuple[tuple[str, str], ...] = ()
    data: bytes = field(default=b"", repr=False)  # create: the value


def wanted_secrets(desired: DesiredState, project: str, intents: list[PodIntent] | None = None) -> dict[str, KeyRef]:
    """Every Podman secret the desired containers read, by name (`intents`: the pods' intents, if
    already made)."""
    wanted: dict[str, KeyRef] = {}
    for intent in intents if intents is not None else [pod_intent(pod) for pod in desired.pods]:
        for c in intent.containers:
            for ref in c.refs:
                wanted[podman_secret_name(project, ref)] = ref
    return wanted


def secrets_in_use(observed: ObservedState, project: str, leaving: set[str]) -> set[str]:
    """The Podman secrets read by this project's containers that stay (not in `leaving`)."""
    used: set[str] = set()
    for c in observed.containers:
        if c.managed and L.project_of(c.labels) == project and c.name not in leaving:
            used.update(n for n in c.labels.get(L.SECRETS, "").split(",") if n)
    return used


def leaving_containers(observed: ObservedState, pods: list[PodDiff]) -> set[str]:
    """The containers the diff's plan removes: recreated or removed ones, and every container of
    a pod that is replaced or removed."""
    leaving: set[str] = set()
    for p in pods:
        if p.action in (Action.REPLACE, Action.REMOVE):
            obs = observed.pod(p.name)
            if obs is not None:
                leaving.update(c.name for c in observed.containers_of(obs))
        leaving.update(c.name for c in p.containers if c.action in (Action.RECREATE, Action.REMOVE))
    return leaving


def diff_secrets(
    desired: DesiredState, observed: ObservedState, project: str, pods: list[PodDiff], adopt: bool,
    intents: list[PodIntent] | None = None,
) -> tuple[SecretDiff, ...]:
    diffs = []
    wanted = wanted_secrets(desired, project, intents)
    for name, ref in sorted(wanted.items()):
        found = observed.secret(name)
        if ref.host:
            diffs.append(host_secret(name, ref, found is not None, desired))
            continue
        owned = None if found is None else owns_secret(project, found.name, dict(found.labels), found.labels_listed)
        if found is None:
            data = desired.value(ref)
            diffs.append(SecretDiff(
                name, Action.CREATE, f"holds {describe_ref(ref)}",
                labels=tuple(sorted(secret_labels(project, ref).items())), data=data or b"",
            ))
        elif owned is not True:
            owner = "another podspec project" if owned is None else "someone else (not podspec)"
            if adopt and owned is False:
                diffs.append(SecretDiff(name, Action.ADOPT, f"made by {owner}; used as it is"))
            else:
                diffs.append(SecretDiff(
                    name, Action.CONFLICT, f"a Podman secret with this name exists, made by {owner} "
                    "(remove it, or rename the ConfigMap or Secret)",
                ))
    used = secrets_in_use(observed, project, leaving_containers(observed, pods))
    for found in observed.secrets:
        if found.name in wanted or found.name in used or is_history_name(found.name):
            continue  # (the apply history's records are secrets too: reconcile/history.py)
        if owns_secret(project, found.name, dict(found.labels), found.labels_listed):
            what = f"{found.labels[L.SOURCE].replace('/', ' ')} key {found.labels.get(L.KEY, '?')}: " if L.SOURCE in found.labels else ""
            diffs.append(SecretDiff(found.name, Action.REMOVE, f"{what}no container reads this value any more"))
    return tuple(sorted(diffs, key=lambda s: s.name))


def host_secret(name: str, ref: KeyRef, present: bool, desired: DesiredState) -> SecretDiff:
    """A Secret or ConfigMap kept on the host (podspec.io/host-secrets): read as it is when present;
    a conflict, which stops apply before any change, when it is missing."""
    kind = "Secret" if ref.kind is SourceKind.SECRET else "ConfigMap"
    readers = sorted({p.name for p in desired.pods if name in p.host_secrets})
    if present:
        return SecretDiff(name, Action.HOST, f"{kind} {name} kept on the host, read by pod {', '.join(readers)}; "
                          "podspec never changes or removes it")
    return SecretDiff(name, Action.CONFLICT, f"{kind} {name} is to be kept on the host (podspec.io/host-secrets of pod "
                      f"{', '.join(readers)}), and there is no Podman secret of that name: create it with "
                      f"`podman secret create {name} FILE`, or add a {kind} document named {name} to the manifests")
