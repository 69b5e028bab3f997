"""What a change is, whatever the object: its consequence (an Action) and, for a change in
intent, the fields that changed (deepdiff of last-applied against desired, secrets redacted)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from podspec.reconcile.intent import SpecDict
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
    """One field that differs: its readable path, the value on the host, the value wanted."""

    path: str
    old: Any  # UNSET when the field was not set
    new: Any


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
