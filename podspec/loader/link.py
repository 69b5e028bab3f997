"""Linking: each ConfigMap and Secret reference of a pod is looked up in the documents read.

Runs after every document is built, over all files at once (a ConfigMap may sit in another file
than the pod that uses it). A reference to a missing ConfigMap, Secret or key is a problem at the
reference (file:line:col) unless it is `optional`; a present key gets the digest of its value
(and, for a ConfigMap env value, the value itself). Secret values never enter a message.

`validate` checks files on their own, as Kubernetes accepts a pod whose ConfigMap is created later:
there (`defined_elsewhere`), a ConfigMap or Secret that no document read defines is a warning that
says apply needs it; a missing key of a document that is read stays an error.
"""

from __future__ import annotations

import difflib
import posixpath
from dataclasses import replace
from typing import Iterable

from podspec.errors import Problem
from podspec.model import (
    FILE_VOLUMES,
    ConfigMap,
    Container,
    EnvFrom,
    EnvVar,
    FieldPath,
    KeyRef,
    Pod,
    Secret,
    SourceKind,
    Volume,
    VolumeKind,
)
from podspec.secrets import value_digest

_TITLE = {SourceKind.CONFIG_MAP: "ConfigMap", SourceKind.SECRET: "Secret"}
_ANNOTATION_SAYS = "which lives on the host as one Podman secret (podspec.io/host-secrets)"


class _OnHost:
    """A Secret or ConfigMap no manifest defines, read from the Podman secret of its name on the
    host (loader/hostsecrets.py)."""


ON_HOST = _OnHost()
# What a Podman secret can hold (containers/common: more than 0 bytes, less than 512000).
PODMAN_SECRET_LIMIT = 512000


