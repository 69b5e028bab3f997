"""The diff of pods and their containers: a pod created, started, replaced (what Podman cannot
change in a running pod), removed or in conflict; each container created, recreated (intent, a tag
that moved, made by hand), started (its restart policy) or removed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from podspec import labels as L
from podspec.labels import Role
from podspec.model import SERVICE_WORKLOAD, DesiredState, Pod, PullPolicy, RestartPolicy
from podspec.names import container_name, copy_of, other_name
from podspec.observed import ObservedContainer, ObservedPod, ObservedState
from podspec.reconcile import drift
from podspec.reconcile import podman_rules as rules
from podspec.reconcile.changes import UNSET, Action, FieldChange, field_changes
from podspec.reconcile.intent import ContainerIntent, PodIntent


@dataclass(frozen=True)
class ContainerDiff:
    """What happens to one container, and why."""

    name: str  # Podman's container name
    action: Action
    cause: str
    role: Role = Role.CONTAINER
    fields: tuple[FieldChange, ...] = ()
    intent: ContainerIntent | None = None


@dataclass(frozen=True)
class PodDiff:
    """What happens to one pod and its containers, and why."""

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


def scaled_down(desired: DesiredState, observed: ObservedState, project: str, wanted: set[str]) -> list[PodDiff]:
    """The copies of a Deployment beyond its replicas: this project's pods labelled with the
    workload that the manifests no longer want; and the balancer pods of Services that are no longer
    published (or gone). `wanted` grows by the pods removed."""
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
        if obs.name in wanted or not obs.managed or obs.project != project:
            continue
        if workload in copies:
            newer = other_name(obs.name, workload)
            cause = (f"the old version of copy {copy_of(obs.name, workload)}: removed once {newer} is ready"
                     if newer in wanted else f"{workload} has replicas: {copies[workload]}")
        elif workload.startswith(SERVICE_WORKLOAD + " "):  # a balancer (loader/balancers.py): podspec's own
            cause = f"{workload} is not published on the host any more (no longer NodePort or LoadBalancer)"
        else:
            continue
        removed.append(PodDiff(name=obs.name, action=Action.REMOVE, cause=cause, stop_timeout=observed_grace(observed, obs)))
        wanted.add(obs.name)
    return removed


def observed_grace(observed: ObservedState, obs: ObservedPod) -> int:
    graces = []
    for c in observed.containers_of(obs):
        spec = L.last_applied(c.labels) or {}
        graces.append(int(spec.get("terminationGracePeriodSeconds", rules.MIN_STOP_TIMEOUT) or 0))
    return max([rules.MIN_STOP_TIMEOUT, *graces])


def _stop_timeout(pod: Pod) -> int:
    return max(rules.MIN_STOP_TIMEOUT, pod.termination_grace_period_seconds)


def all_create(pod: Pod, intent: PodIntent, cause: str) -> tuple[ContainerDiff, ...]:
    return tuple(
        ContainerDiff(name=container_name(pod.name, c.name), action=Action.CREATE, cause=cause, role=c.role, intent=c)
        for c in intent.containers
    )


def diff_pod(pod: Pod, intent: PodIntent, observed: ObservedState, project: str, adopt: bool) -> PodDiff:
    obs = observed.pod(pod.name)
    # What runs now is stopped with the grace period it was given, as the kubelet does, not the new one.
    grace = observed_grace(observed, obs) if obs is not None and obs.managed else _stop_timeout(pod)
    made = partial(PodDiff, name=pod.name, pod=pod, intent=intent, stop_timeout=grace)

    if obs is None:
        strays = _stray_containers(pod, intent, observed, project, adopt)
        if any(s.action is Action.CONFLICT for s in strays):
            return made(action=Action.CONFLICT, cause="containers with its names exist", containers=strays)
        publishes = pod.workload.startswith(SERVICE_WORKLOAD + " ")  # a balancer (loader/balancers.py)
        ports = ", ".join(str(m.host_port) for c in pod.containers for m in c.ports)
        return made(
            action=Action.CREATE,
            cause=f"not on the host: publishes {pod.workload} on host port {ports}" if publishes else "not on the host",
            containers=strays + all_create(pod, intent, "new pod"),
        )
    if not obs.managed:
        if adopt:
            return made(
                action=Action.REPLACE,
                cause="adopting a pod podspec did not create (--adopt); its volumes are kept",
                containers=all_create(pod, intent, "pod replaced"),
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
    present = observed.containers_of(obs)
    found = drift.containers(obs.status, present, _promised(pod, intent), intent.init_type.value)
    replace = _replace_cause(pod, intent, obs, observed, found)
    if replace is not None:
        cause, fields = replace
        return made(
            action=Action.REPLACE,
            cause=cause,
            fields=fields,
            containers=all_create(pod, intent, "pod replaced"),
            running=running,
        )

    containers = _diff_containers(pod, intent, observed, {c.name: c for c in present}, found)
    action, cause = None, ""
    if not running:  # (a running pod is not stopped: the stop marks are looked at only for one that is not)
        from podspec.reconcile.lifecycle import stopped_by_accident

        if stopped_by_accident(observed, obs):
            # (a pod `podspec stop` stopped stays stopped until `podspec start`: reconcile/lifecycle.py)
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


def _promised(pod: Pod, intent: PodIntent) -> list[drift.Promise]:
    return [drift.Promise(container_name(pod.name, c.name), init=c.role is Role.INIT,
                          restart_policy=c.spec.get("restartPolicy", RestartPolicy.ALWAYS.value)) for c in intent.containers]


def _replace_cause(
    pod: Pod, intent: PodIntent, obs: ObservedPod, observed: ObservedState, found: tuple[drift.ContainerDrift, ...],
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
    missing = {d.name for d in found if d.finding is drift.Finding.MISSING}
    for c in intent.containers:
        if c.role is Role.INIT and container_name(pod.name, c.name) in missing:
            return (
                f"init container {c.name} is missing; {rules.replace_reason('initContainers')}",
                (),
            )
    return None


def _diff_containers(
    pod: Pod, intent: PodIntent, observed: ObservedState, present: dict[str, ObservedContainer],
    drifted: tuple[drift.ContainerDrift, ...],
) -> tuple[ContainerDiff, ...]:
    """What changes in a pod that stays: each desired container, then the ones on the host that are
    no longer wanted (by name). Drift (missing, made by hand, not running) is drift.containers()'s."""
    diffs: list[ContainerDiff] = []
    findings: dict[str, set[drift.Finding]] = {}
    for d in drifted:
        findings.setdefault(d.name, set()).add(d.finding)
    wanted = {container_name(pod.name, c.name) for c in intent.containers}
    for c in intent.containers:
        if c.role is Role.INIT:
            continue  # init containers are pod settings; see _replace_cause
        name = container_name(pod.name, c.name)
        seen = findings.get(name, set())
        if drift.Finding.MISSING in seen:
            diffs.append(ContainerDiff(name, Action.CREATE, "missing from the pod", intent=c))
            continue
        if drift.Finding.BY_HAND in seen:
            diffs.append(ContainerDiff(name, Action.RECREATE, "made by hand, not by podspec", intent=c))
            continue
        found = present[name]
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
        if drift.Finding.NOT_RUNNING in seen:
            diffs.append(ContainerDiff(name, Action.START, f"the container is {found.state.value}", intent=c))
    for name in sorted(set(present) - wanted):
        unmade = drift.Finding.BY_HAND in findings.get(name, ())
        diffs.append(ContainerDiff(name, Action.REMOVE, "added to the pod by hand" if unmade else "no longer in the manifest"))
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
