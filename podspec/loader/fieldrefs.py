"""What a pod knows of itself while it is read, for env fieldRef and resourceFieldRef and for
downwardAPI files alike: its name, namespace, labels and annotations, and its containers' written
cpu and memory requests and limits."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from podspec.loader.reporter import PodFacts, Reporter
from podspec.model import (
    FieldPath,
)

# fieldRef paths for one label or annotation (env fieldRef in build.py, downwardAPI items here); as
# text, compiled by re at their first use.
FIELD_LABEL = r"metadata\.labels\['(.+)'\]"
FIELD_ANNOTATION = r"metadata\.annotations\['(.+)'\]"
# The node's name: on one Podman host, the host's name as Podman reports it (GET /info), known
# only once the host is read (reconcile/nodename.py puts it in).
NODE_NAME_FIELD = "spec.nodeName"


# fieldRef paths `podman kube play` resolves (pkg/specgen/generate/kube: envVarValueFieldRef).
RESOURCE_DIVISORS = {
    "cpu": ("1", "1m"),
    "memory": ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"),
}


def field_ref(r: Reporter, facts: PodFacts, name: str, body: dict[str, Any], path: FieldPath) -> str:
    """The fieldRef paths `podman kube play` resolves, and the namespace as Kubernetes gives it; an
    absent label or annotation is ""."""
    field_path: str = body["fieldPath"]
    own = own_field(facts, field_path)
    if own is not None:
        return own
    if field_path == "metadata.uid":
        reason = "the pod's ID is only known once Podman has created the pod, and changes when it is replaced"
    else:
        reason = "it is a cluster's or a running pod's field, unknown before the pod is created"
    r.problem(
        path + ("fieldPath",), f"env {name}: fieldPath {field_path} is not supported: {reason}",
        "supported: metadata.name, metadata.namespace, metadata.labels['KEY'], metadata.annotations['KEY'], "
        "spec.nodeName; or set a value",
    )
    return ""


def resource_field_ref(r: Reporter, name: str, body: dict[str, Any], path: FieldPath, container: dict[str, Any]) -> str:
    """limits/requests of cpu/memory, divided by `divisor` and rounded up, as Kubernetes does.

    The value must be written in the manifest: `podman kube play` falls back to the host's
    memory and CPU count, which podspec cannot know before it talks to the host."""
    resource: str = body["resource"]
    group, _, what = resource.partition(".")
    if group not in ("limits", "requests") or what not in ("cpu", "memory"):
        r.problem(
            path + ("resource",), f"env {name}: resource {resource} is not supported",
            "supported: limits.cpu, limits.memory, requests.cpu, requests.memory",
        )
        return ""
    divisor = str(body.get("divisor", "1"))
    if divisor not in RESOURCE_DIVISORS[what]:
        r.problem(
            path + ("divisor",), f"env {name}: divisor {divisor} is not valid for {what}",
            f"use one of {', '.join(RESOURCE_DIVISORS[what])}",
        )
        return ""
    resources = container.get("resources") or {}
    written = (resources.get(group) or {}).get(what)
    if written is None and group == "requests":
        written = (resources.get("limits") or {}).get(what)  # a request defaults to the limit
    if written is None:
        r.problem(
            path + ("resource",), f"env {name}: {resource} is not set in this container's resources",
            f"set resources.{group}.{what}: podspec computes the value from the manifest, "
            "not from the host's total as kube play does",
        )
        return ""
    from podspec.loader import quantity

    try:
        value = quantity.parse(written) / quantity.parse(divisor)
    except quantity.QuantityError:
        return ""  # reported where the quantity is written
    return str(math.ceil(value))


def own_field(facts: PodFacts, field_path: str) -> str | None:
    """The fields of the pod known while it is read, as env fieldRef and downwardAPI files share
    them: its name, its namespace, one label or one annotation (absent: ""); None for any other
    path. The namespace is the one written, else `default`, as Kubernetes would give it (Podman
    has none; the written one gets a warning that it is ignored)."""
    if field_path == "metadata.name":
        return facts.name
    if field_path == "metadata.namespace":
        return facts.namespace
    for pattern, group in ((FIELD_LABEL, "labels"), (FIELD_ANNOTATION, "annotations")):
        match = re.fullmatch(pattern, field_path)
        if match:
            return str(facts.meta[group].get(match.group(1), ""))
    return None


def downward_field(r: Reporter, facts: PodFacts, field_path: str, path: FieldPath) -> str | None:
    """A fieldRef's content in a downwardAPI file: the pod's name or namespace, one label or
    annotation, or all of them as `key="value"` lines, sorted (the kubelet's format)."""
    own = own_field(facts, field_path)
    if own is not None:
        return own
    for group in ("labels", "annotations"):
        if field_path == f"metadata.{group}":
            return "\n".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(facts.meta[group].items()))
    r.problem(path, f"fieldPath {field_path} is not supported in a downwardAPI file: it is a cluster's or a "
                 "running pod's field, unknown before the pod is created",
                 "supported: metadata.name, metadata.namespace, metadata.labels, metadata.annotations, "
                 "metadata.labels['KEY'], metadata.annotations['KEY']")
    return None
