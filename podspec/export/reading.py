"""Reading what `podspec export` needs about pods, through any engine: inspect JSON, as Podman returns it.

It asks only for the reads in `PodReader`, which every Engine has (PodmanEngine, FakeEngine), so the
export workflow runs on either and this module imports no engine (export sits below engine).

One pod costs: its inspect, one inspect per container (init containers included, the infra one
left out: its ports and namespaces are in the pod's InfraConfig), one image inspect per image
used (for the image's own Env, Cmd, Entrypoint and WorkingDir, which export leaves out), one
volume inspect per named volume (labels), and Podman's own `kube generate` of the pod, read only
for which containers Podman counts as init containers (Podman 4.3's inspect does not say).
No decisions here: the exporter (export/inspected.py) makes them.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

from podspec.errors import PodNotFound
from podspec.export.inspected import PodData


class PodReader(Protocol):
    """The reads export makes: a part of engine.protocol.Engine."""

    @property
    def url(self) -> str: ...

    def pod_names(self) -> tuple[str, ...]: ...

    def inspect_pod(self, name: str) -> dict[str, Any]: ...

    def inspect_container(self, name: str) -> dict[str, Any]: ...

    def inspect_image(self, reference: str) -> dict[str, Any]: ...

    def inspect_volume(self, name: str) -> dict[str, Any]: ...

    def generate_kube(self, pod: str) -> str: ...


def pod_names(engine: PodReader) -> tuple[str, ...]:
    """Every pod on the host, sorted by name."""
    return engine.pod_names()


def read_pods(engine: PodReader, names: Sequence[str]) -> tuple[PodData, ...]:
    """Inspect data for the pods `names`, in that order; PodNotFound names every unknown one."""
    known = set(pod_names(engine))
    missing = [n for n in names if n not in known]
    if missing:
        raise PodNotFound(
            f"no pod named {', '.join(repr(n) for n in missing)} on {engine.url}",
            "pods here: " + (", ".join(sorted(known)) if known else "none") + " (see `podman pod ps`)",
        )
    images: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    return tuple(read_pod(engine, name, images, volumes) for name in names)


def read_pod(engine: PodReader, name: str, images: dict[str, dict], volumes: dict[str, dict]) -> PodData:
    """One pod; `images` and `volumes` are caches shared between pods (filled here)."""
    pod = engine.inspect_pod(name)
    infra = pod.get("InfraContainerID") or ""
    containers = tuple(
        engine.inspect_container(c["Id"]) for c in pod.get("Containers") or () if c.get("Id") != infra
    )
    for c in containers:
        image = c.get("Image") or ""
        if image and image not in images:
            images[image] = inspect_image(engine, image)
        for m in c.get("Mounts") or ():
            if m.get("Type") == "volume" and m.get("Name") and m["Name"] not in volumes:
                volumes[m["Name"]] = engine.inspect_volume(m["Name"])
    used_images = {c.get("Image") for c in containers}
    used_volumes = {m.get("Name") for c in containers for m in c.get("Mounts") or ()}
    return PodData(
        pod=pod,
        containers=containers,
        images={k: v for k, v in images.items() if k in used_images},
        volumes={k: v for k, v in volumes.items() if k in used_volumes},
        init_names=init_container_names(engine, name),
    )


def inspect_image(engine: PodReader, image: str) -> dict[str, Any]:
    return engine.inspect_image(image)


def init_container_names(engine: PodReader, pod: str) -> tuple[str, ...]:
    """The names under spec.initContainers in Podman's own `kube generate` of the pod."""
    import yaml

    from podspec.errors import EngineError

    try:
        text = engine.generate_kube(pod)
    except EngineError:
        # Podman 4.3's generator panics on some pods (a dnsConfig option without a value); podspec's
        # own labels and the containers' create commands still say which are init containers.
        return ()
    if not text:
        return ()
    names: list[str] = []
    for document in yaml.safe_load_all(text):
        if isinstance(document, dict) and document.get("kind") == "Pod":
            for c in (document.get("spec") or {}).get("initContainers") or ():
                if isinstance(c, dict) and isinstance(c.get("name"), str):
                    names.append(c["name"])
    return tuple(names)
