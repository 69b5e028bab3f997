"""`io.podman.annotations.volumes-from/<container>: "<podman container>[:ro|:rw];..."`, as
`podman kube play` reads it: the container mounts every volume of the named containers (Podman's
own --volumes-from, passed as it is in the container's create body; engine/specgen.py).

Checked here, before any change: the annotation names a container of the pod; a source that is a
container of the same pod must be created before it (an init container, or a container written
earlier); a source in another pod of the manifests is refused (podspec creates pods side by
side, so it may not exist yet). A source the manifests do not make must exist on the host:
Podman says so otherwise.
"""

from __future__ import annotations

from typing import Sequence

from podspec.errors import Problem
from podspec.model import VOLUMES_FROM_ANNOTATION, Pod, volumes_from_entries
from podspec.names import container_name


def sources(pod: Pod, container: str) -> tuple[str, ...]:
    """The volumes-from entries of one container of the pod, as Podman takes them: a name of a
    container of the same pod, as the manifest writes it (`podman kube play`'s own tests do), is
    made its Podman name (`<pod>-<name>`); other names and the options are kept ("srcctr:ro" ->
    "pod-srcctr:ro")."""
    return volumes_from_entries(pod, container)


def check(pods: Sequence[Pod]) -> list[Problem]:
    problems = []
    made = {container_name(p.name, c.name): p.name for p in pods for c in p.all_containers()}
    for pod in pods:
        order = [container_name(pod.name, c.name) for c in pod.all_containers()]
        for key, _ in pod.annotations:
            if not key.startswith(VOLUMES_FROM_ANNOTATION + "/"):
                continue
            target = key.split("/", 1)[1]
            where = pod.locations.of(("metadata", "annotations", key))
            path = f"metadata.annotations[{key}]"
            if container_name(pod.name, target) not in order:
                problems.append(Problem(where, path, f"annotation {key} names container {target!r}, which pod "
                                        f"{pod.name} does not have", "name one of the pod's containers after the /"))
                continue
            for entry in sources(pod, target):
                source, _, options = entry.partition(":")
                if options not in ("", "ro", "rw", "z", "Z") and not set(options.split(",")) <= {"ro", "rw", "z", "Z"}:
                    problems.append(Problem(where, path, f"volumes-from option {options!r} of {source} is not ro, rw, z or Z",
                                            "write NAME, NAME:ro or NAME:rw"))
                owner = made.get(source)
                if owner is None:
                    continue  # a container on the host: Podman refuses an unknown one
                if owner != pod.name:
                    problems.append(Problem(where, path, f"volumes-from {source} is a container of pod {owner}: "
                                            "podspec creates pods side by side, so it may not exist yet",
                                            "mount the same volumes in both pods (a persistentVolumeClaim)"))
                elif order.index(source) >= order.index(container_name(pod.name, target)):
                    problems.append(Problem(where, path, f"volumes-from {source}: it is created after {target}",
                                            "write the source container first (or make it an init container)"))
    return problems
