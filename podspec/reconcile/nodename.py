"""`fieldRef: spec.nodeName` (pure): on one Podman host the node is the host, so the value is the
host's name as Podman reports it (GET /info's host.hostname, read once per command, and only when
the manifests ask for it). The loader leaves such a variable empty and marked (EnvVar.node_name);
this puts the observed name in before the diff, so the intent, the diff and the container's
environment all hold the real value (a host renamed later is a changed env: the pod is replaced,
as a pod moved to another node is a new pod on a cluster)."""

from __future__ import annotations

from dataclasses import replace

from podspec.model import Container, DesiredState, Pod


def with_node_name(desired: DesiredState, hostname: str) -> DesiredState:
    """`desired` with every spec.nodeName variable set to `hostname`."""
    if not desired.uses_node_name:
        return desired

    def container(c: Container) -> Container:
        if not any(v.node_name for v in c.env):
            return c
        return replace(c, env=tuple(replace(v, value=hostname) if v.node_name else v for v in c.env))

    def pod(p: Pod) -> Pod:
        return replace(p, containers=tuple(container(c) for c in p.containers),
                       init_containers=tuple(container(c) for c in p.init_containers))

    return replace(desired, pods=tuple(pod(p) for p in desired.pods))
