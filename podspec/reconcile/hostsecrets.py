"""Secrets and ConfigMaps kept on the host (`podspec.io/host-secrets`, loader/hostsecrets.py): which
Podman secret each reference reads, so that a secret made again by hand is a change.

podspec cannot read a Podman secret's value, but Podman gives each secret an ID of its own, and
`podman secret rm` + `podman secret create` (or `create --replace`) makes a new one. The ID stands in
for the value's digest in the readers' intent: a new ID recreates exactly the containers that read
that secret, as a new value of a Secret in the manifests does. Pure.
"""

from __future__ import annotations

from dataclasses import replace

from podspec.model import Container, DesiredState, EnvVar, KeyRef, Pod, Volume
from podspec.observed import ObservedState


def with_host_ids(desired: DesiredState, observed: ObservedState) -> DesiredState:
    """`desired` with each host reference's digest naming the ID of the Podman secret it reads (a
    missing one keeps its name: the diff refuses the plan then)."""
    if not any(p.host_secrets for p in desired.pods):
        return desired
    ids = {s.name: s.id for s in observed.secrets}
    return replace(desired, pods=tuple(_pod(p, ids) if p.host_secrets else p for p in desired.pods))


def _ref(ref: KeyRef, ids: dict[str, str]) -> KeyRef:
    if not ref.host or ref.source not in ids:
        return ref
    return replace(ref, digest=f"host:{ids[ref.source]}")


def _container(c: Container, ids: dict[str, str]) -> Container:
    env = tuple(EnvVar(v.name, v.value, _ref(v.ref, ids)) if v.ref is not None else v for v in c.env)
    env_from = tuple(replace(s, entries=tuple(_ref(r, ids) for r in s.entries)) for s in c.env_from)
    return replace(c, env=env, env_from=env_from)


def _volume(v: Volume, ids: dict[str, str]) -> Volume:
    return replace(v, files=tuple(replace(f, ref=_ref(f.ref, ids)) for f in v.files)) if v.files else v


def _pod(pod: Pod, ids: dict[str, str]) -> Pod:
    return replace(
        pod,
        containers=tuple(_container(c, ids) for c in pod.containers),
        init_containers=tuple(_container(c, ids) for c in pod.init_containers),
        volumes=tuple(_volume(v, ids) for v in pod.volumes),
    )



