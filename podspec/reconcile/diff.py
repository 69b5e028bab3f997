"""The diff: pure comparison of desired intent with what was last applied and with the host.

Intent changes are found by hash and explained field by field (deepdiff of last-applied against
desired); drift by comparing the observed state with what the labels promise; conflicts are
objects with a name podspec needs that podspec did not create. Each change carries its
consequence (an Action) and a human cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any

from podspec import labels as L
from podspec.model import DesiredState, KeyRef, Pod, PullPolicy, SourceKind
from podspec.names import container_name, owns_secret, podman_secret_name
from podspec.observed import ObservedContainer, ObservedPod, ObservedState, PodStatus
from podspec.plan import Role
from podspec.reconcile import drift
from podspec.reconcile import podman_rules as rules
from podspec.reconcile.intent import (
    ContainerIntent,
    PodIntent,
    SpecDict,
    describe_ref,
    empty_dir_volumes,
    named_volume_of,
    pod_intent,
    secret_labels,
)
from podspec.secrets import redact_at


class Action(str, Enum):
    CREATE = "create"
    START = "start"
    RECREATE = "recreate"
    REPLACE = "replace"
    REMOVE = "remove"
    CONFLICT = "conflict"
    ADOPT = "adopt"  # a volume podspec did not create, used as it is (--adopt); no Podman call
    HOST = "host"  # a Podman secret that lives on the host (podspec.io/host-secrets), read as it is; no Podman call


class _Unset:
    def __repr__(self) -> str:
        return "(unset)"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any  # UNSET when the field was not set
    new: Any


@dataclass(frozen=True)
class ContainerDiff:
    name: str  # Podman's container name
    action: Action
    cause: str
    role: Role = Role.CONTAINER
    fields: tuple[FieldChange, ...] = ()
    intent: ContainerIntent | None = None


@dataclass(frozen=True)
class PodDiff:
    name: str
    action: Action | None  # None: the pod itself stays; see containers
    cause: str = ""
    fields: tuple[FieldChange, ...] = ()
    containers: tuple[ContainerDiff, ...] = ()
    pod: Pod | None = None  # the desired pod, when there is one
    intent: PodIntent | None = None
    running: bool = False  # the pod runs now (container changes then start what they create)
    stop_timeout: int = rules.MIN_STOP_TIMEOUT

    @property
    def changed(self) -> bool:
        return self.action is not None or bool(self.containers)


@dataclass(frozen=True)
class VolumeDiff:
    name: str
    action: Action
    cause: str
    empty_dir_of: str = ""  # the pod whose emptyDir this volume is ("" for a claim)
    labels: tuple[tuple[str, str], ...] = ()  # the PersistentVolumeClaim's own labels, to create it with


@dataclass(frozen=True)
class SecretDiff:
    """A Podman secret holding one ConfigMap or Secret key: created before the containers that
    read it, removed after the last container that read it is gone. Never shows the value."""

    name: str
    action: Action
    cause: str
    labels: tuple[tuple[str, str], ...] = ()
    data: bytes = field(default=b"", repr=False)  # create: the value


@dataclass(frozen=True)
class Diff:
    project: str
    pods: tuple[PodDiff, ...] = ()
    volumes: tuple[VolumeDiff, ...] = ()
    unchanged_pods: tuple[str, ...] = ()
    secrets: tuple[SecretDiff, ...] = ()  # Podman secrets, sorted by name

    @property
    def has_changes(self) -> bool:
        """Whether apply would make a Podman call (taking a volume over with --adopt makes none)."""
        return (any(v.action is not Action.ADOPT for v in self.volumes) or any(p.changed for p in self.pods)
                or any(s.action not in (Action.ADOPT, Action.HOST) for s in self.secrets))

    @property
    def conflicts(self) -> tuple[str, ...]:
        found = [f"volume {v.name}: {v.cause}" for v in self.volumes if v.action is Action.CONFLICT]
        found += [f"Podman secret {s.name}: {s.cause}" for s in self.secrets if s.action is Action.CONFLICT]
        for p in self.pods:
            if p.action is Action.CONFLICT:
                found.append(f"pod {p.name}: {p.cause}")
            found += [f"container {c.name}: {c.cause}" for c in p.containers if c.action is Action.CONFLICT]
        return tuple(found)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "recreate": 0, "replace": 0, "start": 0, "remove": 0, "conflict": 0, "adopt": 0}
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


# ------------------------------------------------------------------------------------ field diffs


def field_changes(old: SpecDict | None, new: SpecDict, prefix: str = "") -> tuple[FieldChange, ...]:
    """Field-level changes from `old` to `new`, with readable paths, secrets redacted."""
    from deepdiff import DeepDiff  # imported here: only commands that diff pay for it

    if old is None:
        return (FieldChange(prefix.rstrip(".") or "(all)", UNSET, "(unknown: no last-applied spec)"),)
    tree = DeepDiff(old, new, view="tree", ignore_order=False)
    changes = []
    for items in tree.values():
        for level in items:
            parts = level.path(output_format="list")
            old_value = UNSET if _absent(level.t1) else level.t1
            new_value = UNSET if _absent(level.t2) else level.t2
            changes.append(
                FieldChange(
                    path=prefix + _path_text(parts),
                    old=redact_at(parts, old_value),
                    new=redact_at(parts, new_value),
                )
            )
    return tuple(sorted(changes, key=lambda c: c.path))


def _absent(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


# Intent fields that are maps keyed by a name: their keys print as `field[key]`.
_MAPS = ("env", "volumeMounts", "initContainers", "labels", "annotations", "sysctls", "configMaps", "secrets")


def _path_text(parts: list) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int) or text and text.split(".")[-1] in _MAPS:
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


# ------------------------------------------------------------------------------------------ diff


def _scaled_down(desired: DesiredState, observed: ObservedState, project: str, wanted: set[str]) -> list[PodDiff]:
    """The copies of a Deployment beyond its replicas: this project's pods labelled with the
    workload that the manifests no longer want. `wanted` grows by the pods removed."""
    copies: dict[str, int] = {}
    for pod in desired.pods:
        if pod.workload:
            copies[pod.workload] = copies.get(pod.workload, 0) + 1
    for absent in desired.absent_pods:
        if absent.workload:
            copies.setdefault(absent.workload, 0)
    removed = []
    for obs in sorted(observed.pods, key=lambda o: o.name):
        workload = obs.labels.get(L.WORKLOAD, "")
        if workload in copies and obs.name not in wanted and obs.managed and obs.project == project:
            removed.append(PodDiff(name=obs.name, action=Action.REMOVE, cause=f"{workload} has replicas: {copies[workload]}",
                                   stop_timeout=observed_grace(observed, obs)))
            wanted.add(obs.name)
    return removed


def compute(
    desired: DesiredState,
    observed: ObservedState,
    project: str,
    *,
    prune: bool = False,
    prune_volumes: bool = False,
    adopt: bool = False,
) -> Diff:
    pods: list[PodDiff] = []
    unchanged: list[str] = []
    intents = [pod_intent(pod) for pod in desired.pods]  # made once: the pods' and the secrets' diffs read them
    for pod, intent in zip(desired.pods, intents, strict=True):
        pod_diff = _diff_pod(pod, intent, observed, project, adopt)
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
    pods += _scaled_down(desired, observed, project, wanted)
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
    volumes = _diff_volumes(desired, observed, project, adopt, prune_volumes, leaving)
    return Diff(
        project=project,
        pods=tuple(sorted(pods, key=lambda p: p.name)),
        volumes=volumes,
        unchanged_pods=tuple(sorted(unchanged)),
        secrets=diff_secrets(desired, observed, project, pods, adopt, intents),
    )


def observed_grace(observed: ObservedState, obs: ObservedPod) -> int:
    graces = []
    for c in observed.containers_of(obs):
        spec = L.last_applied(c.labels) or {}
        graces.append(int(spec.get("terminationGracePeriodSeconds", rules.MIN_STOP_TIMEOUT) or 0))
    return max([rules.MIN_STOP_TIMEOUT, *graces])


def _stop_timeout(pod: Pod) -> int:
    return max(rules.MIN_STOP_TIMEOUT, pod.termination_grace_period_seconds)


def _all_create(pod: Pod, intent: PodIntent, cause: str) -> tuple[ContainerDiff, ...]:
    return tuple(
        ContainerDiff(name=container_name(pod.name, c.name), action=Action.CREATE, cause=cause, role=c.role, intent=c)
        for c in intent.containers
    )


def _diff_pod(pod: Pod, intent: PodIntent, observed: ObservedState, project: str, adopt: bool) -> PodDiff:
    obs = observed.pod(pod.name)
    # What runs now is stopped with the grace period it was given, as the kubelet does, not the new one.
    grace = observed_grace(observed, obs) if obs is not None and obs.managed else _stop_timeout(pod)
    made = partial(PodDiff, name=pod.name, pod=pod, intent=intent, stop_timeout=grace)

    if obs is None:
        strays = _stray_containers(pod, intent, observed, project, adopt)
        if any(s.action is Action.CONFLICT for s in strays):
            return made(action=Action.CONFLICT, cause="containers with its names exist", containers=strays)
        return made(
            action=Action.CREATE,
            cause="not on the host",
            containers=strays + _all_create(pod, intent, "new pod"),
        )
    if not obs.managed:
        if adopt:
            return made(
                action=Action.REPLACE,
                cause="adopting a pod podspec did not create (--adopt); its volumes are kept",
                containers=_all_create(pod, intent, "pod replaced"),
                )
        return made(
            action=Action.CONFLICT,
            cause="a pod with this name exists and podspec did not create it "
            "(remove it, rename the pod in the manifest, or pass --adopt to replace it)",
        )
    if obs.project != project:
        return made(
            action=Action.CONFLICT,
            cause=f"the pod belongs to podspec project {obs.project!r}, not {project!r} "
            "(pass --project, or rename the pod)",
        )

    running = obs.status in drift.RUNNING_POD
    replace = _replace_cause(pod, intent, obs, observed)
    if replace is not None:
        cause, fields = replace
        return made(
            action=Action.REPLACE,
            cause=cause,
            fields=fields,
            containers=_all_create(pod, intent, "pod replaced"),
            running=running,
        )

    containers = _diff_containers(pod, intent, obs, observed, running)
    action, cause = None, ""
    if obs.status in (PodStatus.EXITED, PodStatus.STOPPED, PodStatus.CREATED):
        action, cause = Action.START, f"the pod is {obs.status.value.lower()}"
    return made(action=action, cause=cause, containers=containers, running=running)


def _stray_containers(
    pod: Pod, intent: PodIntent, observed: ObservedState, project: str, adopt: bool
) -> tuple[ContainerDiff, ...]:
    """Containers outside any pod that hold the names the new pod's containers need."""
    strays = []
    for c in intent.containers:
        name = container_name(pod.name, c.name)
        found = observed.container(name)
        if found is None:
            continue
        if found.pod_id:
            strays.append(ContainerDiff(
                name=name, action=Action.CONFLICT,
                cause=f"a container of pod {found.pod_name} holds this name (Podman names are global: "
                      "rename the pod or the container)",
            ))
        elif (found.managed and L.project_of(found.labels) == project) or adopt:
            strays.append(ContainerDiff(name=name, action=Action.REMOVE, cause="holds the name of a container to create"))
        else:
            strays.append(
                ContainerDiff(
                    name=name,
                    action=Action.CONFLICT,
                    cause="a container with this name exists and podspec did not create it "
                    "(remove it, or pass --adopt to replace it)",
                )
            )
    return tuple(strays)


