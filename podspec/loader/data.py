"""Building the documents that hold data: PersistentVolumeClaims, ConfigMaps and Secrets (keys,
base64, the keys each Secret type needs)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from podspec.loader.reporter import Reporter
from podspec.model import (
    ConfigMap,
    FieldPath,
    Secret,
    VolumeClaim,
)

# Podman volume options podspec does not apply yet: refused rather than ignored.
VOLUME_OPTION_PREFIX = "volume.podman.io/"
# ConfigMap and Secret keys (Kubernetes: IsConfigMapKey).
CONFIG_KEY = r"[-._a-zA-Z0-9]+"  # (a pattern's text: re compiles it at its first use, not at every start-up)
# The Secret types podspec takes as data. Others (service-account-token, tls, basic-auth...) are
# kept for a cluster's controllers and have no meaning here.
# Kubernetes' Secret types: the keys the API server requires of each (one of them, for basic-auth).
# Any other type (a custom one) is data as it stands, as on Kubernetes.
SECRET_KEYS = {
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}
# Types a cluster fills or acts on itself: accepted, their data used as written, with a warning.
CLUSTER_SECRET_TYPES = {
    "kubernetes.io/service-account-token": "a cluster's service account tokens",
    "bootstrap.kubernetes.io/token": "joining nodes to a cluster",
}


def claim(r: Reporter, data: dict[str, Any]) -> VolumeClaim:
    meta = data["metadata"]
    for key in meta.get("annotations") or {}:
        if key.startswith(VOLUME_OPTION_PREFIX):
            r.problem(
                ("metadata", "annotations", key), f"Podman volume option {key} is not supported",
                "remove it; podspec creates local named volumes", key=True,
            )
    return VolumeClaim(name=meta["name"], labels=tuple(sorted((meta.get("labels") or {}).items())), locations=r.locations())


def keys(r: Reporter, data: dict[str, Any], group: str) -> None:
    for key in data:
        if len(key) > 253 or not re.fullmatch(CONFIG_KEY, key):
            r.problem(
                (group, key), f"invalid key {key[:80]!r}",
                "at most 253 letters, digits, '-', '_' and '.'", key=True,
            )
        elif key in (".", ".."):
            r.problem((group, key), f"invalid key {key!r}", "a key cannot be . or ..", key=True)


def config_map(r: Reporter, data: dict[str, Any]) -> ConfigMap:
    meta = data["metadata"]
    text: dict[str, str] = data.get("data") or {}
    binary: dict[str, str] = data.get("binaryData") or {}
    keys(r, text, "data")
    keys(r, binary, "binaryData")
    values = {k: v.encode() for k, v in text.items()}
    for key, encoded in binary.items():
        if key in text:
            r.problem(("binaryData", key), f"key {key} is in both data and binaryData", "keep one", key=True)
        values[key] = decoded_base64(r, encoded, ("binaryData", key))
    return ConfigMap(
        name=meta["name"], data=tuple(sorted(values.items())),
        labels=tuple(sorted((meta.get("labels") or {}).items())), locations=r.locations(),
        binary_keys=tuple(sorted(binary)),
    )


def decoded_base64(r: Reporter, encoded: str, path: FieldPath) -> bytes:
    """Decoded strictly, as Kubernetes does; the message never shows the value."""
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        r.problem(
            path, f"the value of {path[-1]} is not valid base64",
            "encode it with `base64 -w0`, or put the plain text under stringData",
        )
        return b""


def secret(r: Reporter, data: dict[str, Any]) -> Secret:
    meta = data["metadata"]
    kind = data.get("type", "Opaque")
    if kind in CLUSTER_SECRET_TYPES:
        r.problem_to(
            r.warnings, ("type",), f"type: {kind} is ignored on a single Podman host (it is about "
            f"{CLUSTER_SECRET_TYPES[kind]}; the data is used as written)",
            "keep it for Kubernetes; --strict makes this an error",
        )
    encoded: dict[str, str] = data.get("data") or {}
    plain: dict[str, str] = data.get("stringData") or {}
    keys(r, encoded, "data")
    keys(r, plain, "stringData")
    values = {k: decoded_base64(r, v, ("data", k)) for k, v in encoded.items()}
    values.update({k: v.encode() for k, v in plain.items()})  # stringData wins, as in Kubernetes
    needed = SECRET_KEYS.get(kind, ())
    missing = [k for k in needed if k not in values]
    if kind == "kubernetes.io/basic-auth" and not {"username", "password"} & set(values):
        r.problem(("type",), "a kubernetes.io/basic-auth Secret needs the key username or password")
    elif missing:
        r.problem(("type",), f"a {kind} Secret needs the key{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                     "as a Kubernetes API server requires it")
    return Secret(
        name=meta["name"], type=kind, data=tuple(sorted(values.items())),
        labels=tuple(sorted((meta.get("labels") or {}).items())), locations=r.locations(),
    )
