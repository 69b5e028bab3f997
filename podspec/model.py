"""The desired state: what the manifests ask for, normalized once, frozen.

The loader builds these from YAML; the diff, the planner and the policy read them. Defaults are
filled in here (by the loader) so that the same intent written two ways compares equal: an omitted
`protocol` is TCP, an omitted `imagePullPolicy` follows Kubernetes' rule, `alpine` is
`alpine:latest`, capabilities lose their `CAP_` prefix.

`origin` and `locations` say where a thing was written; they never take part in comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from podspec.errors import Origin, Problem

if TYPE_CHECKING:  # defined in model_extra.py, at their first use (see __getattr__ at the end)
    from podspec.model_extra import AbsentPod as AbsentPod
    from podspec.model_extra import EncryptedDocument as EncryptedDocument
    from podspec.model_extra import HostAlias as HostAlias
    from podspec.model_extra import ImageMount as ImageMount
    from podspec.model_extra import KeyToPath as KeyToPath
    from podspec.model_extra import Probe as Probe
    from podspec.model_extra import ProbeHandler as ProbeHandler
    from podspec.model_extra import ProjectedFile as ProjectedFile
    from podspec.model_extra import Projection as Projection
    from podspec.model_extra import Rollout as Rollout
    from podspec.model_extra import Service as Service
    from podspec.model_extra import ServicePort as ServicePort
    from podspec.model_extra import ServiceType as ServiceType

INIT_TYPE_ANNOTATION = "io.podman.annotations.init.container.type"
VOLUMES_FROM_ANNOTATION = "io.podman.annotations.volumes-from"  # /<container>: "<podman container>[:ro];..."
# /<container>: "<image>;<image>": each image's VOLUME paths mounted read-only into the container
# (reconcile/imagemounts.py), as `podman kube play` mounts them.
IMAGE_MOUNTS_ANNOTATION = "io.podman.annotations.kube.image.volumes.mount"
# A pod's Secrets and ConfigMaps that live on the host as Podman secrets of those names (made by hand,
# `podman secret create NAME FILE`), comma-separated: read as they are, never changed by podspec.
HOST_SECRETS_ANNOTATION = "podspec.io/host-secrets"

# A field path inside one YAML document: ("spec", "containers", 0, "image").
FieldPath = tuple[str | int, ...]


class PullPolicy(str, Enum):
    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


class AutoUpdate(str, Enum):
    """Podman's `io.containers.autoupdate` policies that podspec's agent carries out."""

    REGISTRY = "registry"  # the tag's digest in the registry moved: pull, recreate
    LOCAL = "local"  # the tag names another local image (podman build, podman pull): recreate


AUTO_UPDATE_ANNOTATION = "io.containers.autoupdate"  # and "/<container>" for one container


class Protocol(str, Enum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


class InitContainerType(str, Enum):
    ONCE = "once"
    ALWAYS = "always"


class RestartPolicy(str, Enum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class VolumeKind(str, Enum):
    CLAIM = "persistentVolumeClaim"
    HOST_PATH = "hostPath"
    EMPTY_DIR = "emptyDir"
    CONFIG_MAP = "configMap"
    SECRET = "secret"
    IMAGE = "image"
    PROJECTED = "projected"
    DOWNWARD_API = "downwardAPI"


# Volumes whose content is files podspec makes (each a Podman secret mounted at its path).
FILE_VOLUMES = frozenset({VolumeKind.CONFIG_MAP, VolumeKind.SECRET, VolumeKind.PROJECTED, VolumeKind.DOWNWARD_API})


class SourceKind(str, Enum):
    """Where a container's env value or file comes from: a ConfigMap or a Secret document, or the
    pod's own fields (a downwardAPI file: its key is the field, its value known when loading)."""

    CONFIG_MAP = "configMap"
    SECRET = "secret"
    DOWNWARD_API = "downwardAPI"