def _replace_cause(
    pod: Pod, intent: PodIntent, obs: ObservedPod, observed: ObservedState
) -> tuple[str, tuple[FieldChange, ...]] | None:
    if obs.labels.get(L.HASH) != intent.hash:
        fields = field_changes(L.last_applied(obs.labels), intent.spec)
        tops = sorted({f.path.split(".")[0].split("[")[0] for f in fields})
        reasons = "; ".join(rules.replace_reason(t) for t in tops) or rules.DEFAULT_REPLACE_REASON
        return f"pod settings changed: {reasons}", fields
    drifted = drift.ports_drift(observed.infra_of(obs), intent.spec)
    if drifted is not None:
        return (
            f"published ports differ on the host; {rules.replace_reason('ports')}",
            (FieldChange("ports", *drifted),),
        )
    if drift.init_container_expected(intent.init_type.value, obs.status):
        for c in intent.containers:
            if c.role is Role.INIT and observed_in_pod(observed, obs, container_name(pod.name, c.name)) is None:
                return (
                    f"init container {c.name} is missing; {rules.replace_reason('initContainers')}",
                    (),
                )
    return None


def observed_in_pod(observed: ObservedState, obs: ObservedPod, name: str) -> ObservedContainer | None:
    return next((c for c in observed.containers_of(obs) if c.name == name), None)


