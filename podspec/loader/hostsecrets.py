"""Secrets and ConfigMaps that live on the host: the `podspec.io/host-secrets` annotation of a pod.

    metadata:
      annotations:
        podspec.io/host-secrets: db-password, tls-cert

names Podman secrets that someone made on the host (`podman secret create db-password FILE`). A
Secret or ConfigMap reference of the pod that no manifest defines reads the Podman secret of that
name, as it is: podspec never creates, changes or removes it, shows it in the plan as kept on the
host, and refuses the plan when it is missing. A Podman secret holds one value, so every key of
such a reference reads the whole of it; envFrom (every key) cannot be read from it, and a volume
of it says which file holds the value (`items`). A document of the same name in the manifests wins.
A secret made again on the host (a new Podman ID) recreates its readers (reconcile/hostsecrets.py).

The annotation, not a flag or a podspec.toml setting: it sits in git beside the reference it
satisfies, reviewed in the same pull request; validate in CI, diff and apply, targets over ssh and
the sync agent all read it the same way with nothing to pass; it covers exactly one pod, so a
mistyped name elsewhere is still an error; and a Kubernetes cluster ignores it.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")


def parse(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the names, sorted and unique; the entries that are not Podman secret names)."""
    entries = [e for e in re.split(r"[\s,]+", text.strip()) if e]
    good = sorted({e for e in entries if _NAME.match(e)})
    return tuple(good), tuple(e for e in entries if not _NAME.match(e))
