"""Building a pod's volumes from the manifest: claims, host paths, emptyDirs, configMap and secret
volumes (linked to their documents later, by link.py), image volumes, downwardAPI and projected
volumes, and cluster storage. Functions over the document's reporter and the facts of the pod
being built."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any

from podspec import references
from podspec.loader.fieldrefs import downward_field, resource_field_ref
from podspec.loader.reporter import PodFacts, Reporter, int_or_none
from podspec.model import FieldPath, KeyRef, PullPolicy, SourceKind, Volume, VolumeKind
from podspec.names import cluster_storage_volume
from podspec.secrets import value_digest

if TYPE_CHECKING:
    from podspec.model import ProjectedFile, Projection

VOLUME_NAME = re.compile(r"[a-zA-Z0-9]([-_a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-_a-zA-Z0-9]*[a-zA-Z0-9])?)*")  # schema: volumeName
# Network and cloud disks: a cluster's storage. On one Podman host such a volume is a named volume of
# the pod's own (`<pod>-<volume>`, kept like a claim's), with a warning: its data is not the cluster's.
CLUSTER_STORAGE = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker",
    "gcePersistentDisk", "glusterfs", "iscsi", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd",
    "scaleIO", "storageos", "vsphereVolume",
)
VOLUME_SOURCES = ("persistentVolumeClaim", "hostPath", "emptyDir", "configMap", "secret", "image", "projected",
                  "downwardAPI", *CLUSTER_STORAGE)
# Sources of a projected volume that only a cluster provides (a token, a trust bundle, a certificate).
CLUSTER_PROJECTIONS = {
    "serviceAccountToken": "a cluster's service account tokens",
    "clusterTrustBundle": "a cluster's trust bundles",
    "podCertificate": "a cluster's pod certificates",
}


def volume(r: Reporter, facts: PodFacts, raw: dict[str, Any], path: FieldPath) -> Volume:
    sources = [s for s in VOLUME_SOURCES if s in raw]
    if len(sources) != 1:
        r.problem(
            path, "a volume needs exactly one of " + ", ".join(s for s in VOLUME_SOURCES if s not in CLUSTER_STORAGE)
            + " (or cluster storage such as nfs)" + (f"; found {', '.join(sources)}" if sources else ""),
        )
        return Volume(name=raw["name"], kind=VolumeKind.EMPTY_DIR)
    if sources[0] in CLUSTER_STORAGE:
        return cluster_storage(r, facts, raw["name"], sources[0], path)
    kind = VolumeKind(sources[0])
    body = raw[sources[0]]
    if kind is VolumeKind.CLAIM:
        return Volume(name=raw["name"], kind=kind, claim_name=body["claimName"], read_only=body.get("readOnly", False))
    if kind is VolumeKind.HOST_PATH:
        if "/" not in body["path"]:
            return host_path_volume(r, raw["name"], body["path"], path + ("hostPath", "path"))
        if not body["path"].startswith("/"):
            r.problem(path + ("hostPath", "path"), f"invalid value {body['path']!r}: must be an absolute path (starting with /)")
        return Volume(name=raw["name"], kind=kind, host_path=body["path"], host_path_type=body.get("type", ""))
    if kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
        from podspec.model import KeyToPath  # (model.EXTRA: only for manifests with such volumes)

        return Volume(
            name=raw["name"], kind=kind,
            source=body["name"] if kind is VolumeKind.CONFIG_MAP else body["secretName"],
            optional=bool(body.get("optional", False)),
            default_mode=int(body.get("defaultMode", 0o644)),
            items=tuple(
                KeyToPath(item["key"], item["path"], int_or_none(item.get("mode"))) for item in body.get("items", ())
            ),
        )
    if kind is VolumeKind.DOWNWARD_API:
        mode = int(body.get("defaultMode", 0o644))
        return Volume(name=raw["name"], kind=kind, default_mode=mode,
                      files=downward_files(r, facts, body.get("items", ()), mode, path + ("downwardAPI", "items")))
    if kind is VolumeKind.PROJECTED:
        return projected(r, facts, raw["name"], body, path + ("projected",))
    if kind is VolumeKind.IMAGE:
        reference, policy = body["reference"], body.get("pullPolicy")
        return Volume(name=raw["name"], kind=kind, image=references.normalize(reference),
                      image_pull_policy=references.pull_policy_or_default(PullPolicy(policy) if policy else None, reference))
    return empty_dir(r, raw["name"], body, path + ("emptyDir",))


def projected(r: Reporter, facts: PodFacts, name: str, body: dict[str, Any], path: FieldPath) -> Volume:
    """configMap and secret sources (linked later), downwardAPI files, and cluster-only sources
    (a service account token: no file here, with a warning)."""
    from podspec.model import KeyToPath, Projection  # (model.EXTRA: only for manifests with such volumes)

    mode = int(body.get("defaultMode", 0o644))
    projections: list[Projection] = []
    files: list[ProjectedFile] = []
    for i, source in enumerate(body.get("sources", ())):
        for kind, what in CLUSTER_PROJECTIONS.items():
            if kind in source:
                r.problem_to(
                    r.warnings, r.base + tuple(path) + ("sources", i, kind),
                    f"{kind} is ignored on a single Podman host (it is about {what}; the volume has no such file)",
                    "keep it for Kubernetes; --strict makes this an error", key=True,
                )
        for kind in (SourceKind.CONFIG_MAP, SourceKind.SECRET):
            written = source.get(kind.value)
            if written is not None:
                projections.append(Projection(
                    kind, written["name"], optional=bool(written.get("optional", False)),
                    items=tuple(KeyToPath(i["key"], i["path"], int_or_none(i.get("mode"))) for i in written.get("items", ())),
                ))
        if "downwardAPI" in source:
            files += downward_files(r, facts, source["downwardAPI"].get("items", ()), mode,
                                         path + ("sources", i, "downwardAPI", "items"))
    return Volume(name=name, kind=VolumeKind.PROJECTED, default_mode=mode, projections=tuple(projections),
                  files=tuple(files))


def downward_files(r: Reporter, facts: PodFacts, items: Any, mode: int, path: FieldPath) -> tuple[ProjectedFile, ...]:
    """downwardAPI items: the pod's fields as file contents, known now (as the kubelet writes them)."""
    from podspec.model import ProjectedFile  # (model.EXTRA: only for manifests with such volumes)

    files: list[ProjectedFile] = []
    for i, item in enumerate(items):
        where = path + (i,)
        if ("fieldRef" in item) == ("resourceFieldRef" in item):
            r.problem(where, "a downwardAPI item needs exactly one of fieldRef, resourceFieldRef")
            continue
        if "fieldRef" in item:
            key = item["fieldRef"]["fieldPath"]
            content = downward_field(r, facts, key, where + ("fieldRef", "fieldPath"))
        else:
            written = item["resourceFieldRef"]
            container = next((c for c in facts.containers if c.get("name") == written.get("containerName")), None)
            if container is None:
                r.problem(where + ("resourceFieldRef",), "a downwardAPI resourceFieldRef needs the containerName "
                             "of one of the pod's containers", key=True)
                continue
            key = f"{written['resource']}@{container['name']}/{written.get('divisor', '1')}"
            content = resource_field_ref(r, item["path"], written, where + ("resourceFieldRef",), container)
            if not content:
                continue  # said where it is written
        if content is None:
            continue
        if not content or len(content) >= 512000:
            r.problem(where, f"downwardAPI file {item['path']} would be {'empty' if not content else 'too long'}: "
                         "a Podman secret, which podspec makes of it, holds 1 to 511999 bytes",
                         "leave the item out, or give the pod what it reads (a label, an annotation)")
            continue
        ref = KeyRef(SourceKind.DOWNWARD_API, facts.name, key,
                     digest=value_digest(content.encode(), "downwardAPI", facts.name, key), value=content)
        file = ProjectedFile(posixpath.normpath(item["path"]), int(item.get("mode", mode)), ref)
        if any(f.path == file.path for f in files):
            r.problem(where + ("path",), f"two items write the file {file.path}", "give each item its own path")
        files.append(file)
    return tuple(sorted(files, key=lambda f: f.path))


