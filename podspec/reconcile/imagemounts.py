"""`io.podman.annotations.kube.image.volumes.mount/<container>: "img1;img2"` (pure), as `podman
kube play` applies it: for each image in turn, every path of its `Config.Volumes` (its VOLUME lines)
is mounted read-only into that container at that path, from that path of the image (an image volume
with subPath = the path); where two images declare the same path, the later image wins. The pod's
other containers get nothing.

The VOLUME paths are the host's to say (`podman image inspect`): run/pulls.py reads them, after the
pulls and only for the images this annotation names, into ObservedState.image_volumes; this puts
the mounts into each container before the diff (Container.image_mounts), so the intent, the plan and
the create body all hold them. An image not on the host yet (diff, apply --dry-run before the first
pull) has no paths known: its mounts appear once apply has pulled it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

from podspec.errors import PodspecError
from podspec.model import (
    IMAGE_MOUNTS_ANNOTATION,
    Container,
    DesiredState,
    ImageMount,
    Pod,
    image_mount_images,
)


def images(desired: DesiredState) -> tuple[str, ...]:
    """Every image the annotation names, sorted (each read once, whoever mounts it)."""
    return tuple(sorted({image for pod in desired.pods for c in pod.all_containers()
                         for image in image_mount_images(pod, c.name)}))


def mounts(listed: Sequence[str], volumes_of: Mapping[str, Sequence[str]]) -> tuple[ImageMount, ...]:
    """The mounts of one container: each image's VOLUME paths in list order, a later image taking a
    path an earlier one declared; an image whose paths are unknown (not on the host) gives none.
    Sorted by path."""
    by_path: dict[str, str] = {}
    for image in listed:
        for path in volumes_of.get(image, ()):
            by_path[path] = image
    return tuple(ImageMount(path, image) for path, image in sorted(by_path.items()))


def with_image_mounts(desired: DesiredState, volumes_of: Mapping[str, Sequence[str]]) -> DesiredState:
    """`desired` with each container's image mounts filled in from the images' VOLUME paths; raises
    (before any change) where a mount would land on a path the container already mounts."""
    if not desired.uses_image_mounts:
        return desired
    problems: list[str] = []

    def container(pod: Pod, c: Container) -> Container:
        listed = image_mount_images(pod, c.name)
        if not listed:
            return c
        found = mounts(listed, volumes_of)
        taken = {m.mount_path.rstrip("/") or "/" for m in c.volume_mounts}
        for m in found:
            if m.path.rstrip("/") in taken:
                problems.append(f"{pod.name}/{c.name}: image {m.image} declares VOLUME {m.path}, which the container "
                                f"already mounts (volumeMounts mountPath {m.path})")
        return replace(c, image_mounts=found)

    def pod(p: Pod) -> Pod:
        return replace(p, containers=tuple(container(p, c) for c in p.containers),
                       init_containers=tuple(container(p, c) for c in p.init_containers))

    resolved = replace(desired, pods=tuple(pod(p) for p in desired.pods))
    if problems:
        raise PodspecError(
            f"annotation {IMAGE_MOUNTS_ANNOTATION} mounts on a path already mounted:\n  " + "\n  ".join(problems),
            "remove the image from the annotation, or mount the volume elsewhere; nothing was changed")
    return resolved


def volume_paths(inspected: Mapping[str, object]) -> tuple[str, ...]:
    """An image's VOLUME paths from `podman image inspect` (Config.Volumes: {path: {}}), sorted."""
    config = inspected.get("Config") or {}
    volumes = config.get("Volumes") if isinstance(config, Mapping) else None
    return tuple(sorted(str(p) for p in volumes)) if isinstance(volumes, Mapping) else ()
