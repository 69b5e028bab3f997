"""Schema-valid documents -> the frozen desired model, with every default normalized once.

Normalization (so that the same intent written two ways compares equal):
- image without tag or digest gets `:latest`; imagePullPolicy defaults as in Kubernetes;
- protocol defaults to TCP; hostIP "0.0.0.0" becomes "" (every address);
- capabilities are upper case, without `CAP_`, sorted and unique;
- cpu becomes millicores and memory bytes (rounded up);
- labels and annotations become sorted pairs; Podman's bookkeeping annotations (written by
  `podman kube generate`) are dropped, and the init-container-type annotation becomes
  `Pod.init_container_type`;
- pod-level runAsUser, runAsGroup, runAsNonRoot and seccompProfile are folded into every
  container that does not set its own.

What the schema cannot say is reported here as a Problem: a probe or a volume with no source or
more than one, an invalid IP address, a quantity out of range, a Localhost profile without a
profile, an unsupported init-container type, a runAsGroup without a runAsUser (own or inherited:
Podman sets the user as uid[:gid], so the group alone would be dropped), an env value that is the
placeholder `podspec export` writes for a secret it did not show.

Volumes are built in volumes.py, Deployments' and Jobs' pods in workloads.py: mixins of the
builder here.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from types import MappingProxyType
from typing import Any

from podspec import references
from podspec.errors import Origin, Problem
from podspec.loader.services import ServiceBuilder
from podspec.loader.volumes import VolumeBuilder
from podspec.loader.workloads import WorkloadBuilder
from podspec.loader.yamlpos import Document
from podspec.model import (
    AUTO_UPDATE_ANNOTATION,
    HOST_SECRETS_ANNOTATION,
    INIT_TYPE_ANNOTATION,
    AbsentPod,
    AutoUpdate,
    ConfigMap,
    Container,
    EnvFrom,
    EnvVar,
    FieldPath,
    HostAlias,
    InitContainerType,
    KeyRef,
    Locations,
    Pod,
    PortMapping,
    Probe,
    ProbeHandler,
    Protocol,
    PullPolicy,
    Resources,
    RestartPolicy,
    Secret,
    SecurityContext,
    Service,
    SourceKind,
    VolumeClaim,
    VolumeMount,
    capability_set,
    dotted,
    signal_number,
)
from podspec.secrets import REDACTED

# Annotations `podman kube generate` writes to record how it made the containers; no desired state.
BOOKKEEPING_PREFIXES = (
    "io.kubernetes.cri-o.",
    "io.podman.annotations.autoremove/",
    "io.podman.annotations.privileged/",
    "io.podman.annotations.publish-all/",
    "io.podman.annotations.init/",
    # Podman's inspect annotations per container: they restate securityContext (label = seLinuxOptions);
    # `podman kube play` copies seccomp/apparmor back as annotations only, which changes nothing.
    "io.podman.annotations.label/",
    "io.podman.annotations.seccomp/",
    "io.podman.annotations.apparmor/",
    "io.podman.annotations.cid-file/",
    # Podman 5 restates the stop signal and timeout for systemd; podspec sets both itself.
    "org.systemd.property.KillSignal",
    "org.systemd.property.TimeoutStopUSec",
)
# Annotations `podman kube play` acts on that podspec does not apply: refused, never ignored.
# An entry matches the key itself and the key followed by "/<container or pod>".
REFUSED_ANNOTATIONS: dict[str, tuple[str, str]] = {
    "io.podman.annotations.volumes-from": (
        "sharing another container's volumes is not supported", "mount the same volume in both containers"),
    "io.podman.annotations.kube.image.volumes.mount": (
        "mounting an image's volumes is not supported", "copy the files into a named volume and mount it"),
    "io.containers.autoupdate.authfile": (
        "podspec pulls (and `podspec sync` checks for updates) with the credentials apply uses",
        "remove it; pass --authfile FILE (or REGISTRY_AUTH_FILE) to apply and sync, or name imagePullSecrets"),
    "io.containers.sdnotify": (
        "sd_notify is for pods that systemd starts (`podman kube play` under Quadlet); podspec starts pods itself",
        "remove it; `podspec apply --wait` waits until the containers are ready"),
    "io.podman.annotations.userns": ("not supported", "use spec.hostUsers: false for a private user namespace"),
    "io.podman.annotations.infra.name": ("podspec lets Podman name the infra container", "remove it"),
    "io.podman.annotations.ulimit": ("per-pod ulimits are not supported", "set default_ulimits in containers.conf"),
    "io.podman.annotations.pids-limit": ("not supported", "set pids_limit in containers.conf"),
    "io.podman.annotations.cpuset": ("not supported", "remove it"),
    "io.podman.annotations.memory-nodes": ("not supported", "remove it"),
    "io.podman.annotations.kube.health.check": ("Podman's own marker", "remove it; probes become health checks"),
}
# Podman's annotation for the SELinux relabel option of a bind mount (libpod/define: BindMountPrefix).
BIND_MOUNT_OPTIONS = "bind-mount-options"
MOUNT_OPTIONS = {"ro": "read-only", "rw": "read-write", "z": "shared SELinux label", "Z": "private SELinux label"}
# Podman volume options podspec does not apply yet: refused rather than ignored.
VOLUME_OPTION_PREFIX = "volume.podman.io/"
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket")
PROBE_FIELDS = (("livenessProbe", "liveness_probe"), ("readinessProbe", "readiness_probe"), ("startupProbe", "startup_probe"))
# `podman kube play`'s spellings of a pull policy (containers/common ParsePullPolicy) as Kubernetes'.
# Podman's "newer" pulls when the registry has a newer image: what Always does here (a pull that
# finds the same digest changes nothing).
PULL_POLICY_SPELLINGS = {
    "always": PullPolicy.ALWAYS, "missing": PullPolicy.IF_NOT_PRESENT, "ifnotpresent": PullPolicy.IF_NOT_PRESENT,
    "never": PullPolicy.NEVER, "newer": PullPolicy.ALWAYS, "ifnewer": PullPolicy.ALWAYS,
}
# ConfigMap and Secret keys (Kubernetes: IsConfigMapKey).
CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# The Secret types podspec takes as data. Others (service-account-token, tls, basic-auth...) are
# kept for a cluster's controllers and have no meaning here.
# Kubernetes' Secret types: the keys the API server requires of each (one of them, for basic-auth).
# Any other type (a custom one) is data as it stands, as on Kubernetes.
SECRET_KEYS = {
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}
# Types a cluster fills or acts on itself: accepted, their data used as written, with a warning.
CLUSTER_SECRET_TYPES = {
    "kubernetes.io/service-account-token": "a cluster's service account tokens",
    "bootstrap.kubernetes.io/token": "joining nodes to a cluster",
}
# The seccomp annotations Kubernetes had before securityContext.seccompProfile (removed in 1.27),
# which `podman kube play` still applies: on the pod, and per container.
SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/"
# fieldRef paths `podman kube play` resolves (pkg/specgen/generate/kube: envVarValueFieldRef).
RESOURCE_DIVISORS = {
    "cpu": ("1", "1m"),
    "memory": ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"),
}


def is_bookkeeping(annotation: str) -> bool:
    return annotation.startswith(BOOKKEEPING_PREFIXES)


def refused_annotation(annotation: str) -> tuple[str, str] | None:
    """(why, what instead) when `podman kube play` acts on this annotation and podspec does not."""
    name = annotation if annotation in REFUSED_ANNOTATIONS else annotation.rsplit("/", 1)[0]
    return REFUSED_ANNOTATIONS.get(name)


class _Builder(VolumeBuilder, WorkloadBuilder, ServiceBuilder):
    """Builds the model of one document and collects the problems found on the way."""

    def __init__(self, document: Document, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        self.document = document
        self.problems = problems
        self.warnings: list[Problem] = warnings if warnings is not None else []
        self.said: set[Problem] = set()
        self.relabels: dict[str, str] = {}  # volume name -> z/Z, from the bind-mount-options annotation
        self.seccomp: dict[str, str] = {}  # seccomp annotations: "" (the pod) or a container name -> profile
        self.auto_updates: dict[str, AutoUpdate | None] = {}  # io.containers.autoupdate: "" (the pod) or a container
        self.base: FieldPath = ()  # where the pod sits in the document: ("spec", "template") in a workload

    def problem(self, path: FieldPath, message: str, hint: str = "", key: bool = False) -> None:
        """Report once (a pod-level value inherited by several containers is one problem)."""
        path = self.base + tuple(path)
        where = self.document.key_at(path) if key else self.document.value_at(path)
        problem = Problem(Origin(self.document.file, *where), dotted(path), message, hint)
        if problem not in self.said:
            self.said.add(problem)
            self.problems.append(problem)

    def locations(self) -> Locations:
        positions = self.document.positions()
        if not self.base:
            return Locations(self.document.file, MappingProxyType(positions))
        # A workload's pod: its paths are relative to the template; the pod's name, and the pod
        # itself, are where the workload's are.
        n = len(self.base)
        mine = {path[n:]: where for path, where in positions.items() if path[:n] == self.base}
        for path in ((), ("metadata",), ("metadata", "name")):
            if path in positions:
                mine[path] = positions[path]
        return Locations(self.document.file, MappingProxyType(mine), prefix=self.base)

    # -- Pod -------------------------------------------------------------------------------

    def pod(self, data: dict[str, Any], name: str = "", extra_annotations: dict[str, str] | None = None,
            workload: str = "") -> Pod:
        meta, spec = data.get("metadata") or {}, data["spec"]
        name = name or meta["name"]
        annotations: dict[str, str] = {**(meta.get("annotations") or {}), **(extra_annotations or {})}
        self.pod_name, self.pod_meta = name, {"labels": meta.get("labels") or {}, "annotations": annotations}
        self.pod_namespace, self.pod_containers = meta.get("namespace") or "default", list(spec["containers"])
        self.refuse_annotations(annotations)
        self.seccomp = self.seccomp_annotations(annotations)
        self.auto_updates = self.auto_update_annotations(annotations, spec)
        self.relabels = self.bind_mount_options(annotations, spec)
        init_type = annotations.get(INIT_TYPE_ANNOTATION, InitContainerType.ONCE.value)
        if init_type not in {t.value for t in InitContainerType}:
            self.problem(
                ("metadata", "annotations", INIT_TYPE_ANNOTATION), f"unsupported init container type {init_type!r}",
                "supported values: once, always",
            )
            init_type = InitContainerType.ONCE.value
        pod_security: dict[str, Any] = spec.get("securityContext", {})
        inits, sidecars = self.init_containers(spec.get("initContainers", ()), pod_security)
        return Pod(
            name=name,
            containers=tuple(
                self.container(c, ("spec", "containers", i), pod_security) for i, c in enumerate(spec["containers"])
            ) + sidecars,
            init_containers=inits,
            init_container_type=InitContainerType(init_type),
            volumes=tuple(self.volume(v, ("spec", "volumes", i)) for i, v in enumerate(spec.get("volumes", ()))),
            restart_policy=RestartPolicy(spec.get("restartPolicy", RestartPolicy.ALWAYS.value)),
            hostname=spec.get("hostname", ""),
            host_network=spec.get("hostNetwork", False),
            termination_grace_period_seconds=int(spec.get("terminationGracePeriodSeconds", 30)),
            host_aliases=tuple(
                self.host_alias(a, ("spec", "hostAliases", i)) for i, a in enumerate(spec.get("hostAliases", ()))
            ),
            labels=tuple(sorted((meta.get("labels") or {}).items())),
            annotations=tuple(sorted(
                (k, v) for k, v in annotations.items()
                if k not in (INIT_TYPE_ANNOTATION, BIND_MOUNT_OPTIONS, HOST_SECRETS_ANNOTATION) and not is_bookkeeping(k)
            )),
            locations=self.locations(),
            host_pid=spec.get("hostPID", False),
            host_ipc=spec.get("hostIPC", False),
            sysctls=self.sysctls(pod_security.get("sysctls", ()), ("spec", "securityContext", "sysctls")),
            supplemental_groups=tuple(sorted({int(g) for g in pod_security.get("supplementalGroups", ())})),
            fs_group=_int_or_none(pod_security.get("fsGroup")),
            **self.dns(spec),
            share_process_namespace=spec.get("shareProcessNamespace", False),
            host_users=spec.get("hostUsers", True),
            workload=workload,
            resources=self.resources(spec.get("resources", {}), ("spec", "resources")),
            image_pull_secrets=tuple(str(r["name"]) for r in spec.get("imagePullSecrets") or ()),
            host_secrets=self.host_secrets(annotations),
        )

    def host_secrets(self, annotations: dict[str, str]) -> tuple[str, ...]:
        """podspec.io/host-secrets: the names of Podman secrets on the host that this pod's Secret and
        ConfigMap references may read (comma- or space-separated)."""
        if HOST_SECRETS_ANNOTATION not in annotations:
            return ()
        from podspec.loader.hostsecrets import parse

        names, bad = parse(annotations[HOST_SECRETS_ANNOTATION])
        for name in bad:
            self.problem(("metadata", "annotations", HOST_SECRETS_ANNOTATION), f"{name!r} is not a Podman secret name",
                         "Podman secret names are 1 to 253 letters, digits, _ . - (starting with a letter or digit), "
                         "separated by commas")
        return names

    def bind_mount_options(self, annotations: dict[str, str], spec: dict[str, Any]) -> dict[str, str]:
        """`bind-mount-options: /host/path:z`, which `podman kube generate` writes for a bind mount
        with :z or :Z: the relabel option of every mount of a hostPath volume at that path (unless
        the mount says its own), as `podman kube play` applies it. Volume name -> option."""
        written = annotations.get(BIND_MOUNT_OPTIONS)
        if written is None:
            return {}
        source, _, option = written.rpartition(":")
        if option not in ("z", "Z") or not source:
            self.problem(
                ("metadata", "annotations", BIND_MOUNT_OPTIONS), f"unsupported {BIND_MOUNT_OPTIONS} {written!r}",
                "write HOSTPATH:z or HOSTPATH:Z (or put :z after the mountPath)",
            )
            return {}
        return {
            v["name"]: option for v in spec.get("volumes", ()) if (v.get("hostPath") or {}).get("path") == source
        }

    def init_containers(self, raw: list[dict[str, Any]], pod_security: dict[str, Any]) -> tuple[tuple[Container, ...], tuple[Container, ...]]:
        """(init containers, sidecars). A sidecar (an init container with restartPolicy: Always, as
        Kubernetes 1.29 has them) runs for the pod's whole life: on Podman, a regular container of the
        pod, after the others in the list (Podman starts them together), with a warning."""
        inits, sidecars = [], []
        for i, c in enumerate(raw):
            path: FieldPath = ("spec", "initContainers", i)
            built = self.container(c, path, pod_security)
            if c.get("restartPolicy") == "Always":
                sidecars.append(built)
                self.problem_to(
                    self.warnings, self.base + path + ("restartPolicy",),
                    f"init container {c['name']} is a sidecar (restartPolicy: Always): on a single Podman host it runs as "
                    "a regular container of the pod, started with the others rather than before them",
                    "keep it for Kubernetes, or move it to containers; --strict makes this an error", key=True,
                )
            else:
                inits.append(built)
        return tuple(inits), tuple(sidecars)

    def seccomp_annotations(self, annotations: dict[str, str]) -> dict[str, str]:
        """The seccomp annotations as profiles ("" for the pod's, else the container's name):
        `runtime/default` (or `docker/default`), `unconfined`, `localhost/<path>`."""
        found = {}
        for key, value in annotations.items():
            if key != SECCOMP_POD and not key.startswith(SECCOMP_CONTAINER):
                continue
            if value in ("runtime/default", "docker/default"):
                profile = "RuntimeDefault"
            elif value == "unconfined":
                profile = "Unconfined"
            elif value.startswith("localhost/") and len(value) > len("localhost/"):
                profile = "Localhost:" + value.removeprefix("localhost/")
            else:
                self.problem(("metadata", "annotations", key), f"unknown seccomp profile {value!r}",
                             "use runtime/default, unconfined or localhost/<profile>, or securityContext.seccompProfile")
                continue
            found["" if key == SECCOMP_POD else key.removeprefix(SECCOMP_CONTAINER)] = profile
        return found

    def auto_update_annotations(self, annotations: dict[str, str], spec: dict[str, Any]) -> dict[str, AutoUpdate | None]:
        """Podman's auto-update policies: "" (the pod's) or a container's name -> the policy
        (None: `disabled`, which turns a pod-wide policy off for one container)."""
        found: dict[str, AutoUpdate | None] = {}
        names = {c.get("name") for group in ("containers", "initContainers") for c in spec.get(group) or ()}
        for key, value in annotations.items():
            if key != AUTO_UPDATE_ANNOTATION and not key.startswith(AUTO_UPDATE_ANNOTATION + "/"):
                continue
            target = key.removeprefix(AUTO_UPDATE_ANNOTATION).removeprefix("/")
            where = ("metadata", "annotations", key)
            if key.endswith("/") or (target and target not in names):
                self.problem(where, f"annotation {key} names no container of this pod",
                             f"use {AUTO_UPDATE_ANNOTATION}/<container> with one of: {', '.join(sorted(map(str, names)))}",
                             key=True)
                continue
            if value not in ("registry", "local", "disabled"):
                self.problem(where, f"unknown auto-update policy {value!r}", "use registry, local or disabled")
                continue
            found[target] = None if value == "disabled" else AutoUpdate(value)
        return found

    def refuse_annotations(self, annotations: dict[str, str]) -> None:
        for key in annotations:
            refused = refused_annotation(key)
            if refused is not None:
                why, instead = refused
                self.problem(
                    ("metadata", "annotations", key), f"annotation {key} is acted on by `podman kube play` but not by "
                    f"podspec: {why}", instead, key=True,
                )

    def dns(self, spec: dict[str, Any]) -> dict[str, Any]:
        """dnsConfig as Pod fields; dnsPolicy None needs a nameserver (as Kubernetes requires)."""
        config: dict[str, Any] = spec.get("dnsConfig") or {}
        servers = tuple(config.get("nameservers", ()))
        for i, server in enumerate(servers):
            self.ip(server, ("spec", "dnsConfig", "nameservers", i), allow_empty=False)
        if spec.get("dnsPolicy") == "None" and not servers:
            self.problem(
                ("spec", "dnsPolicy"), "dnsPolicy None needs at least one dnsConfig.nameservers entry",
                "add dnsConfig.nameservers, or use dnsPolicy Default (the host's resolv.conf)",
            )
        options = tuple(
            o["name"] + (f":{o['value']}" if o.get("value") is not None else "") for o in config.get("options", ())
        )
        return {"dns_nameservers": servers, "dns_searches": tuple(config.get("searches", ())), "dns_options": options}

    def sysctls(self, items: Any, path: FieldPath) -> tuple[tuple[str, str], ...]:
        seen: dict[str, str] = {}
        for i, item in enumerate(items):
            if item["name"] in seen:
                self.problem(path + (i, "name"), f"sysctl {item['name']} is set twice", "keep one")
            seen[item["name"]] = item["value"]
        return tuple(sorted(seen.items()))

    def host_alias(self, raw: dict[str, Any], path: FieldPath) -> HostAlias:
        self.ip(raw["ip"], path + ("ip",), allow_empty=False)
        return HostAlias(ip=raw["ip"], hostnames=tuple(raw["hostnames"]))

    def ip(self, text: str, path: FieldPath, allow_empty: bool) -> None:
        if text == "" and allow_empty:
            return
        try:
            ipaddress.ip_address(text)
        except ValueError:
            self.problem(path, f"{text!r} is not an IP address", "write an IPv4 or IPv6 address, e.g. 127.0.0.1")

    # -- Container -------------------------------------------------------------------------

    def container(self, raw: dict[str, Any], path: FieldPath, pod_security: dict[str, Any]) -> Container:
        written_image: str = raw["image"]
        if "restartPolicy" in raw and "initContainers" not in path:
            self.problem(path + ("restartPolicy",), "restartPolicy on a container: only an init container takes it "
                         "(Always, a sidecar)", "remove it; the pod's restartPolicy applies", key=True)
        policy = raw.get("imagePullPolicy")
        ports = tuple(self.port(p, path + ("ports", i)) for i, p in enumerate(raw.get("ports", ())))
        probes = self.probes(raw, path, ports)
        return Container(
            name=raw["name"],
            image=references.normalize(written_image),
            pull_policy=references.pull_policy_or_default(pull_policy(policy) if policy else None, written_image),
            auto_update=self.auto_updates.get(raw["name"], self.auto_updates.get("")),
            command=tuple(raw.get("command", ())),
            args=tuple(raw.get("args", ())),
            working_dir=raw.get("workingDir", ""),
            env=tuple(self.env(e, path + ("env", i), raw) for i, e in enumerate(raw.get("env", ()))),
            env_from=tuple(self.env_from(e, path + ("envFrom", i)) for i, e in enumerate(raw.get("envFrom", ()))),
            ports=ports,
            volume_mounts=tuple(self.mount(m, path + ("volumeMounts", i)) for i, m in enumerate(raw.get("volumeMounts", ()))),
            resources=self.resources(raw.get("resources", {}), path + ("resources",)),
            security=self.security(raw.get("securityContext", {}), path + ("securityContext",), pod_security,
                                   self.seccomp.get(raw["name"]) or self.seccomp.get("")),
            liveness_probe=probes.get("liveness_probe"), readiness_probe=probes.get("readiness_probe"),
            startup_probe=probes.get("startup_probe"),
            stop_signal=self.stop_signal(raw, path),
            stdin=raw.get("stdin", False),
            tty=raw.get("tty", False),
        )

    def mount(self, raw: dict[str, Any], path: FieldPath) -> VolumeMount:
        """A volumeMount; `mountPath: /data:z` takes mount options after the path, as `podman kube play` does."""
        mount_path, _, written = raw["mountPath"].partition(":")
        read_only, relabel = raw.get("readOnly", False), ""
        for option in written.split(",") if written else ():
            if option not in MOUNT_OPTIONS:
                self.problem(
                    path + ("mountPath",), f"unsupported mount option {option!r} after the path",
                    "supported: " + ", ".join(f"{k} ({v})" for k, v in MOUNT_OPTIONS.items()),
                )
            elif option in ("z", "Z"):
                if relabel and relabel != option:
                    self.problem(path + ("mountPath",), "mount options z and Z exclude each other", "keep one")
                relabel = option
            elif option == "ro":
                read_only = True
            elif option == "rw" and read_only:
                self.problem(path + ("mountPath",), "mount option rw contradicts readOnly: true", "keep one")
        return VolumeMount(
            name=raw["name"], mount_path=mount_path, read_only=read_only, sub_path=raw.get("subPath", ""),
            relabel=relabel or self.relabels.get(raw["name"], ""),
        )

    def probes(self, raw: dict[str, Any], path: FieldPath, ports: tuple[PortMapping, ...]) -> dict[str, Probe | None]:
        """liveness, readiness and startup probes: each one runs (podspec runs them; run/probes.py)."""
        found: dict[str, Probe | None] = {}
        init = "initContainers" in path and raw.get("restartPolicy") != "Always"  # a sidecar may have probes
        for key, name in PROBE_FIELDS:
            if key not in raw:
                continue
            if init:
                self.problem(
                    path + (key,), f"an init container cannot have a {key}",
                    "remove it; init containers run to completion (Kubernetes and Podman refuse it too)", key=True,
                )
                continue
            found[name] = self.probe(raw[key], path + (key,), ports)
        return found

    def stop_signal(self, raw: dict[str, Any], path: FieldPath) -> str:
        name: str = (raw.get("lifecycle") or {}).get("stopSignal", "")
        if name and signal_number(name) is None:
            self.problem(path + ("lifecycle", "stopSignal"), f"unknown signal {name}", "e.g. SIGTERM, SIGINT, SIGQUIT, SIGUSR1")
            return ""
        return name

    def env(self, raw: dict[str, Any], path: FieldPath, container: dict[str, Any]) -> EnvVar:
        value = raw.get("value", "")
        source = raw.get("valueFrom")
        if source is not None:
            if "value" in raw:
                self.problem(path + ("value",), f"env {raw['name']} has both value and valueFrom", "keep one", key=True)
            return self.value_from(raw["name"], source, path + ("valueFrom",), container)
        if value == REDACTED:
            self.problem(
                path + ("value",),
                f"env {raw['name']} holds the placeholder {REDACTED} written by `podspec export`; "
                "put the real value in (or export again with --show-secrets)",
            )
        return EnvVar(raw["name"], value)

    def value_from(self, name: str, raw: dict[str, Any], path: FieldPath, container: dict[str, Any]) -> EnvVar:
        sources = [k for k in ("configMapKeyRef", "secretKeyRef", "fieldRef", "resourceFieldRef") if k in raw]
        if len(sources) != 1:
            self.problem(
                path, "valueFrom needs exactly one of configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef"
                + (f"; found {', '.join(sources)}" if sources else ""),
            )
            return EnvVar(name, "")
        which = sources[0]
        body = raw[which]
        if which in ("configMapKeyRef", "secretKeyRef"):
            kind = SourceKind.CONFIG_MAP if which == "configMapKeyRef" else SourceKind.SECRET
            return EnvVar(name, "", KeyRef(kind, body["name"], body["key"], optional=bool(body.get("optional", False))))
        if which == "fieldRef":
            return EnvVar(name, self.field_ref(name, body, path + ("fieldRef",)))
        return EnvVar(name, self.resource_field_ref(name, body, path + ("resourceFieldRef",), container))

    def field_ref(self, name: str, body: dict[str, Any], path: FieldPath) -> str:
        """The fieldRef paths `podman kube play` resolves, and the namespace as Kubernetes gives it; an
        absent label or annotation is ""."""
        field_path: str = body["fieldPath"]
        own = self.own_field(field_path)
        if own is not None:
            return own
        if field_path == "metadata.uid":
            reason = "the pod's ID is only known once Podman has created the pod, and changes when it is replaced"
        else:
            reason = "it is a cluster's or a running pod's field, unknown before the pod is created"
        self.problem(
            path + ("fieldPath",), f"env {name}: fieldPath {field_path} is not supported: {reason}",
            "supported: metadata.name, metadata.namespace, metadata.labels['KEY'], metadata.annotations['KEY']; "
            "or set a value",
        )
        return ""

    def resource_field_ref(self, name: str, body: dict[str, Any], path: FieldPath, container: dict[str, Any]) -> str:
        """limits/requests of cpu/memory, divided by `divisor` and rounded up, as Kubernetes does.

        The value must be written in the manifest: `podman kube play` falls back to the host's
        memory and CPU count, which podspec cannot know before it talks to the host."""
        resource: str = body["resource"]
        group, _, what = resource.partition(".")
        if group not in ("limits", "requests") or what not in ("cpu", "memory"):
            self.problem(
                path + ("resource",), f"env {name}: resource {resource} is not supported",
                "supported: limits.cpu, limits.memory, requests.cpu, requests.memory",
            )
            return ""
        divisor = str(body.get("divisor", "1"))
        if divisor not in RESOURCE_DIVISORS[what]:
            self.problem(
                path + ("divisor",), f"env {name}: divisor {divisor} is not valid for {what}",
                f"use one of {', '.join(RESOURCE_DIVISORS[what])}",
            )
            return ""
        resources = container.get("resources") or {}
        written = (resources.get(group) or {}).get(what)
        if written is None and group == "requests":
            written = (resources.get("limits") or {}).get(what)  # a request defaults to the limit
        if written is None:
            self.problem(
                path + ("resource",), f"env {name}: {resource} is not set in this container's resources",
                f"set resources.{group}.{what}: podspec computes the value from the manifest, "
                "not from the host's total as kube play does",
            )
            return ""
        from podspec.loader import quantity

        try:
            value = quantity.parse(written) / quantity.parse(divisor)
        except quantity.QuantityError:
            return ""  # reported where the quantity is written
        return str(math.ceil(value))

    def env_from(self, raw: dict[str, Any], path: FieldPath) -> EnvFrom:
        sources = [k for k in ("configMapRef", "secretRef") if k in raw]
        if len(sources) != 1:
            self.problem(
                path, "an envFrom entry needs exactly one of configMapRef, secretRef"
                + (f"; found {', '.join(sources)}" if sources else ""),
            )
            return EnvFrom(SourceKind.CONFIG_MAP, "", optional=True)
        body = raw[sources[0]]
        kind = SourceKind.CONFIG_MAP if sources[0] == "configMapRef" else SourceKind.SECRET
        return EnvFrom(kind, body["name"], prefix=raw.get("prefix", ""), optional=bool(body.get("optional", False)))

    def port(self, raw: dict[str, Any], path: FieldPath) -> PortMapping:
        host_ip = raw.get("hostIP", "")
        self.ip(host_ip, path + ("hostIP",), allow_empty=True)
        return PortMapping(
            container_port=int(raw["containerPort"]),
            host_port=_int_or_none(raw.get("hostPort")),
            host_ip="" if host_ip == "0.0.0.0" else host_ip,
            protocol=Protocol(raw.get("protocol", Protocol.TCP.value).upper()),  # `tcp`: see portable.py
            name=raw.get("name", ""),
        )

    def resources(self, raw: dict[str, Any], path: FieldPath) -> Resources:
        if not raw.get("limits") and not raw.get("requests"):
            return Resources()  # most containers: no quantity to read (nor fractions to import)
        from podspec.loader import quantity

        values: dict[str, int | None] = {}
        for group in ("limits", "requests"):
            for name, convert in (("cpu", quantity.to_millis), ("memory", quantity.to_bytes)):
                written = raw.get(group, {}).get(name)
                values[f"{name}_{group}"] = None
                if written is None:
                    continue
                try:
                    values[f"{name}_{group}"] = convert(written)
                except quantity.QuantityError as error:
                    self.problem(path + (group, name), f"invalid {name} quantity {written!r}: {error}")
        return Resources(
            cpu_limit_millis=values["cpu_limits"], memory_limit_bytes=values["memory_limits"],
            cpu_request_millis=values["cpu_requests"], memory_request_bytes=values["memory_requests"],
        )

    def security(self, raw: dict[str, Any], path: FieldPath, pod: dict[str, Any], annotated: str | None = None) -> SecurityContext:
        """The container's securityContext with the pod's folded in. seccomp: the container's field,
        else the pod's, else the seccomp annotation (the container's, else the pod's), as the
        kubelet ranked them while it read both; appArmorProfile: the container's, else the pod's."""
        def inherited(name: str) -> Any:
            return raw[name] if name in raw else pod.get(name)

        def written(name: str) -> FieldPath:
            return path + (name,) if name in raw else ("spec", "securityContext", name)

        if inherited("runAsGroup") is not None and inherited("runAsUser") is None:
            self.problem(
                written("runAsGroup"),
                "runAsGroup needs runAsUser on Podman (Podman sets the user as uid:gid); add runAsUser", key=True,
            )
        capabilities = raw.get("capabilities", {})
        return SecurityContext(
            privileged=raw.get("privileged", False),
            capabilities_add=capability_set(capabilities.get("add", ())),
            capabilities_drop=capability_set(capabilities.get("drop", ())),
            run_as_user=_int_or_none(inherited("runAsUser")),
            run_as_group=_int_or_none(inherited("runAsGroup")),
            run_as_non_root=inherited("runAsNonRoot"),
            read_only_root_filesystem=raw.get("readOnlyRootFilesystem", False),
            allow_privilege_escalation=raw.get("allowPrivilegeEscalation"),
            seccomp_profile=self.profile(inherited("seccompProfile"), written("seccompProfile")) or annotated,
            proc_mount="" if raw.get("procMount", "Default") == "Default" else raw["procMount"],
            app_armor_profile=self.profile(inherited("appArmorProfile"), written("appArmorProfile")),
            se_linux_options=_se_linux(inherited("seLinuxOptions")),
        )

    def profile(self, raw: dict[str, Any] | None, path: FieldPath) -> str | None:
        if raw is None:
            return None
        kind, local = raw["type"], raw.get("localhostProfile")
        if kind == "Localhost":
            if not local:
                self.problem(path, "type Localhost needs localhostProfile", "name the profile in localhostProfile")
                return kind
            return f"Localhost:{local}"
        if local is not None:
            self.problem(path + ("localhostProfile",), f"localhostProfile is only used with type Localhost, not {kind}")
        return kind

    def probe(self, raw: dict[str, Any], path: FieldPath, ports: tuple[PortMapping, ...] = ()) -> Probe | None:
        handlers = [h for h in PROBE_HANDLERS if h in raw]
        if len(handlers) != 1:
            self.problem(
                path, "a probe needs exactly one of exec, httpGet, tcpSocket"
                + (f"; found {', '.join(handlers)}" if handlers else ""),
            )
            return None
        handler = handlers[0]
        body = raw[handler]
        timings = {
            name: int(raw[key])
            for name, key in (
                ("initial_delay_seconds", "initialDelaySeconds"), ("period_seconds", "periodSeconds"),
                ("timeout_seconds", "timeoutSeconds"), ("success_threshold", "successThreshold"),
                ("failure_threshold", "failureThreshold"),
            )
            if key in raw
        }
        return Probe(
            handler=ProbeHandler(handler),
            command=tuple(body.get("command", ())),
            path=(body.get("path") or "/") if handler == "httpGet" else "",  # Kubernetes probes "/" when no path is given
            port=self.probe_port(body.get("port"), path + (handler, "port"), ports),
            host=body.get("host", ""),
            scheme=body.get("scheme", "HTTP"),
            headers=tuple((h["name"], h["value"]) for h in body.get("httpHeaders", ())),
            **timings,
        )

    def probe_port(self, port: Any, path: FieldPath, ports: tuple[PortMapping, ...]) -> int | None:
        """A probe's port: a number, or the name of one of the container's ports."""
        if not isinstance(port, str):
            return _int_or_none(port)
        named = {p.name: p.container_port for p in ports if p.name}
        if port not in named:
            self.problem(
                path, f"no port of this container is named {port!r}",
                f"named ports: {', '.join(sorted(named))}" if named else "name one under ports[].name, or give the number",
            )
            return None
        return named[port]

    def claim(self, data: dict[str, Any]) -> VolumeClaim:
        meta = data["metadata"]
        for key in meta.get("annotations") or {}:
            if key.startswith(VOLUME_OPTION_PREFIX):
                self.problem(
                    ("metadata", "annotations", key), f"Podman volume option {key} is not supported",
                    "remove it; podspec creates local named volumes", key=True,
                )
        return VolumeClaim(name=meta["name"], labels=tuple(sorted((meta.get("labels") or {}).items())), locations=self.locations())


    # -- ConfigMap and Secret --------------------------------------------------------------

    def keys(self, data: dict[str, Any], group: str) -> None:
        for key in data:
            if len(key) > 253 or not CONFIG_KEY.fullmatch(key):
                self.problem(
                    (group, key), f"invalid key {key[:80]!r}",
                    "at most 253 letters, digits, '-', '_' and '.'", key=True,
                )
            elif key in (".", ".."):
                self.problem((group, key), f"invalid key {key!r}", "a key cannot be . or ..", key=True)

    def config_map(self, data: dict[str, Any]) -> ConfigMap:
        meta = data["metadata"]
        text: dict[str, str] = data.get("data") or {}
        binary: dict[str, str] = data.get("binaryData") or {}
        self.keys(text, "data")
        self.keys(binary, "binaryData")
        values = {k: v.encode() for k, v in text.items()}
        for key, encoded in binary.items():
            if key in text:
                self.problem(("binaryData", key), f"key {key} is in both data and binaryData", "keep one", key=True)
            values[key] = self.base64(encoded, ("binaryData", key))
        return ConfigMap(
            name=meta["name"], data=tuple(sorted(values.items())),
            labels=tuple(sorted((meta.get("labels") or {}).items())), locations=self.locations(),
            binary_keys=tuple(sorted(binary)),
        )

    def base64(self, encoded: str, path: FieldPath) -> bytes:
        """Decoded strictly, as Kubernetes does; the message never shows the value."""
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            self.problem(
                path, f"the value of {path[-1]} is not valid base64",
                "encode it with `base64 -w0`, or put the plain text under stringData",
            )
            return b""

    def secret(self, data: dict[str, Any]) -> Secret:
        meta = data["metadata"]
        kind = data.get("type", "Opaque")
        if kind in CLUSTER_SECRET_TYPES:
            self.problem_to(
                self.warnings, ("type",), f"type: {kind} is ignored on a single Podman host (it is about "
                f"{CLUSTER_SECRET_TYPES[kind]}; the data is used as written)",
                "keep it for Kubernetes; --strict makes this an error",
            )
        encoded: dict[str, str] = data.get("data") or {}
        plain: dict[str, str] = data.get("stringData") or {}
        self.keys(encoded, "data")
        self.keys(plain, "stringData")
        values = {k: self.base64(v, ("data", k)) for k, v in encoded.items()}
        values.update({k: v.encode() for k, v in plain.items()})  # stringData wins, as in Kubernetes
        needed = SECRET_KEYS.get(kind, ())
        missing = [k for k in needed if k not in values]
        if kind == "kubernetes.io/basic-auth" and not {"username", "password"} & set(values):
            self.problem(("type",), "a kubernetes.io/basic-auth Secret needs the key username or password")
        elif missing:
            self.problem(("type",), f"a {kind} Secret needs the key{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                         "as a Kubernetes API server requires it")
        return Secret(
            name=meta["name"], type=kind, data=tuple(sorted(values.items())),
            labels=tuple(sorted((meta.get("labels") or {}).items())), locations=self.locations(),
        )

    def problem_to(self, sink: list[Problem], path: FieldPath, message: str, hint: str = "", key: bool = False) -> None:
        where = self.document.key_at(path) if key else self.document.value_at(path)
        sink.append(Problem(Origin(self.document.file, *where), dotted(path), message, hint))

Built = Pod | VolumeClaim | ConfigMap | Secret | AbsentPod | Service


def build(document: Document, problems: list[Problem], warnings: list[Problem] | None = None) -> Built | list[Pod] | None:
    """The model of one schema-valid document, problems found on the way appended to `problems`
    (and what is ignored on a Podman host to `warnings`).

    The model is returned even when there are problems (a value that could not be read is left at
    its default), so that the semantic checks still run on it; load() raises if any were found.
    """
    builder = _Builder(document, problems, warnings)
    data = document.data
    kind = data["kind"]
    if kind == "Pod":
        return builder.pod(data)
    if kind == "ConfigMap":
        return builder.config_map(data)
    if kind == "Secret":
        return builder.secret(data)
    if kind == "Service":
        return builder.service(data)
    if kind in ("Deployment", "Job"):
        return builder.workload(data)
    return builder.claim(data)


def _se_linux(raw: dict[str, Any] | None) -> tuple[str, ...]:
    """seLinuxOptions as Podman's label options (`podman kube play`'s order: user, role, type, level)."""
    raw = raw or {}
    return tuple(f"{key}:{raw[key]}" for key in ("user", "role", "type", "level") if raw.get(key))


def pull_policy(written: str) -> PullPolicy:
    """A container's imagePullPolicy: Kubernetes' values, or `podman kube play`'s spellings."""
    return PULL_POLICY_SPELLINGS.get(written.lower()) or PullPolicy(written)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
