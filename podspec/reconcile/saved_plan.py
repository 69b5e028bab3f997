"""Saved plans (pure): what `diff --save-plan` writes, and the rules by which `apply --plan` refuses
a plan that no longer fits ("stale").

A saved plan holds what the plan was made from and what it would do, never a value from the
manifests: the manifest files as SHA-256 digests, what the plan saw of the host (the objects it
depends on, as IDs, states and label digests), and the steps (action, resource, cause, and for a
step that creates something a digest of the labels it creates it with, which carry the intent's
hash). `apply --plan` reads the manifests again, observes the host again, derives the plan again,
and carries it out only if all three are what the plan saw:

- the manifest files: the same names with the same digests;
- the host: every object the plan depended on is still there with the same ID, state and labels,
  and none appeared (checked before any pull);
- the steps derived now equal the saved ones.

Otherwise it refuses, changing nothing, and says what differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from podspec import labels as L
from podspec.errors import UsageError
from podspec.model import DesiredState
from podspec.names import container_name, copy_names
from podspec.observed import ObservedContainer, ObservedState
from podspec.plan import Plan, Step
from podspec.reconcile.intent import empty_dir_volumes

FORMAT = "podspec-plan"
VERSION = 1


def digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _labels_digest(labels: Mapping[str, str]) -> str:
    return digest(json.dumps(dict(sorted(labels.items())), sort_keys=True, separators=(",", ":")))[:23]


@dataclass(frozen=True, order=True)
class SeenObject:
    """One object on the host a plan depends on. `what` names it for people (`container web/app`)."""

    what: str
    id: str = ""  # Podman's ID (pods, containers, images); "" for volumes and absent images
    state: str = ""  # containers: running, exited, ...
    labels: str = ""  # digest of the labels


@dataclass(frozen=True)
class SavedStep:
    action: str  # StepKind value
    resource: str  # `container:web/app`
    target: str
    lane: str
    cause: str
    spec: str = ""  # create steps: digest of the labels the object is created with

    def describe(self) -> str:
        return f"{self.action.replace('_', ' ')} {self.resource} ({self.cause})"


@dataclass(frozen=True)
class SavedPlan:
    project: str
    paths: tuple[str, ...]  # the manifest paths, as given
    files: tuple[tuple[str, str], ...]  # (file, digest), in the order read
    host: tuple[SeenObject, ...]  # sorted
    steps: tuple[SavedStep, ...]
    summary: Mapping[str, int]
    created: str = ""  # UTC, ISO 8601
    revision: str = ""
    prune: bool = False
    prune_volumes: bool = False
    adopt: bool = False
    force_conflicts: bool = False
    signed: bool = False  # read back with a valid signature (PODSPEC_PLAN_KEY)

    def options(self) -> tuple[str, ...]:
        """The flags that widen what apply does, as the command line writes them."""
        return tuple(flag for flag, on in (("--prune", self.prune), ("--prune-volumes", self.prune_volumes),
                                           ("--adopt", self.adopt), ("--force-conflicts", self.force_conflicts)) if on)

    def command(self, file: str, with_project: bool = False) -> str:
        """The command that carries the plan out, its manifests and options restated (quoted for a
        shell); `with_project`: its project too (one the paths alone do not give)."""
        import shlex

        project = ("--project", self.project) if with_project else ()
        return " ".join(shlex.quote(word) for word in ("podspec", "apply", "--plan", file, *self.paths, *project, *self.options()))


# -------------------------------------------------------------------------------- signatures

SIGNATURE = "signature"


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in data.items() if k != SIGNATURE}, sort_keys=True, separators=(",", ":")).encode()


def sign(data: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The plan file with an HMAC-SHA256 over all of it (the key: $PODSPEC_PLAN_KEY)."""
    import hmac

    return {**data, SIGNATURE: "hmac-sha256:" + hmac.new(key, _canonical(data), hashlib.sha256).hexdigest()}