def _diff_containers(
    pod: Pod, intent: PodIntent, obs: ObservedPod, observed: ObservedState, running: bool
) -> tuple[ContainerDiff, ...]:
    diffs: list[ContainerDiff] = []
    present = {c.name: c for c in observed.containers_of(obs)}
    wanted = {container_name(pod.name, c.name) for c in intent.containers}
    for c in intent.containers:
        if c.role is Role.INIT:
            continue  # init containers are pod settings; see _replace_cause
        name = container_name(pod.name, c.name)
        found = present.get(name)
        if found is None:
            diffs.append(ContainerDiff(name, Action.CREATE, "missing from the pod", intent=c))
            continue
        if not found.managed:
            diffs.append(ContainerDiff(name, Action.RECREATE, "made by hand, not by podspec", intent=c))
            continue
        if found.labels.get(L.HASH) != c.hash:
            fields = field_changes(L.last_applied(found.labels), c.spec, prefix=f"containers[{c.name}].")
            diffs.append(ContainerDiff(name, Action.RECREATE, recreate_cause(fields, c.name), fields=fields, intent=c))
            continue
        if c.pull_policy is PullPolicy.ALWAYS or c.auto_update is not None:
            local = observed.image_id(c.image)
            if local is not None and local != found.image_id:
                update = f"image update (io.containers.autoupdate: {c.auto_update.value}): " if c.auto_update else ""
                diffs.append(
                    ContainerDiff(
                        name,
                        Action.RECREATE,
                        f"{update}{c.image} now points to image {local[:12]} (the container runs {found.image_id[:12]})",
                        fields=(FieldChange(f"containers[{c.name}].imageID", found.image_id[:12], local[:12]),),
                        intent=c,
                    )
                )
                continue
        if running and drift.should_start(found.state, found.exit_code, c.spec.get("restartPolicy", "Always")):
            diffs.append(ContainerDiff(name, Action.START, f"the container is {found.state.value}", intent=c))
    for name, found in sorted(present.items()):
        if name in wanted:
            continue
        cause = "no longer in the manifest" if found.managed else "added to the pod by hand"
        diffs.append(ContainerDiff(name, Action.REMOVE, cause))
    return tuple(diffs)


