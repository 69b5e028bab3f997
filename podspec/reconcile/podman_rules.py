"""Podman's rules, as data: which changes a running pod can take and which force a replacement.

The diff consults these to say each change's consequence; the planner to order the steps.
"""

from __future__ import annotations

# Pod intent fields that Podman cannot change on an existing pod, and why.
REPLACE_REASONS: dict[str, str] = {
    "ports": "ports are published by the pod's infra container and cannot change after the pod is created",
    "hostname": "the hostname belongs to the pod's infra container and cannot change after the pod is created",
    "hostNetwork": "the network namespace is chosen when the pod is created and cannot change after",
    "hostPID": "the PID namespace is chosen when the pod is created and cannot change after",
    "hostIPC": "the IPC namespace is chosen when the pod is created and cannot change after",
    "hostAliases": "/etc/hosts entries belong to the pod's infra container and cannot change after creation",
    "labels": "Podman cannot change a pod's labels in place",
    "initContainers": "an init container cannot be added to or changed in a running pod",
    "initContainerType": "an init container cannot be added to or changed in a running pod",
    "dnsNameservers": "DNS settings belong to the pod's infra container and cannot change after the pod is created",
    "dnsSearches": "DNS settings belong to the pod's infra container and cannot change after the pod is created",
    "dnsOptions": "DNS settings belong to the pod's infra container and cannot change after the pod is created",
    "shareProcessNamespace": "the namespaces a pod shares are chosen when the pod is created and cannot change after",
    "privateUsers": "the user namespace is chosen when the pod is created and cannot change after",
}
DEFAULT_REPLACE_REASON = "Podman cannot change this pod setting in place"

# Shortest stop timeout used when podspec stops a pod it is about to remove (seconds). Podman's pod
# stop endpoint treats 0 as its 10 s default, so 1 is the floor.
MIN_STOP_TIMEOUT = 1



def replace_reason(field: str) -> str:
    return REPLACE_REASONS.get(field, DEFAULT_REPLACE_REASON)


# Manifest features that need a newer Podman than some hosts have: (what, minimum version).
SUBPATH_ON_VOLUMES = ("subPath on a persistentVolumeClaim or emptyDir mount", (5, 0))
# Podman puts a secret env value into the container's environment; before 5.3 `podman inspect`
# shows it in clear (Config.Env; containers/podman#23788, fixed by #23959 in 5.3.0).
SECRET_ENV_HIDDEN = ("an env value from a Secret (secretKeyRef, envFrom secretRef) hidden from `podman inspect`", (5, 3))
# Podman's REST API takes image volumes (specgen image_volumes, `--mount type=image`) on 4.3 as on 5:
# mounted read-only, checked on 4.3.1 and 5.4.2 (tests/integration/test_podman_versions.py). Only
# Podman 5 plays them from Kubernetes YAML (`podman kube play`); podspec goes through the API, so 4.3
# (the oldest Podman podspec is tested on) is the minimum. subPath on one needs 5.1 (below).
IMAGE_VOLUMES = ("an image volume", (4, 3))
SUBPATH_ON_IMAGE_VOLUMES = ("subPath on an image volume", (5, 1))  # Podman 5.1 added it to the API
# io.podman.annotations.kube.image.volumes.mount: each VOLUME path is an image volume with that path
# as its subPath (reconcile/imagemounts.py), as `podman kube play` makes it: 5.1, as above.
IMAGE_MOUNTS = ("mounting an image's VOLUME paths (an image volume with a subPath)", SUBPATH_ON_IMAGE_VOLUMES[1])
# Podman 4.3's REST API takes a pod's `userns: auto` but creates the infra container without it (the
# CLI, and so `podman kube play`, fill the ID mappings in themselves): the pod then fails to start,
# root or rootless ("can't get final child's PID from pipe"). Podman 5's API gives the pod its own
# user namespace (from the user's subordinate IDs when rootless, from the `containers` ranges as root).
PRIVATE_USER_NAMESPACE = ("hostUsers: false (a private user namespace) through Podman's API", (5, 0))


def version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("-")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