@dataclass(frozen=True)
class Locations:
    """Where each field of one document was written; looked up by field path.

    A path that was not written (a default) resolves to its nearest written ancestor.
    """

    file: str
    positions: Mapping[FieldPath, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))
    # Where the object sits in its document, for messages: ("spec", "template") for the pod of a
    # Deployment or Job (positions are keyed by paths relative to it).
    prefix: FieldPath = ()

    def shown(self, path: FieldPath) -> str:
        """The path as the user wrote it in the document: spec.template.spec.containers[0]..."""
        return dotted(self.prefix + tuple(path))

    def of(self, path: FieldPath) -> Origin:
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found is not None:
                return Origin(self.file, found[0], found[1])
        return Origin(self.file)

    # Locations never make two models differ.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Locations)

    def __hash__(self) -> int:
        return 0


NOWHERE = Locations(file="<unknown>")


@dataclass(frozen=True)
class PortMapping:
    """One container port, and the host port and address it is published on."""

    container_port: int
    host_port: int | None = None
    host_ip: str = ""  # "" means every address (Kubernetes' default; "0.0.0.0" normalizes to it)
    protocol: Protocol = Protocol.TCP
    name: str = field(default="", compare=False)  # only for probes to refer to; nothing on Podman


@dataclass(frozen=True)
class KeyRef:
    """One key of a ConfigMap or Secret that a container consumes (env valueFrom, envFrom, a file).

    The loader links it to the document: `digest` is the digest of the key's value ("" when the
    key is absent and the reference optional). A Secret's value is never held here; a ConfigMap's
    is (`value`), because it becomes a plain env value, as `podman kube play` makes it.
    """

    kind: SourceKind
    source: str  # the ConfigMap's or Secret's name
    key: str
    optional: bool = False
    digest: str = ""
    value: str = field(default="", repr=False)  # a ConfigMap env value; a downwardAPI file's content
    # The Secret or ConfigMap lives on the host: the Podman secret named `source`, made by someone
    # else (HOST_SECRETS_ANNOTATION). One Podman secret holds one value: every key reads all of it.
    host: bool = False

    @property
    def present(self) -> bool:
        return bool(self.digest)


@dataclass(frozen=True)
class EnvVar:
    """One environment variable of a container: a value, or a ConfigMap or Secret key it reads."""

    name: str
    value: str
    ref: KeyRef | None = None  # valueFrom configMapKeyRef / secretKeyRef (fieldRef is resolved into value)
    # fieldRef spec.nodeName: the host's name, observed (GET /info) and put into value before the diff
    # (reconcile/nodename.py); "" until then.
    node_name: bool = False


@dataclass(frozen=True)
class EnvFrom:
    """envFrom: every key of a ConfigMap or Secret, as `prefix + key` (linked by the loader)."""

    kind: SourceKind
    source: str
    prefix: str = ""
    optional: bool = False
    entries: tuple[KeyRef, ...] = ()  # sorted by key; empty when absent and optional


@dataclass(frozen=True)
class VolumeMount:
    """Where a container mounts one of its pod's volumes."""

    name: str
    mount_path: str
    read_only: bool = False
    sub_path: str = ""
    relabel: str = ""  # "z" (shared) or "Z" (private): SELinux relabelling, written as `mountPath: /data:z`


@dataclass(frozen=True)
class Resources:
    """A container's CPU and memory limits and requests, in millicores and bytes."""

    cpu_limit_millis: int | None = None
    memory_limit_bytes: int | None = None
    cpu_request_millis: int | None = None
    memory_request_bytes: int | None = None


@dataclass(frozen=True)
class SecurityContext:
    """What a container runs as and may do: user, group, capabilities, privileges."""

    privileged: bool = False
    capabilities_add: tuple[str, ...] = ()  # upper case, no CAP_ prefix, sorted, unique
    capabilities_drop: tuple[str, ...] = ()
    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None
    read_only_root_filesystem: bool = False
    allow_privilege_escalation: bool | None = None
    seccomp_profile: str | None = None  # "RuntimeDefault", "Unconfined", "Localhost:<path>"
    proc_mount: str = ""  # "" (Default) or "Unmasked"
    app_armor_profile: str | None = None  # "RuntimeDefault", "Unconfined", "Localhost:<profile>"
    # seLinuxOptions as Podman's label options, in the order user, role, type, level: ("type:spc_t",)
    se_linux_options: tuple[str, ...] = ()


# Where seccomp profiles of type Localhost live on a Podman host, as /var/lib/kubelet/seccomp does on a
# node: localhostProfile is a path relative to it (no `..`, not absolute), resolved here and nowhere else.
SECCOMP_ROOT = "/etc/podspec/seccomp"


