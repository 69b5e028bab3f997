"""Building a Deployment's or a Job's pod from the manifest: the workload's own checks (its
selector, replicas that one host can run, a Job's restart policy), its cluster-only fields as
warnings, and its pod (pods.py), or a Deployment's copies of it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from podspec.errors import Origin
from podspec.loader import semantics
from podspec.loader.pods import pod
from podspec.loader.reporter import Reporter
from podspec.model import Pod
from podspec.names import copy_name

if TYPE_CHECKING:
    from podspec.model import AbsentPod, Rollout

HOSTNAME_MAX = 63  # a pod's name is its hostname (Kubernetes: a DNS label)
MAX_REPLICAS = 1000  # copies of one Deployment on one host (a replicas of 2000000000 exhausted memory building them)


def workload(r: Reporter, data: dict[str, Any]) -> Pod | AbsentPod | list[Pod] | None:
    """The pod of a Deployment or Job, named as `podman kube play` names it: `<name>-pod`; a
    Deployment's further replicas are `<name>-pod-1`, `<name>-pod-2`, ... (copies that can share
    one host: no host ports, no host network)."""
    kind, meta, spec = data["kind"], data["metadata"], data["spec"]
    name = copy_name(meta["name"], 0)
    template = spec["template"]
    what = f"{kind} {meta['name']}"
    r.problems += semantics.metadata_problems(
        tuple((meta.get("labels") or {}).items()), tuple((meta.get("annotations") or {}).items()),
        lambda path: Origin(r.document.file, *r.document.key_at(path)), r.document.file,
    )
    for field, about in _CLUSTER_ONLY[kind]:
        if field in spec:
            r.problem_to(
                r.warnings, ("spec", field), f"{field} is ignored on a single Podman host (it is about {about})",
                "keep it for Kubernetes; --strict makes this an error", key=True,
            )
    if kind == "Deployment":
        selector(r, spec.get("selector") or {}, (template.get("metadata") or {}).get("labels") or {})
        replicas = int(spec.get("replicas", 1))
        if replicas > MAX_REPLICAS:
            r.problem(("spec", "replicas"), f"{replicas} replicas: at most {MAX_REPLICAS} copies run on one Podman host",
                      "lower replicas, or run this Deployment on Kubernetes, which spreads replicas over nodes")
            replicas = 1
        clash = _host_bound(template["spec"])
        if replicas > 1 and clash:
            r.problem(
                ("spec", "replicas"),
                f"{replicas} replicas with {clash}: copies on one Podman host would take the same host port",
                "use replicas: 1, or remove the host ports (each copy has its own address in the pod network), "
                "or run this Deployment on Kubernetes, which spreads replicas over nodes",
            )
            replicas = 1
        _hostname_fits(r, meta["name"], replicas)
        if replicas == 0:
            from podspec.model import AbsentPod  # (model.EXTRA: only for replicas: 0)

            r.base = ("spec", "template")
            return AbsentPod(name, f"{what} has replicas: 0", r.locations(), workload=what)
        rollout = _rollout(r, spec, replicas, clash)
        if replicas > 1:
            return [replace(p, rollout=rollout)
                    for p in copies(r, template, name, meta.get("annotations") or {}, what, replicas)]
        r.base = ("spec", "template")
        return replace(pod(r, template, name=name, extra_annotations=meta.get("annotations") or {}, workload=what),
                       rollout=rollout)
    else:
        _hostname_fits(r, meta["name"], 1)
        for field in ("parallelism", "completions"):
            if int(spec.get(field, 1)) > 1:
                r.problem(
                    ("spec", field), f"{field} {spec[field]}: one Podman host runs one pod per Job",
                    f"use {field}: 1, or run this Job on Kubernetes",
                )
        if spec.get("suspend"):
            r.problem(("spec", "suspend"), "suspend: true is not supported", "remove it; delete the Job to stop it")
        policy = (template["spec"]).get("restartPolicy")
        if policy not in ("Never", "OnFailure"):
            r.problem(
                ("spec", "template", "spec", "restartPolicy") if policy else ("spec", "template", "spec"),
                "a Job's pod needs restartPolicy Never or OnFailure" + (f", not {policy}" if policy else ""),
                "Kubernetes refuses other values for a Job; set restartPolicy: OnFailure or Never",
            )
    r.base = ("spec", "template")
    return pod(r, template, name=name, extra_annotations=meta.get("annotations") or {}, workload=what)


def _hostname_fits(r: Reporter, name: str, replicas: int) -> None:
    """Each pod of a workload is named `<name>-pod[-N]`, which is also its hostname: at most 63
    characters (Kubernetes' rule; Linux refuses a longer one when the pod starts)."""
    longest = copy_name(name, max(replicas, 1) - 1)
    if len(longest) > HOSTNAME_MAX:
        r.problem(("metadata", "name"),
                  f"its pod {longest} ({len(longest)} characters) would have a name, and a hostname, of more than "
                  f"{HOSTNAME_MAX} characters", f"shorten the name to at most {HOSTNAME_MAX - len(longest) + len(name)} characters")


def copies(r: Reporter, template: dict[str, Any], name: str, annotations: dict[str, str], what: str, replicas: int) -> list[Pod]:
    """A Deployment's replicas on one host: each copy is built on its own (metadata.name in env is
    its own name), the problems and warnings said once, for the first."""
    r.base = ("spec", "template")
    pods = [pod(r, template, name=name, extra_annotations=annotations, workload=what)]
    problems, warnings = r.problems, r.warnings
    r.problems, r.warnings = [], []
    try:
        pods += [pod(r, template, name=copy_name(what.split(" ", 1)[1], i), extra_annotations=annotations, workload=what)
                 for i in range(1, replicas)]
    finally:
        r.problems, r.warnings = problems, warnings
    return pods


def selector(r: Reporter, selector: dict[str, Any], labels: dict[str, str]) -> None:
    """Kubernetes refuses a Deployment whose selector does not select its own template."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            r.problem(
                ("spec", "selector", "matchLabels", key),
                f"the selector {key}={value} does not match the template's labels",
                f"add the label {key}: {value} to spec.template.metadata.labels; Kubernetes refuses such a Deployment",
                key=True,
            )
    for i, expression in enumerate(selector.get("matchExpressions") or ()):
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        matched = {
            "In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
            "Exists": key in labels, "DoesNotExist": key not in labels,
        }.get(operator, False)
        if not matched:
            r.problem(
                ("spec", "selector", "matchExpressions", i),
                f"the selector expression {key} {operator} {values} does not match the template's labels",
                "change the expression or the template's labels; Kubernetes refuses such a Deployment",
            )


# Workload fields that only a cluster's controllers act on: (field, what it is about).
_CLUSTER_ONLY = {
    "Deployment": (
        ("revisionHistoryLimit", "the ReplicaSets a cluster keeps"),
        ("minReadySeconds", "rollouts"),
        ("paused", "rollouts"),
    ),
    "Job": (
        ("backoffLimit", "the Job controller's retries; the pod's restartPolicy applies"),
        ("activeDeadlineSeconds", "the Job controller's deadline"),
        ("ttlSecondsAfterFinished", "the Job controller's clean-up of finished Jobs"),
        ("completionMode", "indexed Jobs"),
        ("manualSelector", "selecting the Job's pods"),
        ("selector", "selecting the Job's pods"),
        ("podFailurePolicy", "the Job controller's retries"),
        ("successPolicy", "the Job controller's rules for indexed Jobs"),
        ("backoffLimitPerIndex", "indexed Jobs"),
        ("maxFailedIndexes", "indexed Jobs"),
        ("podReplacementPolicy", "the Job controller's replacement of pods"),
        ("managedBy", "which controller runs the Job"),
    ),
}


def _rollout(r: Reporter, spec: dict[str, Any], replicas: int, clash: str) -> Rollout:
    """How a Deployment's copies are replaced (reconcile/rollout.py): maxSurge copies started beside
    the old ones (a percentage of the replicas rounded up, as Kubernetes does; default 25%) and
    maxUnavailable more replaced in place (rounded down; default 25%); both resolving to 0 replace
    one in place, as Kubernetes does. A copy that takes a host port (`clash`) cannot run twice on one
    host: it is replaced in place, maxUnavailable at a time (at least 1). Strategy Recreate: every
    copy at once. Each batch within progressDeadlineSeconds."""
    from podspec.model import Rollout  # (model.EXTRA: only for Deployments)

    strategy = spec.get("strategy") or {}
    deadline = int(spec.get("progressDeadlineSeconds", 600))
    if strategy.get("type") == "Recreate":
        return Rollout(batch=replicas, deadline=deadline)
    rolling = strategy.get("rollingUpdate") or {}
    surge = _scaled(rolling.get("maxSurge", "25%"), replicas, up=True)
    unavailable = _scaled(rolling.get("maxUnavailable", "25%"), replicas, up=False)
    if surge == 0 and unavailable == 0 and str(rolling.get("maxSurge")) == "0" and str(rolling.get("maxUnavailable")) == "0":
        r.problem(("spec", "strategy", "rollingUpdate", "maxUnavailable"), "maxUnavailable may not be 0 when maxSurge is 0",
                  "Kubernetes refuses it: allow one copy to be down (maxUnavailable: 1) or one more to start (maxSurge: 1)")
    if surge and clash:
        return Rollout(batch=max(1, min(unavailable, replicas)), deadline=deadline, in_place=clash)
    if surge == 0:
        return Rollout(batch=max(1, min(unavailable, replicas)), deadline=deadline)
    return Rollout(batch=min(unavailable, replicas), deadline=deadline, surge=min(surge, replicas))


def _scaled(value: Any, replicas: int, up: bool) -> int:
    """maxSurge / maxUnavailable: an integer, or a percentage of the replicas rounded up (maxSurge)
    or down (maxUnavailable), as Kubernetes' intstr.GetScaledValueFromIntOrPercent."""
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        share = replicas * int(text[:-1])
        return -(-share // 100) if up else share // 100
    return int(text) if text.isdigit() else 1


def _host_bound(spec: dict[str, Any]) -> str:
    """What ties a pod to one copy per host: "hostPort 80", "hostNetwork"; "" when nothing does."""
    if spec.get("hostNetwork"):
        return "hostNetwork"
    for group in ("initContainers", "containers"):
        for container in spec.get(group) or ():
            for port in container.get("ports") or ():
                if port.get("hostPort"):
                    return f"hostPort {port['hostPort']}"
    return ""