class _Linker:
    def __init__(self, config_maps: Iterable[ConfigMap], secrets: Iterable[Secret], defined_elsewhere: bool = False) -> None:
        self.sources: dict[SourceKind, dict[str, ConfigMap | Secret]] = {
            SourceKind.CONFIG_MAP: {c.name: c for c in config_maps},
            SourceKind.SECRET: {s.name: s for s in secrets},
        }
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.defined_elsewhere = defined_elsewhere
        self.pod: Pod | None = None

    def say(self, path: FieldPath, message: str, hint: str = "", warning: bool = False) -> None:
        assert self.pod is not None
        problem = Problem(self.pod.locations.of(path), self.pod.locations.shown(path), message, hint)
        (self.warnings if warning else self.problems).append(problem)

    def find(self, kind: SourceKind, name: str, optional: bool, path: FieldPath) -> ConfigMap | Secret | _OnHost | None:
        found = self.sources[kind].get(name)
        if found is None and self.pod is not None and name in self.pod.host_secrets:
            return ON_HOST
        if found is None and not optional:
            names = sorted(self.sources[kind])
            close = difflib.get_close_matches(name, names, n=1) if len(name) <= 100 else []
            hint = f"did you mean {close[0]}? " if close else ""
            hint += f"add a {_TITLE[kind]} document named {name} beside the pods, or mark the reference optional: true"
            if self.defined_elsewhere:
                self.say(path, f"{_TITLE[kind]} {name} is not defined in these manifests: diff and apply need its "
                         "document among the manifests they read", hint, warning=True)
            else:
                self.say(path, f"{_TITLE[kind]} {name} is not defined in the manifests", hint)
        return found

    def ref(self, ref: KeyRef, path: FieldPath, for_env: bool) -> KeyRef:
        """`path`: the reference's mapping (configMapKeyRef / secretKeyRef)."""
        source = self.find(ref.kind, ref.source, ref.optional, path + ("name",))
        if source is None:
            return ref
        if isinstance(source, _OnHost):
            return replace(ref, digest=f"host:{ref.source}", host=True, value="")
        value = source.value(ref.key)
        if value is None:
            if not ref.optional:
                keys = ", ".join(k for k, _ in source.data) or "none"
                self.say(
                    path + ("key",), f"key {ref.key} is not in {_TITLE[ref.kind]} {ref.source}",
                    f"its keys: {keys}; or mark the reference optional: true",
                )
            return ref
        if (ref.kind is SourceKind.SECRET or not for_env) and not 0 < len(value) < PODMAN_SECRET_LIMIT:
            how = "empty" if not value else f"{len(value)} bytes long"
            assert self.pod is not None
            written = path + ("key",) in self.pod.locations.positions  # items[].key; else the whole volume
            self.say(
                path + ("key",) if written else path, f"key {ref.key} of {_TITLE[ref.kind]} {ref.source} is {how}: a Podman secret, which "
                f"podspec makes of it, holds 1 to {PODMAN_SECRET_LIMIT - 1} bytes",
                "give it a value" if not value else "split the value, or mount the data from a volume",
            )
        text = ""
        if isinstance(source, ConfigMap) and for_env:
            if ref.key in source.binary_keys:
                self.say(path + ("key",), f"key {ref.key} of ConfigMap {ref.source} is binaryData, not an env value",
                         "env values come from data; mount binaryData as a file with a configMap volume")
            text = value.decode(errors="replace")
        return replace(ref, digest=value_digest(value, ref.kind.value, ref.source, ref.key), value=text)

    def container(self, path: FieldPath, container: Container) -> Container:
        env = []
        for i, var in enumerate(container.env):
            if var.ref is None:
                env.append(var)
                continue
            which = "configMapKeyRef" if var.ref.kind is SourceKind.CONFIG_MAP else "secretKeyRef"
            env.append(EnvVar(var.name, var.value, self.ref(var.ref, path + ("env", i, "valueFrom", which), True)))
        env_from = []
        for i, source in enumerate(container.env_from):
            env_from.append(self.env_from(source, path + ("envFrom", i)))
        return replace(container, env=tuple(env), env_from=tuple(env_from))

    def env_from(self, source: EnvFrom, path: FieldPath) -> EnvFrom:
        if not source.source:
            return source  # reported by the builder
        which = "configMapRef" if source.kind is SourceKind.CONFIG_MAP else "secretRef"
        found = self.find(source.kind, source.source, source.optional, path + (which, "name"))
        if found is None:
            return source
        if isinstance(found, _OnHost):
            keyref = "secretKeyRef" if source.kind is SourceKind.SECRET else "configMapKeyRef"
            self.say(path + (which, "name"), f"envFrom reads every key of {_TITLE[source.kind]} {source.source}, "
                     f"{_ANNOTATION_SAYS}: its keys cannot be listed",
                     f"read its value into one variable: env: [{{name: VAR, valueFrom: {{{keyref}: {{name: {source.source}, key: value}}}}}}]")
            return source
        entries = []
        binary = found.binary_keys if isinstance(found, ConfigMap) else ()
        for key, _ in found.data:
            if key in binary:
                continue  # as Kubernetes: envFrom takes data only
            ref = KeyRef(source.kind, source.source, key)
            entries.append(self.ref(ref, path + (which,), True))
        return replace(source, entries=tuple(entries))

    def volume(self, index: int, volume: Volume) -> Volume:
        if volume.kind is VolumeKind.PROJECTED:
            return self.projected(index, volume)
        if volume.kind not in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
            return volume
        kind = SourceKind.CONFIG_MAP if volume.kind is VolumeKind.CONFIG_MAP else SourceKind.SECRET
        path: FieldPath = ("spec", "volumes", index, volume.kind.value)
        found = self.find(kind, volume.source, volume.optional, path + ("name" if kind is SourceKind.CONFIG_MAP else "secretName",))
        if found is None or not self.items_given(found, kind, volume.source, volume.items, path):
            return volume
        from podspec.model import ProjectedFile  # (model.EXTRA: only for manifests with such volumes)

        files = []
        if volume.items:
            for i, item in enumerate(volume.items):
                ref = self.ref(KeyRef(kind, volume.source, item.key, optional=volume.optional), path + ("items", i), False)
                if ref.present:
                    files.append(ProjectedFile(posixpath.normpath(item.path), item.mode if item.mode is not None else volume.default_mode, ref))
        elif not isinstance(found, _OnHost):
            for key, _ in found.data:
                files.append(ProjectedFile(key, volume.default_mode, self.ref(KeyRef(kind, volume.source, key), path, False)))
        seen: dict[str, int] = {}
        for f in files:
            if f.path in seen:
                self.say(path + ("items",), f"two items write the file {f.path}", "give each item its own path")
            seen[f.path] = 1
        return replace(volume, files=tuple(sorted(files, key=lambda f: f.path)))

    def projected(self, index: int, volume: Volume) -> Volume:
        """A projected volume: its downwardAPI files (made by the builder) and the files of each
        configMap and secret source, as a configMap or secret volume has them; no path twice."""
        from podspec.model import ProjectedFile

        files = list(volume.files)
        for i, projection in enumerate(volume.projections):
            path: FieldPath = ("spec", "volumes", index, "projected", "sources", i, projection.kind.value)
            found = self.find(projection.kind, projection.source, projection.optional, path + ("name",))
            if found is None or not self.items_given(found, projection.kind, projection.source, projection.items, path):
                continue
            if projection.items:
                for j, item in enumerate(projection.items):
                    ref = self.ref(KeyRef(projection.kind, projection.source, item.key, optional=projection.optional),
                                   path + ("items", j), False)
                    if ref.present:
                        mode = item.mode if item.mode is not None else volume.default_mode
                        files.append(ProjectedFile(posixpath.normpath(item.path), mode, ref))
            elif not isinstance(found, _OnHost):
                for key, _ in found.data:
                    ref = self.ref(KeyRef(projection.kind, projection.source, key), path, False)
                    files.append(ProjectedFile(key, volume.default_mode, ref))
        seen: set[str] = set()
        for f in files:
            if f.path in seen:
                self.say(("spec", "volumes", index, "projected", "sources"), f"two sources write the file {f.path}",
                         "give each item its own path")
            seen.add(f.path)
        return replace(volume, files=tuple(sorted(files, key=lambda f: f.path)))

    def items_given(self, found: ConfigMap | Secret | _OnHost, kind: SourceKind, name: str, items: tuple, path: FieldPath) -> bool:
        """A volume of a Secret or ConfigMap kept on the host must say which file holds its one value."""
        if isinstance(found, _OnHost) and not items:
            self.say(path, f"a volume of {_TITLE[kind]} {name}, {_ANNOTATION_SAYS}, must name the file that holds its value",
                     f"add items: [{{key: {name}, path: FILE}}]")
            return False
        return True

    def mounts(self, pod: Pod) -> None:
        """A subPath into a configMap or secret volume must name one of its files or directories."""
        volumes = {v.name: v for v in pod.volumes}
        for kind, group in (("initContainers", pod.init_containers), ("containers", pod.containers)):
            for i, container in enumerate(group):
                for j, mount in enumerate(container.volume_mounts):
                    volume = volumes.get(mount.name)
                    if volume is None or volume.kind not in FILE_VOLUMES or not mount.sub_path:
                        continue
                    if volume.optional and not volume.files:
                        continue
                    if not volume.files_at(mount.sub_path):
                        self.say(
                            ("spec", kind, i, "volumeMounts", j, "subPath"),
                            f"subPath {mount.sub_path} is not a file or directory of volume {volume.name}",
                            "its files: " + (", ".join(f.path for f in volume.files) or "none"),
                        )

    def link(self, pod: Pod) -> Pod:
        self.pod = pod
        volumes = tuple(self.volume(i, v) for i, v in enumerate(pod.volumes))
        linked = replace(
            pod,
            volumes=volumes,
            init_containers=tuple(self.container(("spec", "initContainers", i), c) for i, c in enumerate(pod.init_containers)),
            containers=tuple(self.container(("spec", "containers", i), c) for i, c in enumerate(pod.containers)),
        )
        self.pod = linked
        self.mounts(linked)
        self.pull_secrets(linked)
        return linked

    def pull_secrets(self, pod: Pod) -> None:
        """Each imagePullSecrets name is a Secret of type kubernetes.io/dockerconfigjson whose
        .dockerconfigjson holds registry credentials (checked here, never shown)."""
        from podspec.secrets import credentials_from_auth_json

        for i, name in enumerate(pod.image_pull_secrets):
            path = ("spec", "imagePullSecrets", i, "name")
            found = self.find(SourceKind.SECRET, name, False, path)
            if found is None:
                continue
            if isinstance(found, _OnHost):
                self.say(path, f"imagePullSecrets: Secret {name} {_ANNOTATION_SAYS.replace('which ', '')}: podspec "
                         "hands registry credentials to Podman itself and cannot read a Podman secret's value",
                         "keep this Secret in the manifests (SOPS-encrypted), or pass --authfile")
                continue
            if not isinstance(found, Secret) or found.type != "kubernetes.io/dockerconfigjson":
                self.say(path, f"Secret {name} is of type {getattr(found, 'type', '?')}, not kubernetes.io/dockerconfigjson",
                         "imagePullSecrets name Secrets made by kubectl create secret docker-registry "
                         "(type kubernetes.io/dockerconfigjson, key .dockerconfigjson)")
                continue
            try:
                credentials_from_auth_json(dict(found.data).get(".dockerconfigjson", b"").decode(errors="replace"),
                                           f"Secret {name}")
            except ValueError as exc:
                self.say(path, f"Secret {name}'s .dockerconfigjson is not a Docker config: {exc}",
                         'it holds {"auths": {"REGISTRY": {"auth": "base64 of user:password"}}}')



def link(
    pods: Iterable[Pod], config_maps: Iterable[ConfigMap], secrets: Iterable[Secret], defined_elsewhere: bool = False,
) -> tuple[list[Pod], list[Problem], list[Problem]]:
    """(linked pods, problems, warnings)."""
    linker = _Linker(config_maps, secrets, defined_elsewhere)
    linked = [linker.link(p) for p in pods]
    return linked, linker.problems, linker.warnings