_SOURCE_GROUPS = {"configMaps": "configMap", "secrets": "secret", "downwardAPI": "downwardAPI of pod"}


def recreate_cause(fields: tuple[FieldChange, ...], container: str) -> str:
    """Why a container is recreated: the ConfigMaps and Secrets whose keys it reads changed
    ("configMap app-config changed"), the manifest did, or both. The env values that come from a
    changed ConfigMap are part of that change, not of the manifest's."""
    head = f"containers[{container}]."
    sources, other = [], False
    for f in fields:
        rest = f.path[len(head):] if f.path.startswith(head) else f.path
        group, _, name = rest.partition("[")
        if group in _SOURCE_GROUPS and name:
            what = "added" if f.old is UNSET else "no longer used" if f.new is UNSET else "changed"
            sources.append(f"{_SOURCE_GROUPS[group]} {name.rstrip(']')} {what}")
        elif group != "env":
            other = True
    if not sources:
        return "the manifest changed"
    return ("the manifest changed; " if other else "") + ", ".join(sorted(set(sources)))


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
        if found.name in wanted or found.name in used:
            continue
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


def volume_users(observed: ObservedState) -> dict[str, set[tuple[str, str]]]:
    """Named volume -> {(project, pod)} of the podspec pods that mount it, read off the last-applied
    labels of their containers and of the pods themselves (whose init containers Podman may have
    removed after their run)."""
    users: dict[str, set[tuple[str, str]]] = {}

    def note(spec: SpecDict | None, project: str, pod: str) -> None:
        for mount in ((spec or {}).get("volumeMounts") or {}).values():
            volume = named_volume_of(str(mount.get("source", "")))
            if volume is not None:
                users.setdefault(volume, set()).add((project, pod))

    for c in observed.containers:
        if c.managed and not c.is_infra:
            note(L.last_applied(c.labels), L.project_of(c.labels) or "", c.pod_name)
    for p in observed.pods:
        if p.managed:
            for init in ((L.last_applied(p.labels) or {}).get("initContainers") or {}).values():
                note(init, p.project or "", p.name)
    return users


