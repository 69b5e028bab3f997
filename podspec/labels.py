"""The labels that mark what podspec created, and what it promised each object would be.

Every pod, container and volume podspec creates carries: managed-by, project, pod, the hash of its
intent and the intent itself (last-applied). podspec never modifies or removes an object without
`MANAGED_BY`.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Mapping

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
HISTORY = PREFIX + "history"  # on history volumes: one apply record as JSON (reconcile/history.py)
STOPPED = PREFIX + "stopped"  # on stop-mark volumes: a pod stopped on purpose (reconcile/lifecycle.py)
RESTARTS = PREFIX + "restarts"  # on restart-count volumes: a container's probe restarts (reconcile/lifecycle.py)
WORKLOAD = PREFIX + "workload"  # on pods: the Deployment or Job they are a copy of ("Deployment web")
SECRETS = PREFIX + "secrets"  # on containers: the Podman secrets they read, comma-separated
SOURCE = PREFIX + "source"  # on Podman secrets: "configMap/NAME" or "secret/NAME"
KEY = PREFIX + "key"  # on Podman secrets: the key whose value it holds
DIGEST = PREFIX + "digest"  # on Podman secrets: the digest of that value
ORIGIN = PREFIX + "origin"  # on everything an apply creates: the source of its manifests (run/origin.py)
NAMES = PREFIX + "names"  # on a project's names record (a volume): each pod's names on the network, as JSON


class Role(str, Enum):
    """A container's place in its pod (the `ROLE` label's value)."""

    CONTAINER = "container"
    INIT = "init"


def is_record(labels: Mapping[str, str] | None) -> bool:
    """A volume that holds one of podspec's records in its labels (an apply, a stop, restarts, a
    project's names on its network): never a manifest's volume, never pruned as one."""
    return labels is not None and (HISTORY in labels or STOPPED in labels or RESTARTS in labels or NAMES in labels)


def is_managed(labels: Mapping[str, str] | None) -> bool:
    return labels is not None and labels.get(MANAGED_BY) == MANAGER


def project_of(labels: Mapping[str, str] | None) -> str | None:
    return (labels or {}).get(PROJECT) if is_managed(labels) else None


def for_volume(project: str) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, PROJECT: project}


def for_empty_dir(project: str, pod: str) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, PROJECT: project, POD: pod, EMPTY_DIR: pod}


def last_applied(labels: Mapping[str, str] | None) -> dict[str, Any] | None:
    """The intent stored on an object, or None when absent or unreadable (then: recreate)."""
    text = (labels or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def origin_of(labels: Mapping[str, str] | None) -> str:
    """The source that applied an object; "" when none was recorded (made by an older podspec)."""
    return (labels or {}).get(ORIGIN, "")
