"""`io.podman.annotations.kube.image.volumes.mount/<container>: "<image>;<image>"`, as `podman kube
play` reads it: each image's VOLUME paths are mounted read-only into that container, a later image
winning a path an earlier one declared (reconcile/imagemounts.py; the paths are read from the host,
after the images are pulled when absent).

Checked here, before any change: the annotation names a container of the pod (init containers
count, as kube play reads it for them too); each entry is an image reference; no entry is empty.
Whether this Podman can mount them (5.1 or newer) is checked against the host (reconcile/pulls.py).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Sequence

from podspec.errors import Problem
from podspec.model import IMAGE_MOUNTS_ANNOTATION, Pod


@cache
def _reference() -> re.Pattern[str]:
    """An image reference, as the schema checks a container's image (one rule, one home)."""
    from podspec.loader.schema import schema

    return re.compile(schema()["$defs"]["container"]["properties"]["image"]["pattern"])


def check(pods: Sequence[Pod]) -> list[Problem]:
    problems = []
    for pod in pods:
        names = {c.name for c in pod.all_containers()}
        for key, value in pod.annotations:
            if key != IMAGE_MOUNTS_ANNOTATION and not key.startswith(IMAGE_MOUNTS_ANNOTATION + "/"):
                continue
            where = pod.locations.of(("metadata", "annotations", key))
            path = f"metadata.annotations[{key}]"
            target = key.partition("/")[2]
            if not target:
                problems.append(Problem(where, path, f"annotation {key} names no container",
                                        f"write {IMAGE_MOUNTS_ANNOTATION}/<container>: \"image;image\""))
                continue
            if target not in names:
                known = ", ".join(sorted(names))
                problems.append(Problem(where, path, f"annotation {key} names container {target!r}, which pod "
                                        f"{pod.name} does not have", f"name one of the pod's containers ({known}) after the /"))
                continue
            entries = [e.strip() for e in value.split(";")]
            if not any(entries):
                problems.append(Problem(where, path, f"annotation {key} names no image",
                                        "write the images whose VOLUME paths to mount, separated by ;, or remove it"))
                continue
            for entry in entries:
                if not entry:
                    problems.append(Problem(where, path, f"annotation {key} has an empty entry in {value!r}",
                                            "separate the images with a single ; and no ; at the end"))
                elif not _reference().search(entry):
                    problems.append(Problem(where, path, f"annotation {key}: {entry!r} is not an image reference",
                                            "write image references such as registry.example/app:1.0, separated by ;"))
    return problems