def seccomp_file(local: str) -> str:
    """The file of a Localhost seccomp profile (`local`: its localhostProfile, already checked)."""
    return f"{SECCOMP_ROOT}/{local.lstrip('/')}"


def local_profile_problem(local: str) -> str | None:
    """Why a Localhost profile name is refused (as Kubernetes' validation does for seccomp: a
    relative path that does not climb), or None."""
    if not local.strip():
        return "is empty"
    if local.startswith("/"):
        return "is an absolute path"
    if ".." in local.split("/"):
        return "contains .."
    if any(ch in local for ch in "\x00\n\r"):
        return "contains a control character"
    return None


@dataclass(frozen=True)
class Container:
    """One container of a pod, as the manifests want it (defaults normalized)."""

    name: str
    image: str
    pull_policy: PullPolicy = PullPolicy.IF_NOT_PRESENT
    auto_update: AutoUpdate | None = None  # io.containers.autoupdate (registry: pulled as Always would be)
    command: tuple[str, ...] = ()  # empty: the image's entrypoint
    args: tuple[str, ...] = ()  # empty: the image's cmd
    working_dir: str = ""
    env: tuple[EnvVar, ...] = ()  # manifest order (later entries may refer to earlier ones)
    ports: tuple[PortMapping, ...] = ()
    volume_mounts: tuple[VolumeMount, ...] = ()
    resources: Resources = Resources()
    security: SecurityContext = SecurityContext()
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    stop_signal: str = ""  # lifecycle.stopSignal, e.g. "SIGQUIT"; "" is the image's (else SIGTERM)
    stdin: bool = False
    tty: bool = False
    env_from: tuple[EnvFrom, ...] = ()
    # Made by podspec, not written: the proxy of a Service port that differs from its targetPort
    # ("8080->80"; see loader/services.py). Export leaves such containers out.
    service_proxy: str = ""
    # Read from the host, not written: the mounts the pod's image-volumes-mount annotation gives this
    # container, one per VOLUME path of its images (reconcile/imagemounts.py), sorted by path.
    image_mounts: tuple[ImageMount, ...] = ()

    def effective_env(self) -> tuple[tuple[str, str | KeyRef], ...]:
        """The environment the container gets, as Kubernetes builds it: envFrom sources in order
        (a later one wins), then env (which wins over envFrom). A present ConfigMap key is its
        value; a Secret key stays a KeyRef (Podman reads it from a Podman secret); an absent
        optional key is left out. In that order: envFrom's keys, then env's in manifest order."""
        return tuple(
            (name, value.value if isinstance(value, KeyRef) and value.kind is SourceKind.CONFIG_MAP and not value.host else value)
            for name, value in self.env_sources()
        )

    def env_sources(self) -> tuple[tuple[str, str | KeyRef], ...]:
        """As effective_env, with a ConfigMap key kept as its KeyRef (where each value comes from)."""
        found: dict[str, str | KeyRef] = {}
        for source in self.env_from:
            for ref in source.entries:
                if ref.present:
                    found[source.prefix + ref.key] = ref
        for var in self.env:
            if var.ref is None:
                found[var.name] = var.value
            elif not var.ref.present:
                found.pop(var.name, None)
            else:
                found[var.name] = var.ref
        return tuple(found.items())

    def health_probe(self) -> Probe | None:
        """The probe Podman keeps as the container's health check (`podman healthcheck run`, its
        health in `podman ps`): the first `exec` probe, liveness before readiness before startup.
        podspec runs every probe itself (run/probes.py); httpGet and tcpSocket probes are made from
        outside the container, so they are no Podman health check (Podman would run curl inside)."""
        for probe in (self.liveness_probe, self.readiness_probe, self.startup_probe):
            if probe is not None and probe.handler is _extra().ProbeHandler.EXEC:
                return probe
        return None


