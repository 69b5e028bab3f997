"""The security policy gate: Kubernetes Pod Security Standards for manifests applied to Podman.

    policy = Policy(Profile.BASELINE, host_paths=frozenset({"/srv/data"}))
    check(desired, policy)    -> every violation as a Problem, sorted
    enforce(desired, policy)  raises PolicyError carrying every violation

Profiles follow https://kubernetes.io/docs/concepts/security/pod-security-standards/:

- privileged: no checks.
- baseline: no privileged containers, no host namespaces (hostNetwork, hostPID, hostIPC), no
  hostPath volumes, no capabilities added beyond BASELINE_CAPABILITIES, no Unconfined seccomp or
  AppArmor profile, procMount Default only, sysctls from SAFE_SYSCTLS only, seLinuxOptions without
  user or role and with a type from SELINUX_TYPES only. Host ports are ALLOWED:
  they are how Podman publishes a pod (a documented difference from the Kubernetes standard).
- restricted: baseline, and allowPrivilegeEscalation false, runAsNonRoot true, runAsUser not 0,
  seccompProfile RuntimeDefault or Localhost, capabilities drop ALL and add at most
  NET_BIND_SERVICE, host ports only from the allow-list. Volumes: persistentVolumeClaim and
  emptyDir (hostPath only from the allow-list, as in baseline).

User namespaces (`hostUsers: false`), as the Pod Security Standards relax them (KEP-127): root in
such a pod is not root on the host, so restricted does not require runAsNonRoot nor a non-zero
runAsUser, and baseline allows procMount Unmasked there. Capabilities are not relaxed. Podman
gives such a pod a private user namespace (`userns=auto`), as `podman kube play` does, root or
rootless; a rootless Podman's containers are in the user's own user namespace anyway, but the
policy reasons from the manifest alone, so the same files get the same verdict on any host.

Explicit allow-lists loosen a profile for exactly one thing, never wholesale: a hostPath at or
below an allowed directory (paths are normalized, so `..` cannot climb out), an added capability
by name, a host port by number (restricted). Checks cover init containers too.

Each violation points at the offending node (or at the nearest written ancestor when a required
field is missing; at the pod's securityContext when a container inherits the offending value).
Pure: reads the model, imports neither podman nor typer.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

from podspec.errors import PodspecError, PolicyError, Problem

if TYPE_CHECKING:  # the checks import the model when they run: a command builds its policy before reading the host
    from podspec.model import Container, DesiredState, FieldPath, Pod, Volume

# AppArmor profile names that mean no confinement to Podman or the kernel, whatever the type says.
UNCONFINED_APPARMOR = frozenset({"unconfined", "runtime/unconfined"})


def apparmor_name_problem(name: str) -> str | None:
    """Why a Localhost AppArmor profile name gets no confinement or is no plain loaded profile's
    name, or None: baseline and restricted refuse these ("unconfined" is Podman's word for none)."""
    from podspec.model import local_profile_problem

    if name.strip().lower() in UNCONFINED_APPARMOR:
        return "Podman reads this name as no profile at all"
    why = local_profile_problem(name)
    return None if why is None else f"the name {why}"


def local_profile_problem(local: str) -> str | None:
    from podspec.model import local_profile_problem as problem

    return problem(local)


# Pod annotations become every container's OCI annotations (as `podman kube play` makes them), and the
# runtime (crun's run.oci.*), Podman, CRI-O-style settings and OCI hooks act on keys in these
# namespaces. Under baseline and restricted only those allowed by name ($PODSPEC_ALLOW_ANNOTATIONS,
# podspec.toml's allow_annotations) get through, as CRI-O's allowed_annotations; the others are
# refused, never passed on nor silently dropped. Annotations podspec itself acts on are not runtime's.
RUNTIME_ANNOTATION_PREFIXES = (
    "run.oci.", "io.containers.", "io.podman.", "io.kubernetes.cri-o.", "io.kubernetes.cri.", "io.katacontainers.",
    "org.opencontainers.", "org.systemd.", "com.nvidia.", "nvidia.com/", "cdi.k8s.io/", "io.crun.", "io.runc.",
    "io.kubernetes.", "io.cri-containerd.",
)
PODSPEC_HANDLED_ANNOTATIONS = frozenset({"io.podman.annotations.init.container.type"})


def runtime_annotation(key: str) -> bool:
    """Whether a runtime, Podman or an OCI hook may act on this annotation key. Podman's
    auto-update policy (`io.containers.autoupdate`, `/<container>`) is podspec's to act on (the
    agent's image updates); `podman auto-update` only acts on containers systemd started."""
    from podspec.model import AUTO_UPDATE_ANNOTATION, IMAGE_MOUNTS_ANNOTATION

    if key == AUTO_UPDATE_ANNOTATION or key.startswith(AUTO_UPDATE_ANNOTATION + "/"):
        return False
    if key.startswith(IMAGE_MOUNTS_ANNOTATION + "/"):
        return False  # podspec mounts the images itself, as image volumes (reconcile/imagemounts.py)
    return key not in PODSPEC_HANDLED_ANNOTATIONS and key.lower().startswith(RUNTIME_ANNOTATION_PREFIXES)


# Kubernetes Pod Security Standards, baseline: capabilities a container may add.
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
# restricted: the only capability a container may add.
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# baseline: the namespaced sysctls that cannot affect other pods or the host.
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
# baseline: the SELinux types a container may ask for (user and role may not be set at all).
SELINUX_TYPES = frozenset({"container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
_CAPABILITY = r"^[A-Z][A-Z0-9_]*$"  # (a pattern's text: re compiles it at its first use, not at every start-up)


class Profile(str, Enum):
    PRIVILEGED = "privileged"
    BASELINE = "baseline"
    RESTRICTED = "restricted"


@dataclass(frozen=True)
class Policy:
    """A profile and its explicit allow-lists (normalized: absolute paths, ports, capability names)."""

    profile: Profile = Profile.BASELINE
    host_paths: frozenset[str] = frozenset()
    host_ports: frozenset[int] = frozenset()
    capabilities: frozenset[str] = frozenset()
    # GitOps: every Secret in the manifests must be SOPS-encrypted in its file (off by default)
    require_encrypted_secrets: bool = False
    annotations: frozenset[str] = frozenset()  # runtime annotation keys allowed: exact, or a prefix ending in *

    def allows_annotation(self, key: str) -> bool:
        return any(key == a or (a.endswith("*") and key.startswith(a[:-1])) for a in self.annotations)

    def allows_host_path(self, path: str) -> bool:
        """True when `path` (normalized) is an allowed directory or lies below one."""
        wanted = normalize_path(path)
        for allowed in self.host_paths:
            if wanted == allowed or wanted.startswith(allowed.rstrip("/") + "/"):
                return True
        return False


# -- Building a policy from flags or the environment (values named by where they came from) -----


def normalize_path(path: str) -> str:
    """`/srv/data/../../etc/` -> `/etc`; lexical only (symlinks on the host are not resolved)."""
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/") if normal.startswith("/") else normal


def split_list(text: str) -> tuple[str, ...]:
    """An environment variable's list: entries separated by commas or colons; blanks dropped."""
    return tuple(item.strip() for item in re.split(r"[,:]", text) if item.strip())


def parse_profile(name: str, source: str) -> Profile:
    try:
        return Profile(name.strip().lower())
    except ValueError:
        raise PodspecError(
            f"unknown security policy {name!r} (from {source})",
            "choose one of: " + ", ".join(p.value for p in Profile),
        ) from None


def parse_host_path(text: str, source: str) -> str:
    if not text.startswith("/"):
        raise PodspecError(
            f"host path {text!r} (from {source}) is not absolute", "write an absolute directory, e.g. /srv/data"
        )
    return normalize_path(text)


def parse_host_port(text: str, source: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise PodspecError(f"host port {text!r} (from {source}) is not a port number", "write a number from 1 to 65535")
    return int(value)


def parse_capability(text: str, source: str) -> str:
    from podspec.model import capability_name

    name = capability_name(text)
    if name == "ALL":
        raise PodspecError(
            f"capability ALL (from {source}) cannot be allowed wholesale",
            "allow each capability by name, e.g. --allow-capability NET_ADMIN, or use --policy privileged",
        )
    if not re.match(_CAPABILITY, name):
        raise PodspecError(f"{text!r} (from {source}) is not a capability name", "write a name such as NET_ADMIN")
    return name


def parse_annotation(text: str, source: str) -> str:
    key = text.strip()
    if not key or key == "*" or not re.match(_ANNOTATION, key):
        raise PodspecError(f"{text!r} (from {source}) is not an annotation key or a prefix of one",
                           "write a key such as run.oci.keep_original_groups, or a prefix such as run.oci.*; "
                           "use --policy privileged to pass every annotation")
    return key


_ANNOTATION = r"^[A-Za-z0-9][A-Za-z0-9._/-]*\*?$"


# Texts and where they came from (a flag such as "--allow-host-path" or a variable's name).
Sourced = tuple[Iterable[str], str]


def make_policy(
    profile: tuple[str, str], host_paths: Sourced = ((), ""), host_ports: Sourced = ((), ""),
    capabilities: Sourced = ((), ""), annotations: Sourced = ((), ""), require_encrypted_secrets: bool = False,
) -> Policy:
    """A Policy from texts, each given with where it came from.

    Raises PodspecError naming the source of the first value that is not valid.
    """
    return Policy(
        profile=parse_profile(*profile),
        host_paths=frozenset(parse_host_path(p, host_paths[1]) for p in host_paths[0]),
        host_ports=frozenset(parse_host_port(p, host_ports[1]) for p in host_ports[0]),
        capabilities=frozenset(parse_capability(c, capabilities[1]) for c in capabilities[0]),
        annotations=frozenset(parse_annotation(a, annotations[1]) for a in annotations[0]),
        require_encrypted_secrets=require_encrypted_secrets,
    )


# -- Checking -------------------------------------------------------------------------------------


def host_path_mounts(pod: Pod) -> Iterator[tuple[int, Volume, str, str]]:
    """Each hostPath mount of each container: (the volume's index, the volume, the container, the
    host path the container sees: the volume's path, joined with the mount's subPath)."""
    from podspec.model import VolumeKind

    volumes = {v.name: (i, v) for i, v in enumerate(pod.volumes) if v.kind is VolumeKind.HOST_PATH}
    for container in pod.all_containers():
        for mount in container.volume_mounts:
            if mount.name in volumes:
                index, volume = volumes[mount.name]
                joined = volume.host_path + ("/" + mount.sub_path if mount.sub_path else "")
                yield index, volume, container.name, normalize_path(joined)


def host_path_candidates(state: DesiredState, policy: Policy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The host paths to resolve on the host before an apply (mounts, subPath included), and the
    allowed directories (resolved too, so that an allowed directory that is itself a link still
    allows what lies in it); none under the privileged policy."""
    if policy.profile is Profile.PRIVILEGED:
        return (), ()
    mounts = sorted({c for pod in state.pods for _, _, _, c in host_path_mounts(pod)})
    return tuple(mounts), tuple(sorted(policy.host_paths)) if mounts else ()


def link_problems(state: DesiredState, policy: Policy, resolved: Mapping[str, str | None]) -> tuple[Problem, ...]:
    """Every hostPath mount that leads out of the allowed directories through a link on the host."""
    if policy.profile is Profile.PRIVILEGED:
        return ()
    roots = {a: resolved.get(a) for a in policy.host_paths}
    found: set[Problem] = set()
    for pod in state.pods:
        found.update(_Checker(pod, policy).links(resolved, roots))
    return tuple(sorted(found))


def enforce(state: DesiredState, policy: Policy) -> None:
    """Raise PolicyError carrying every violation in every file; return when there is none."""
    problems = check(state, policy)
    if problems:
        raise PolicyError(problems)


def check(state: DesiredState, policy: Policy) -> tuple[Problem, ...]:
    """Every violation of `policy` in `state`, sorted by file position (duplicates removed)."""
    found: set[Problem] = set(plain_secrets(state) if policy.require_encrypted_secrets else ())
    if policy.profile is Profile.PRIVILEGED:
        return tuple(sorted(found))
    for pod in state.pods:
        found.update(_Checker(pod, policy).problems())
    return tuple(sorted(found))


def plain_secrets(state: DesiredState) -> Iterator[Problem]:
    """require_encrypted_secrets: each Secret whose file is not SOPS-encrypted, or that has a data or
    stringData value in clear there (encrypted_regex left it out), is a problem at the Secret."""
    for secret in state.secrets:
        if not secret.encrypted:
            yield Problem(
                secret.origin, "", f"Secret {secret.name} is kept in plain text: the policy requires Secrets "
                "encrypted with SOPS (require_encrypted_secrets)",
                "encrypt its file: sops --encrypt --encrypted-regex '^(data|stringData)$' --age AGE_PUBLIC_KEY "
                "--in-place FILE (docs/secrets-in-git.md), or keep the Secret on the host (podspec.io/host-secrets)",
            )


class _Checker:
    """The violations of one pod."""

    def __init__(self, pod: Pod, policy: Policy) -> None:
        self.pod = pod
        self.policy = policy
        self.name = policy.profile.value
        self.restricted = policy.profile is Profile.RESTRICTED
        # Hint for a rule of baseline (also part of restricted) and for one of restricted only.
        self.loosen = "use --policy privileged for this manifest"
        self.loosen_restricted = "use --policy baseline for this manifest"

    def problem(self, path: FieldPath, message: str, hint: str) -> Problem:
        return Problem(self.pod.locations.of(path), self.pod.locations.shown(path), f"{self.name}: {message}", hint)

    def written(self, path: FieldPath) -> bool:
        return tuple(path) in self.pod.locations.positions

    def inherited(self, container_path: FieldPath, field: str) -> FieldPath:
        """Where a folded securityContext field was written: the container's, else the pod's."""
        own = container_path + ("securityContext", field)
        pod = ("spec", "securityContext", field)
        return pod if not self.written(own) and self.written(pod) else own

    def problems(self) -> Iterator[Problem]:
        yield from self.namespaces()
        yield from self.volumes()
        yield from self.sysctls()
        yield from self.annotations()
        for kind, containers in (("initContainers", self.pod.init_containers), ("containers", self.pod.containers)):
            for index, container in enumerate(containers):
                yield from self.container(("spec", kind, index), container)

    # -- pod -------------------------------------------------------------------------------------

    def namespaces(self) -> Iterator[Problem]:
        for field, on, what in (
            ("hostNetwork", self.pod.host_network, "network"),
            ("hostPID", self.pod.host_pid, "PID"),
            ("hostIPC", self.pod.host_ipc, "IPC"),
        ):
            if on:
                extra = " (publish ports with hostPort instead)" if field == "hostNetwork" else ""
                yield self.problem(
                    ("spec", field), f"sharing the host's {what} namespace ({field}) is not allowed",
                    f"{self.loosen}, or remove {field}: true{extra}",
                )

    def volumes(self) -> Iterator[Problem]:
        from podspec.model import VolumeKind

        for index, volume in enumerate(self.pod.volumes):
            if volume.kind is not VolumeKind.HOST_PATH or self.policy.allows_host_path(volume.host_path):
                continue
            normal = normalize_path(volume.host_path)
            yield self.problem(
                ("spec", "volumes", index, "hostPath", "path"), f"hostPath volume {volume.host_path} is not allowed",
                f"--allow-host-path {normal} allows exactly that path and paths below it; "
                "or use a persistentVolumeClaim",
            )

    def links(self, resolved: Mapping[str, str | None], roots: Mapping[str, str | None]) -> Iterator[Problem]:
        """hostPath mounts (subPath included) whose symbolic links on the host lead out of every
        allowed directory, or that cannot be checked (a remote host): Podman follows the links."""
        for index, _, container, candidate in host_path_mounts(self.pod):
            if not self.policy.allows_host_path(candidate):
                continue  # refused already (volumes)
            where = ("spec", "volumes", index, "hostPath", "path")
            real = resolved.get(candidate)
            if real is None:
                yield self.problem(
                    where, f"hostPath {candidate} (container {container}) cannot be checked for symbolic links on this "
                    "host: its files cannot be seen from here (over ssh://, `realpath -m` there did not answer)",
                    "apply from the host itself (podspec sync there, or a unix:// socket), install GNU coreutils' "
                    "realpath on the host, or " + self.loosen)
                continue
            allowed = {a for a in self.policy.host_paths} | {r for r in roots.values() if r}
            if not any(real == a or real.startswith(a.rstrip("/") + "/") for a in allowed):
                yield self.problem(
                    where, f"hostPath {candidate} (container {container}) leads to {real} through a symbolic link on the "
                    "host, outside the allowed directories",
                    "replace the link with the directory itself, or allow the real path with --allow-host-path")

    def sysctls(self) -> Iterator[Problem]:
        for name, _ in self.pod.sysctls:
            if name not in SAFE_SYSCTLS:
                yield self.problem(
                    ("spec", "securityContext", "sysctls"), f"sysctl {name} is not allowed (not in the safe set)",
                    f"{self.loosen}, or remove the sysctl {name}",
                )

    def _volumes_from_own_pod(self, key: str) -> bool:
        """A volumes-from annotation whose sources are all containers of the same pod: podspec applies
        it as Podman's volumes_from; a source outside the pod (another project's volumes) stays the
        policy's to allow."""
        from podspec.model import VOLUMES_FROM_ANNOTATION, volumes_from_entries

        prefix = VOLUMES_FROM_ANNOTATION + "/"
        if not key.startswith(prefix):
            return False
        own = {f"{self.pod.name}-{c.name}" for c in self.pod.all_containers()}
        entries = volumes_from_entries(self.pod, key[len(prefix):])
        return bool(entries) and all(e.partition(":")[0] in own for e in entries)

    def annotations(self) -> Iterator[Problem]:
        for key, _ in self.pod.annotations:
            if self._volumes_from_own_pod(key):
                continue  # podspec applies it itself, within the pod (loader/volumes_from.py)
            if runtime_annotation(key) and not self.policy.allows_annotation(key):
                yield self.problem(
                    ("metadata", "annotations", key),
                    f"annotation {key} would reach the container runtime (Podman passes a pod's annotations to "
                    "every container, where the runtime and OCI hooks act on this namespace)",
                    f"remove it, allow it by name with PODSPEC_ALLOW_ANNOTATIONS={key} (or allow_annotations in "
                    f"podspec.toml), or {self.loosen}",
                )
        for key, value in self.pod.annotations:
            if not key.startswith(APPARMOR_ANNOTATION_PREFIX):
                continue
            if value in ("", "runtime/default"):
                continue
            if value.startswith("localhost/") and apparmor_name_problem(value.removeprefix("localhost/")) is None:
                continue
            yield self.problem(
                ("metadata", "annotations", key), f"AppArmor profile {value} is not allowed",
                f"{self.loosen}, or use runtime/default or localhost/<profile>",
            )

    # -- container -------------------------------------------------------------------------------

    def container(self, path: FieldPath, container: Container) -> Iterator[Problem]:
        s = container.security
        sc = path + ("securityContext",)
        if s.privileged:
            yield self.problem(
                sc + ("privileged",), "privileged containers are not allowed", f"{self.loosen}, or remove privileged: true"
            )
        yield from self.capabilities(sc, container)
        if s.seccomp_profile == "Unconfined":
            yield self.problem(
                self.inherited(path, "seccompProfile") + ("type",), "seccomp profile Unconfined is not allowed",
                f"{self.loosen}, or use type RuntimeDefault",
            )
        elif s.seccomp_profile is None and self.restricted:
            yield self.problem(
                sc + ("seccompProfile",), "seccompProfile must be RuntimeDefault or Localhost",
                f"{self.loosen_restricted}, or set seccompProfile: {{type: RuntimeDefault}} "
                "in the pod's or this container's securityContext",
            )
        if s.app_armor_profile == "Unconfined":
            yield self.problem(
                sc + ("appArmorProfile", "type"), "AppArmor profile Unconfined is not allowed",
                f"{self.loosen}, or use type RuntimeDefault",
            )
        elif s.app_armor_profile and s.app_armor_profile.startswith("Localhost:"):
            name = s.app_armor_profile.removeprefix("Localhost:")
            why = apparmor_name_problem(name)
            if why is not None:
                yield self.problem(
                    self.inherited(path, "appArmorProfile") + ("localhostProfile",),
                    f"AppArmor profile {name!r} is not allowed: {why}",
                    f"{self.loosen}, or name a profile loaded on the host (aa-status lists them)",
                )
        if s.seccomp_profile and s.seccomp_profile.startswith("Localhost:"):
            why = local_profile_problem(s.seccomp_profile.removeprefix("Localhost:"))
            if why is not None:  # the loader refuses these already; the policy holds on its own too
                yield self.problem(self.inherited(path, "seccompProfile") + ("localhostProfile",),
                                   f"seccomp profile {s.seccomp_profile.removeprefix('Localhost:')!r} {why}",
                                   "name a file under the seccomp root by its relative path")
        if s.proc_mount and self.pod.host_users:
            yield self.problem(
                sc + ("procMount",), f"procMount {s.proc_mount} is not allowed",
                f"{self.loosen}, or remove procMount (Default)",
            )
        yield from self.se_linux(path, container)
        if self.restricted:
            yield from self.restricted_container(path, container)

    def se_linux(self, path: FieldPath, container: Container) -> Iterator[Problem]:
        for option in container.security.se_linux_options:
            key, _, value = option.partition(":")
            where = self.inherited(path, "seLinuxOptions") + (key,)
            if key in ("user", "role"):
                yield self.problem(
                    where, f"setting the SELinux {key} is not allowed", f"{self.loosen}, or remove seLinuxOptions.{key}",
                )
            elif key == "type" and value not in SELINUX_TYPES:
                yield self.problem(
                    where, f"SELinux type {value} is not allowed",
                    f"{self.loosen}, or use one of {', '.join(sorted(SELINUX_TYPES))}",
                )

    def capabilities(self, sc: FieldPath, container: Container) -> Iterator[Problem]:
        allowed = (RESTRICTED_CAPABILITIES if self.restricted else BASELINE_CAPABILITIES) | self.policy.capabilities
        for name in container.security.capabilities_add:
            if name not in allowed:
                yield self.problem(
                    sc + ("capabilities", "add"), f"adding capability {name} is not allowed",
                    f"--allow-capability {name} allows exactly this capability; or remove it from capabilities.add",
                )

    def restricted_container(self, path: FieldPath, container: Container) -> Iterator[Problem]:
        s = container.security
        sc = path + ("securityContext",)
        if s.allow_privilege_escalation is not False:
            yield self.problem(
                sc + ("allowPrivilegeEscalation",), "allowPrivilegeEscalation must be false",
                f"{self.loosen_restricted}, or set allowPrivilegeEscalation: false",
            )
        if self.pod.host_users and s.run_as_non_root is not True:
            yield self.problem(
                self.inherited(path, "runAsNonRoot"), "runAsNonRoot must be true",
                f"{self.loosen_restricted}, or set runAsNonRoot: true in the pod's or this container's securityContext",
            )
        if self.pod.host_users and s.run_as_user == 0:
            yield self.problem(
                self.inherited(path, "runAsUser"), "runAsUser must not be 0 (root)",
                f"{self.loosen_restricted}, or set a non-zero runAsUser",
            )
        if "ALL" not in s.capabilities_drop:
            yield self.problem(
                sc + ("capabilities", "drop"), "capabilities must drop ALL",
                f"{self.loosen_restricted}, or add ALL to capabilities.drop",
            )
        for index, port in enumerate(container.ports):
            if port.host_port is not None and port.host_port not in self.policy.host_ports:
                yield self.problem(
                    path + ("ports", index, "hostPort"), f"host port {port.host_port} is not allowed",
                    f"--allow-host-port {port.host_port} allows exactly this port; or use --policy baseline",
                )