def signature_problem(data: Mapping[str, Any], key: bytes) -> str | None:
    """Why a plan file's signature does not hold with `key`, or None when it does."""
    import hmac

    given = data.get(SIGNATURE)
    if not isinstance(given, str) or not given:
        return "it is not signed"
    wanted = "hmac-sha256:" + hmac.new(key, _canonical(data), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(given.encode(), wanted.encode()) else "its signature does not match (it was altered, or signed with another key)"


# -------------------------------------------------------------------------------- what a plan saw


def _container_what(c: ObservedContainer) -> str:
    if c.pod_name and c.name.startswith(c.pod_name + "-"):
        return f"container {c.pod_name}/{c.name[len(c.pod_name) + 1:]}"
    return f"container {c.name}"


def host_view(desired: DesiredState, observed: ObservedState, project: str, prune: bool = False,
              prune_volumes: bool = False) -> tuple[SeenObject, ...]:
    """The objects on the host a plan for `desired` depends on: the pods it names (with --prune also
    the project's other pods), their containers, containers holding the names it needs, its volumes
    and emptyDir volumes (with --prune-volumes also the project's other volumes; never history
    records, which change with every apply) and the images it uses."""
    seen: list[SeenObject] = []
    # (a Deployment's copy under either of its Podman names: which one the plan uses depends on the host)
    wanted_pods = {n for p in desired.pods for n in copy_names(p.name, p.workload)}
    wanted_containers = {container_name(n, c.name) for p in desired.pods for n in copy_names(p.name, p.workload)
                         for c in p.all_containers()}
    pods = [p for p in observed.pods if p.name in wanted_pods or (prune and p.managed and p.project == project)]
    pod_ids = {p.id for p in pods}
    for pod in pods:
        seen.append(SeenObject(f"pod {pod.name}", pod.id, "", _labels_digest(pod.labels)))
    for c in observed.containers:
        if c.is_infra or not (c.pod_id in pod_ids or c.name in wanted_containers):
            continue
        seen.append(SeenObject(_container_what(c), c.id, c.state.value, _labels_digest(c.labels)))
    wanted_volumes = set(desired.volume_names()) | {v for p in desired.pods for v in empty_dir_volumes(p)}
    for v in observed.volumes:
        if L.is_record(v.labels):
            continue
        owned = L.project_of(v.labels) == project
        if v.name in wanted_volumes or (owned and v.labels.get(L.EMPTY_DIR)) or (prune_volumes and owned):
            seen.append(SeenObject(f"volume {v.name}", "", "", _labels_digest(v.labels)))
    for reference in sorted({c.image for p in desired.pods for c in p.all_containers()}):
        seen.append(SeenObject(f"image {reference}", observed.image_id(reference) or ""))
    return tuple(sorted(seen))


def saved_steps(plan: Plan) -> tuple[SavedStep, ...]:
    return tuple(_saved(s) for s in plan.steps)


def _saved(step: Step) -> SavedStep:
    spec = _labels_digest(dict(step.labels)) if step.labels else ""
    return SavedStep(step.kind.value, str(step.resource), step.target, step.lane, step.cause, spec)


# -------------------------------------------------------------------------------- staleness rules


def stale_manifests(saved: tuple[tuple[str, str], ...], now: tuple[tuple[str, str], ...]) -> list[str]:
    """What differs between the manifest files the plan was made from and those read now."""
    before, after = dict(saved), dict(now)
    found = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            found.append(f"{name} was removed since the plan was made")
        elif name not in before:
            found.append(f"{name} was added since the plan was made")
        elif before[name] != after[name]:
            found.append(f"{name} changed since the plan was made")
    return found


def stale_host(saved: tuple[SeenObject, ...], now: tuple[SeenObject, ...]) -> list[str]:
    """What differs between the host the plan saw and the host now."""
    before = {o.what: o for o in saved}
    after = {o.what: o for o in now}
    found = []
    for what in sorted(set(before) | set(after)):
        old, new = before.get(what), after.get(what)
        if new is None or (what.startswith("image ") and old and old.id and not new.id):
            found.append(f"{what} was removed since the plan was made")
        elif old is None or (what.startswith("image ") and not old.id and new.id):
            found.append(f"{what} appeared since the plan was made")
        elif old.id != new.id:
            if what.startswith("image "):
                found.append(f"{what} now points to image {new.id[:12]}, not {old.id[:12]} as when the plan was made")
            else:
                found.append(f"{what} was recreated since the plan was made")
        elif old.state != new.state:
            found.append(f"{what} was {old.state} when the plan was made and is {new.state} now")
        elif old.labels != new.labels:
            found.append(f"{what} changed since the plan was made")
    return found


def stale_steps(saved: tuple[SavedStep, ...], now: tuple[SavedStep, ...]) -> list[str]:
    """What differs between the saved steps and the steps derived now (the last safety net: with
    the same manifests and the same host they are the same)."""
    if saved == now:
        return []
    missing = [s.describe() for s in saved if s not in now]
    extra = [s.describe() for s in now if s not in saved]
    parts = []
    if missing:
        parts.append("no longer planned: " + ", ".join(missing))
    if extra:
        parts.append("now also planned: " + ", ".join(extra))
    if not parts:
        parts.append("the same steps now come in another order")
    return ["the plan made now differs from the saved one (" + "; ".join(parts) + ")"]


# ------------------------------------------------------------------------------------- the file


def to_json(plan: SavedPlan) -> dict[str, Any]:
    """The plan file (docs/gitops-push.md, "Saved plans"): versioned, sorted, no manifest values."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": plan.created,
        "project": plan.project,
        "revision": plan.revision,
        "options": {"prune": plan.prune, "prune_volumes": plan.prune_volumes, "adopt": plan.adopt,
                    "force_conflicts": plan.force_conflicts},
        "manifests": {"paths": list(plan.paths), "files": [{"file": f, "digest": d} for f, d in plan.files]},
        "host": [{"object": o.what, "id": o.id, "state": o.state, "labels": o.labels} for o in plan.host],
        "summary": dict(sorted(plan.summary.items())),
        "steps": [{"action": s.action, "resource": s.resource, "target": s.target, "lane": s.lane,
                   "cause": s.cause, "spec": s.spec} for s in plan.steps],
    }


def from_json(data: Any, source: str) -> SavedPlan:
    """A plan file read back; UsageError when it is not one this podspec can apply."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{source} is not a podspec plan file", "make one with `podspec diff --save-plan FILE`")
    if data.get("version") != VERSION:
        raise UsageError(f"{source} is a plan file of version {data.get('version')!r}; this podspec reads version {VERSION}",
                         "make the plan again with this podspec (`podspec diff --save-plan FILE`)")
    try:
        options, manifests = data["options"], data["manifests"]
        return SavedPlan(
            project=str(data["project"]),
            paths=tuple(str(p) for p in manifests["paths"]),
            files=tuple((str(f["file"]), str(f["digest"])) for f in manifests["files"]),
            host=tuple(sorted(SeenObject(str(o["object"]), str(o["id"]), str(o["state"]), str(o["labels"]))
                              for o in data["host"])),
            steps=tuple(SavedStep(str(s["action"]), str(s["resource"]), str(s["target"]), str(s["lane"]),
                                  str(s["cause"]), str(s["spec"])) for s in data["steps"]),
            summary={str(k): int(v) for k, v in data["summary"].items()},
            created=str(data.get("created") or ""), revision=str(data.get("revision") or ""),
            prune=bool(options["prune"]), prune_volumes=bool(options["prune_volumes"]), adopt=bool(options["adopt"]),
            force_conflicts=bool(options.get("force_conflicts", False)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UsageError(f"{source} is a damaged plan file ({type(error).__name__}: {error})",
                         "make the plan again (`podspec diff --save-plan FILE`)") from None