@dataclass(frozen=True)
class Volume:
    """One volume of a pod, of one of the kinds VolumeKind names, and where its content comes from."""

    name: str
    kind: VolumeKind
    claim_name: str = ""  # persistentVolumeClaim: the Podman named volume
    read_only: bool = False  # persistentVolumeClaim.readOnly
    host_path: str = ""  # hostPath
    host_path_type: str = ""  # hostPath.type ("" = no check)
    medium: str = ""  # emptyDir: "" (a Podman volume of the pod's own) or "Memory" (a tmpfs)
    size_limit_bytes: int | None = None  # emptyDir with medium Memory: the tmpfs size
    source: str = ""  # configMap.name / secret.secretName
    optional: bool = False  # configMap / secret
    default_mode: int = 0o644  # configMap / secret
    items: tuple[KeyToPath, ...] = ()  # configMap / secret, as written
    projections: tuple[Projection, ...] = ()  # projected: its configMap and secret sources, as written
    files: tuple[ProjectedFile, ...] = ()  # configMap / secret, linked by the loader; sorted by path
    image: str = ""  # image.reference: an image's files, mounted read-only
    image_pull_policy: PullPolicy | None = None  # image.pullPolicy, its default resolved

    def files_at(self, sub_path: str) -> tuple[tuple[str, ProjectedFile], ...]:
        """The files a mount of this configMap or secret volume shows, as (path below the mount
        path, file): all of them; with a subPath, the file it names (path "") or the files of the
        directory it names."""
        if not sub_path:
            return tuple((f.path, f) for f in self.files)
        sub = sub_path.strip("/")
        found = []
        for f in self.files:
            if f.path == sub:
                found.append(("", f))
            elif f.path.startswith(sub + "/"):
                found.append((f.path[len(sub) + 1:], f))
        return tuple(found)