def cluster_storage(r: Reporter, facts: PodFacts, name: str, source: str, path: FieldPath) -> Volume:
    """A network or cloud disk: the pod's own named volume on this host, kept like a claim's."""
    volume = cluster_storage_volume(facts.name, name)
    r.problem_to(
        r.warnings, r.base + tuple(path) + (source,),
        f"{source} is cluster storage: on a single Podman host this volume is the Podman named volume {volume}, "
        "made empty on this host and kept like a claim's (the cluster's data is not there)",
        "keep it for Kubernetes, or use a persistentVolumeClaim; --strict makes this an error", key=True,
    )
    return Volume(name=name, kind=VolumeKind.CLAIM, claim_name=volume)


def host_path_volume(r: Reporter, name: str, volume: str, path: FieldPath) -> Volume:
    """`hostPath: {path: NAME}` without a '/' is the Podman volume NAME, as `podman kube play` reads it."""
    if volume == "tmpfs":  # how Podman 4.3's `kube generate` writes a tmpfs mount
        r.problem(
            path, "hostPath tmpfs is how Podman 4.3's `kube generate` writes a tmpfs; `podman kube play` "
            "would make it a disk volume named tmpfs", "write the volume as emptyDir: {medium: Memory}",
        )
    elif not VOLUME_NAME.fullmatch(volume):
        r.problem(path, f"invalid value {volume!r}: must be an absolute path, or the name of a Podman volume")
    return Volume(name=name, kind=VolumeKind.CLAIM, claim_name=volume)


def empty_dir(r: Reporter, name: str, body: dict[str, Any], path: FieldPath) -> Volume:
    """emptyDir: a volume of the pod's own; medium Memory is a tmpfs, of sizeLimit when given."""
    medium = body.get("medium", "")
    size = None
    if medium == "Memory" and body.get("sizeLimit") is not None:
        from podspec.loader import quantity

        try:
            size = quantity.to_bytes(body["sizeLimit"])
        except quantity.QuantityError as error:
            r.problem(path + ("sizeLimit",), f"invalid sizeLimit {body['sizeLimit']!r}: {error}")
    return Volume(name=name, kind=VolumeKind.EMPTY_DIR, medium=medium, size_limit_bytes=size)
