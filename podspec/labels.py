"""The labels that mark what podspec created, and what it promised each object would be.

Every pod, container and volume podspec creates carries: managed-by, project, pod, the hash of its
intent and the intent itself (last-applied). podspec never modifies or removes an object without
`MANAGED_BY`.
"""

from __future__ import annotations

import json
from typing import Mapping

from podspec.intent import ContainerIntent, PodIntent, SpecDict, canonical_json

PREFIX = "io.podspec."
MANAGED_BY = PREFIX + "managed-by"
MANAGER = "podspec"
PROJECT = PREFIX + "project"
POD = PREFIX + "pod"
CONTAINER = PREFIX + "container"
ROLE = PREFIX + "role"
HASH = PREFIX + "hash"
LAST_APPLIED = PREFIX + "last-applied"
INIT_TYPE = PREFIX + "init-type"
PULL_POLICY = PREFIX + "pull-policy"
EMPTY_DIR = PREFIX + "empty-dir"  # on volumes: the pod whose emptyDir this volume is
CONTAINERS = PREFIX + "containers"  # on pods: the containers the pod should have, comma-separated


def is_managed(labels: Mapping[str, str] | None) -> bool:
    return bool(labels) and labels.get(MANAGED_BY) == MANAGER


def project_of(labels: Mapping[str, str] | None) -> str | None:
    return (labels or {}).get(PROJECT) if is_managed(labels) else None


def for_volume(project: str) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, PROJECT: project}


def for_empty_dir(project: str, pod: str) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, PROJECT: project, POD: pod, EMPTY_DIR: pod}


def for_pod(project: str, intent: PodIntent) -> dict[str, str]:
    labels = dict(intent.spec.get("labels", {}))
    labels.update(
        {
            MANAGED_BY: MANAGER,
            PROJECT: project,
            POD: intent.name,
            HASH: intent.hash,
            LAST_APPLIED: canonical_json(intent.spec),
            INIT_TYPE: intent.init_type.value,
            CONTAINERS: ",".join(c.name for c in intent.containers),
        }
    )
    return labels


def for_container(project: str, pod: str, intent: ContainerIntent) -> dict[str, str]:
    return {
        MANAGED_BY: MANAGER,
        PROJECT: project,
        POD: pod,
        CONTAINER: intent.name,
        ROLE: intent.role.value,
        HASH: intent.hash,
        LAST_APPLIED: canonical_json(intent.spec),
        PULL_POLICY: intent.pull_policy.value,
    }


def last_applied(labels: Mapping[str, str] | None) -> SpecDict | None:
    """The intent stored on an object, or None when absent or unreadable (then: recreate)."""
    text = (labels or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