@dataclass(frozen=True)
class Pod:
    """One pod, as the manifests want it: its containers, volumes and pod-level settings."""

    name: str
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...] = ()
    init_container_type: InitContainerType = InitContainerType.ONCE
    volumes: tuple[Volume, ...] = ()
    restart_policy: RestartPolicy = RestartPolicy.ALWAYS
    hostname: str = ""
    host_network: bool = False
    termination_grace_period_seconds: int = 30
    host_aliases: tuple[HostAlias, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # sorted by key
    annotations: tuple[tuple[str, str], ...] = ()  # sorted; without Podman's bookkeeping ones
    locations: Locations = NOWHERE
    # Pod-level securityContext. runAsUser, runAsGroup, runAsNonRoot and seccompProfile written
    # there are folded into every container's SecurityContext (the container's own value wins).
    host_pid: bool = False
    host_ipc: bool = False
    sysctls: tuple[tuple[str, str], ...] = ()  # sorted by name
    supplemental_groups: tuple[int, ...] = ()  # sorted, unique
    fs_group: int | None = None
    # dnsConfig, set on the pod (its infra container) as `podman kube play` does
    dns_nameservers: tuple[str, ...] = ()
    dns_searches: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()  # "name" or "name:value", as written
    share_process_namespace: bool = False
    host_users: bool = True  # false: a private user namespace (userns=auto)
    workload: str = ""  # "Deployment web", "Job migrate": the document the pod comes from ("" for a Pod)
    resources: Resources = Resources()  # pod-level: the pod's cgroup (frozen: a shared default is safe)
    # imagePullSecrets: names of kubernetes.io/dockerconfigjson Secrets whose credentials the pulls of
    # this pod's images use. Not intent: they change how images are fetched, not what runs.
    image_pull_secrets: tuple[str, ...] = ()
    # HOST_SECRETS_ANNOTATION: the Secrets and ConfigMaps this pod reads from the host (sorted)
    host_secrets: tuple[str, ...] = ()
    rollout: Rollout | None = None  # a Deployment's copies: replaced batch by batch (reconcile/rollout.py)

    @property
    def origin(self) -> Origin:
        return self.locations.of(())

    def all_containers(self) -> tuple[Container, ...]:
        return self.init_containers + self.containers

    def claim_names(self) -> tuple[str, ...]:
        return tuple(sorted({v.claim_name for v in self.volumes if v.kind is VolumeKind.CLAIM}))


@dataclass(frozen=True)
class VolumeClaim:
    """A PersistentVolumeClaim document: a Podman named volume."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()
    locations: Locations = NOWHERE

    @property
    def origin(self) -> Origin:
        return self.locations.of(())


@dataclass(frozen=True)
class ConfigMap:
    """A ConfigMap document: `data` and `binaryData`, as bytes by key."""

    name: str
    data: tuple[tuple[str, bytes], ...] = ()  # sorted by key
    labels: tuple[tuple[str, str], ...] = ()
    locations: Locations = NOWHERE
    binary_keys: tuple[str, ...] = ()  # the keys of binaryData: files only, never env values

    @property
    def origin(self) -> Origin:
        return self.locations.of(())

    def value(self, key: str) -> bytes | None:
        return next((v for k, v in self.data if k == key), None)


@dataclass(frozen=True)
class Secret:
    """A Secret document: `data` (decoded from base64) and `stringData`, as bytes by key.

    The values are never shown: not in repr, not in messages, not in labels (only digests)."""

    name: str
    type: str = "Opaque"
    data: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # sorted by key
    labels: tuple[tuple[str, str], ...] = ()
    locations: Locations = NOWHERE
    # Kept in git encrypted: its file carries SOPS metadata and every value of data and stringData
    # was encrypted there (the policy's require_encrypted_secrets asks for it). Not intent.
    encrypted: bool = field(default=False, compare=False)

    @property
    def origin(self) -> Origin:
        return self.locations.of(())

    def value(self, key: str) -> bytes | None:
        return next((v for k, v in self.data if k == key), None)


# The image of the helper that makes a hostPath of type DirectoryOrCreate / FileOrCreate on the
# host (engine/hostpaths.py: busybox's chroot); pulled like a pod's image when missing.
HOST_PATH_HELPER_IMAGE = "docker.io/library/busybox:latest"
HOST_PATH_CREATE_TYPES = ("DirectoryOrCreate", "FileOrCreate")

# The workload label of a Service's balancer pod (`svclb-<service>`, loader/balancers.py): "Service web".
SERVICE_WORKLOAD = "Service"


@dataclass(frozen=True)
class DesiredState:
    """Everything the manifests want on the host, sorted: what the loader builds."""

    pods: tuple[Pod, ...] = ()  # sorted by name
    claims: tuple[VolumeClaim, ...] = ()  # sorted by name
    files: tuple[str, ...] = ()  # the manifest files read, in order
    config_maps: tuple[ConfigMap, ...] = ()  # sorted by name
    secrets: tuple[Secret, ...] = ()  # sorted by name
    absent_pods: tuple[AbsentPod, ...] = ()  # sorted by name
    services: tuple[Service, ...] = ()  # sorted by name
    # Fields accepted and ignored on a single Podman host (cluster-only), said once each.
    warnings: tuple[Problem, ...] = ()
    encrypted: tuple[EncryptedDocument, ...] = ()  # the SOPS-encrypted documents, in the order read

    def source(self, kind: SourceKind, name: str) -> ConfigMap | Secret | None:
        group: tuple[ConfigMap | Secret, ...] = self.config_maps if kind is SourceKind.CONFIG_MAP else self.secrets
        return next((s for s in group if s.name == name), None)

    def value(self, ref: KeyRef) -> bytes | None:
        """The value a file or env variable holds: a ConfigMap's or Secret's key, or a downwardAPI
        field's content (kept in the reference by the loader)."""
        if ref.kind is SourceKind.DOWNWARD_API:
            for pod in self.pods:
                for volume in pod.volumes:
                    for f in volume.files:
                        if f.ref.kind is ref.kind and f.ref.source == ref.source and f.ref.key == ref.key:
                            return f.ref.value.encode()
            return None
        source = self.source(ref.kind, ref.source)
        return source.value(ref.key) if source is not None else None

    def pod(self, name: str) -> Pod | None:
        return next((p for p in self.pods if p.name == name), None)

    @property
    def uses_image_mounts(self) -> bool:
        """Whether a pod carries the image-volumes-mount annotation (reconcile/imagemounts.py)."""
        prefix = IMAGE_MOUNTS_ANNOTATION + "/"
        return any(k.startswith(prefix) for p in self.pods for k, _ in p.annotations)

    @property
    def uses_node_name(self) -> bool:
        """Whether an env variable takes the node's name (fieldRef spec.nodeName)."""
        return any(v.node_name for p in self.pods for c in p.all_containers() for v in c.env)

    def volume_names(self) -> tuple[str, ...]:
        """Every named volume wanted: PersistentVolumeClaim documents and the claims pods mount."""
        names = {c.name for c in self.claims}
        for pod in self.pods:
            names.update(pod.claim_names())
        return tuple(sorted(names))


def volumes_from_entries(pod: Pod, container: str) -> tuple[str, ...]:
    """The container's `io.podman.annotations.volumes-from/<container>` entries as Podman takes them
    (loader/volumes_from.py says how): a container of the pod named as in the manifest becomes its
    Podman name `<pod>-<name>`."""
    text = dict(pod.annotations).get(f"{VOLUMES_FROM_ANNOTATION}/{container}", "")
    own = {c.name for c in pod.all_containers()}
    out = []
    for entry in (e.strip() for e in text.split(";")):
        if entry:
            name, colon, options = entry.partition(":")
            out.append(f"{pod.name}-{name}{colon}{options}" if name in own else entry)
    return tuple(out)


def image_mount_images(pod: Pod, container: str) -> tuple[str, ...]:
    """The images the pod's `io.podman.annotations.kube.image.volumes.mount/<container>` annotation
    names for the container, in order (a later image's path wins), as references are kept
    (`alpine` -> `alpine:latest`); loader/image_mounts.py checked them."""
    from podspec.references import normalize

    text = dict(pod.annotations).get(f"{IMAGE_MOUNTS_ANNOTATION}/{container}", "")
    return tuple(normalize(e.strip()) for e in text.split(";") if e.strip())


def container_annotations(pod: Pod, container: str) -> dict[str, str]:
    """The pod's annotations as one container carries them (`podman kube play` puts the pod's on
    each): without the image-volumes-mount annotations of the pod's other containers, so that a
    change of one container's list is a change of that container only."""
    own = f"{IMAGE_MOUNTS_ANNOTATION}/{container}"
    prefix = IMAGE_MOUNTS_ANNOTATION + "/"
    return {k: v for k, v in pod.annotations if k == own or not k.startswith(prefix)}


def signal_number(name: str) -> int | None:
    """SIGQUIT -> 3, SIGRTMIN+2 -> 36, SIGRTMAX-1 -> 63 (Linux numbering, as Podman parses it);
    None for a name that is no signal."""
    import signal

    base, plus, offset = name.partition("+")
    try:
        if base == "SIGRTMIN" and (not plus or offset.isdigit()):
            number = int(signal.SIGRTMIN) + int(offset or 0)
        elif base.startswith("SIGRTMAX-") and not plus and base.removeprefix("SIGRTMAX-").isdigit():
            number = int(signal.SIGRTMAX) - int(base.removeprefix("SIGRTMAX-"))
        elif not plus and isinstance(getattr(signal, base, None), signal.Signals):
            number = int(getattr(signal, base))
        else:
            return None
    except ValueError:
        return None
    return number if 0 < number <= int(signal.SIGRTMAX) else None


def dotted(path: FieldPath) -> str:
    """("spec", "containers", 0, "image") -> "spec.containers[0].image"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def capability_name(text: str) -> str:
    """A capability as the model keeps it: upper case, without `CAP_` (`cap_net_admin` -> NET_ADMIN)."""
    return text.strip().upper().removeprefix("CAP_")


def capability_set(names: Iterable[str]) -> tuple[str, ...]:
    """Capabilities as the model keeps a set of them: each as capability_name says, sorted, unique."""
    return tuple(sorted({capability_name(n) for n in names}))


def podman_capability(name: str) -> str:
    """A model capability as Podman wants it: `CAP_` names, except the keyword ALL."""
    return name if name == "ALL" else f"CAP_{name}"


# The classes only some manifests need: probes, Services, a Deployment's rollout or replicas: 0, the
# files of configMap/secret/projected volumes, image mounts, host aliases, SOPS-encrypted documents.
# model_extra.py defines them when one is first asked for (`from podspec.model import Service` works
# as for any class here), so that a diff of plain pods does not (~55 M instructions of its start-up).
EXTRA = frozenset({
    "AbsentPod", "EncryptedDocument", "HostAlias", "ImageMount", "KeyToPath", "Probe", "ProbeHandler",
    "ProjectedFile", "Projection", "Rollout", "Service", "ServicePort", "ServiceType",
})


def _extra() -> ModuleType:
    from podspec import model_extra

    return model_extra


def __getattr__(name: str) -> Any:
    if name in EXTRA:
        return getattr(_extra(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