def _volume_used_by_project(observed: ObservedState, project: str, volume: str) -> bool:
    return any(owner == project for owner, _ in volume_users(observed).get(volume, ()))


def _diff_volumes(
    desired: DesiredState, observed: ObservedState, project: str, adopt: bool, prune_volumes: bool,
    leaving: tuple[str, ...] = (),
) -> tuple[VolumeDiff, ...]:
    diffs = _claim_volumes(desired, observed, project, adopt) + _empty_dir_volumes(desired, observed, project, leaving)
    if prune_volumes:
        wanted = desired.volume_names()
        for found in observed.volumes:
            if (found.name not in wanted and found.managed and L.project_of(found.labels) == project
                    and not found.labels.get(L.EMPTY_DIR) and L.HISTORY not in found.labels):
                diffs.append(VolumeDiff(found.name, Action.REMOVE, "no longer in the manifests (--prune-volumes)"))
    return tuple(sorted(diffs, key=lambda v: v.name))


def _claim_volumes(desired: DesiredState, observed: ObservedState, project: str, adopt: bool) -> list[VolumeDiff]:
    """Named volumes (claims): created when absent; someone else's is a conflict, or adopted."""
    diffs = []
    claim_labels = {c.name: c.labels for c in desired.claims}
    for name in desired.volume_names():
        found = observed.volume(name)
        if found is None:
            diffs.append(VolumeDiff(name, Action.CREATE, "not on the host", labels=claim_labels.get(name, ())))
        elif L.project_of(found.labels) != project and not _volume_used_by_project(observed, project, name):
            owner = L.project_of(found.labels)
            made_by = f"podspec project {owner!r}" if owner else "someone else (not podspec)"
            if adopt:
                diffs.append(VolumeDiff(name, Action.ADOPT, f"made by {made_by}; used as it is, its data kept"))
            else:
                diffs.append(VolumeDiff(
                    name, Action.CONFLICT,
                    f"a volume with this name exists, made by {made_by} (pass --adopt to use it as it is: its data is kept)",
                ))
    return diffs


def _empty_dir_volumes(desired: DesiredState, observed: ObservedState, project: str,
                       leaving: tuple[str, ...]) -> list[VolumeDiff]:
    """emptyDir: a volume of the pod's own, made before it and removed with it."""
    diffs = []
    scratch = set()
    for pod in desired.pods:
        for name in empty_dir_volumes(pod):
            scratch.add(name)
            found = observed.volume(name)
            if found is None:
                diffs.append(VolumeDiff(name, Action.CREATE, f"emptyDir of pod {pod.name}", empty_dir_of=pod.name))
            elif found.labels.get(L.EMPTY_DIR) != pod.name or L.project_of(found.labels) != project:
                diffs.append(VolumeDiff(
                    name, Action.CONFLICT,
                    f"pod {pod.name} needs this volume for an emptyDir, and it holds other data "
                    "(remove it or rename the emptyDir volume)",
                ))
    staying = {p.name for p in desired.pods}
    for found in observed.volumes:
        owner = found.labels.get(L.EMPTY_DIR)
        if not owner or L.project_of(found.labels) != project or found.name in scratch:
            continue
        if owner in leaving:
            diffs.append(VolumeDiff(found.name, Action.REMOVE, f"emptyDir of pod {owner}, which is removed",
                                    empty_dir_of=owner))
        elif owner in staying:  # removed last, after the containers that mounted it were recreated
            diffs.append(VolumeDiff(found.name, Action.REMOVE, f"emptyDir no longer in pod {owner}",
                                    empty_dir_of=owner))
    return diffs
