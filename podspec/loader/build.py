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
"""

from __future__ import annotations

import ipaddress
import re
from types import MappingProxyType
from typing import Any

from podspec import references
from podspec.errors import Origin, Problem
from podspec.loader import quantity
from podspec.loader.yamlpos import Document
from podspec.model import (
    INIT_TYPE_ANNOTATION,
    Container,
    EnvVar,
    FieldPath,
    HostAlias,
    InitContainerType,
    Locations,
    Pod,
    PortMapping,
    Probe,
    ProbeHandler,
    Protocol,
    PullPolicy,
    Resources,
    RestartPolicy,
    SecurityContext,
    Volume,
    VolumeClaim,
    VolumeKind,
    VolumeMount,
    capability_name,
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
    "io.containers.autoupdate": (
        "`podman auto-update` restarts systemd units and would replace podspec's containers behind its back",
        "use imagePullPolicy: Always and run `podspec apply` (e.g. from a timer)"),
    "io.containers.autoupdate.authfile": (
        "`podman auto-update` is not used by podspec", "remove it; podspec pulls with the host's credentials"),
    "io.containers.sdnotify": (
        "sd_notify is for pods that systemd starts (`podman kube play` under Quadlet); podspec starts pods itself",
        "remove it; `podspec apply --wait` waits until the containers are ready"),
    "seccomp.security.alpha.kubernetes.io/pod": (
        "the seccomp annotations were removed from Kubernetes", "use securityContext.seccompProfile"),
    "container.seccomp.security.alpha.kubernetes.io": (
        "the seccomp annotations were removed from Kubernetes", "use securityContext.seccompProfile in the container"),
    "io.podman.annotations.userns": ("not supported", "use spec.hostUsers: false for a private user namespace"),
    "io.podman.annotations.infra.name": ("podspec lets Podman name the infra container", "remove it"),
    "io.podman.annotations.ulimit": ("per-pod ulimits are not supported", "set default_ulimits in containers.conf"),
    "io.podman.annotations.pids-limit": ("not supported", "set pids_limit in containers.conf"),
    "io.podman.annotations.cpuset": ("not supported", "remove it"),
    "io.podman.annotations.memory-nodes": ("not supported", "remove it"),
    "io.podman.annotations.kube.health.check": ("Podman's own marker", "remove it; probes become health checks"),
}
_VOLUME_NAME = re.compile(r"[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*")
# Podman's annotation for the SELinux relabel option of a bind mount (libpod/define: BindMountPrefix).
BIND_MOUNT_OPTIONS = "bind-mount-options"
MOUNT_OPTIONS = {"ro": "read-only", "rw": "read-write", "z": "shared SELinux label", "Z": "private SELinux label"}
# Podman volume options podspec does not apply yet: refused rather than ignored.
VOLUME_OPTION_PREFIX = "volume.podman.io/"
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket")
PROBE_FIELDS = (("livenessProbe", "liveness_probe"), ("readinessProbe", "readiness_probe"), ("startupProbe", "startup_probe"))
VOLUME_SOURCES = ("persistentVolumeClaim", "hostPath", "emptyDir")


def is_bookkeeping(annotation: str) -> bool:
    return annotation.startswith(BOOKKEEPING_PREFIXES)


def refused_annotation(annotation: str) -> tuple[str, str] | None:
    """(why, what instead) when `podman kube play` acts on this annotation and podspec does not."""
    name = annotation if annotation in REFUSED_ANNOTATIONS else annotation.rsplit("/", 1)[0]
    return REFUSED_ANNOTATIONS.get(name)


class _Builder:
    """Builds the model of one document and collects the problems found on the way."""

    def __init__(self, document: Document, problems: list[Problem]) -> None:
        self.document = document
        self.problems = problems
        self.said: set[Problem] = set()
        self.relabels: dict[str, str] = {}  # volume name -> z/Z, from the bind-mount-options annotation

    def problem(self, path: FieldPath, message: str, hint: str = "", key: bool = False) -> None:
        """Report once (a pod-level value inherited by several containers is one problem)."""
        where = self.document.key_at(path) if key else self.document.value_at(path)
        problem = Problem(Origin(self.document.file, *where), dotted(path), message, hint)
        if problem not in self.said:
            self.said.add(problem)
            self.problems.append(problem)

    def locations(self) -> Locations:
        return Locations(self.document.file, MappingProxyType(self.document.positions()))

    # -- Pod -------------------------------------------------------------------------------

    def pod(self, data: dict[str, Any]) -> Pod:
        meta, spec = data["metadata"], data["spec"]
        annotations: dict[str, str] = meta.get("annotations") or {}
        self.refuse_annotations(annotations)
        self.relabels = self.bind_mount_options(annotations, spec)
        init_type = annotations.get(INIT_TYPE_ANNOTATION, InitContainerType.ONCE.value)
        if init_type not in {t.value for t in InitContainerType}:
            self.problem(
                ("metadata", "annotations", INIT_TYPE_ANNOTATION), f"unsupported init container type {init_type!r}",
                "supported values: once, always",
            )
            init_type = InitContainerType.ONCE.value
        pod_security: dict[str, Any] = spec.get("securityContext", {})
        return Pod(
            name=meta["name"],
            containers=tuple(
                self.container(c, ("spec", "containers", i), pod_security) for i, c in enumerate(spec["containers"])
            ),
            init_containers=tuple(
                self.container(c, ("spec", "initContainers", i), pod_security)
                for i, c in enumerate(spec.get("initContainers", ()))
            ),
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
                if k not in (INIT_TYPE_ANNOTATION, BIND_MOUNT_OPTIONS) and not is_bookkeeping(k)
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
        )

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
        policy = raw.get("imagePullPolicy")
        ports = tuple(self.port(p, path + ("ports", i)) for i, p in enumerate(raw.get("ports", ())))
        probes = self.probes(raw, path, ports)
        return Container(
            name=raw["name"],
            image=references.normalize(written_image),
            pull_policy=PullPolicy(policy) if policy else references.default_pull_policy(written_image),
            command=tuple(raw.get("command", ())),
            args=tuple(raw.get("args", ())),
            working_dir=raw.get("workingDir", ""),
            env=tuple(self.env(e, path + ("env", i)) for i, e in enumerate(raw.get("env", ()))),
            ports=ports,
            volume_mounts=tuple(self.mount(m, path + ("volumeMounts", i)) for i, m in enumerate(raw.get("volumeMounts", ()))),
            resources=self.resources(raw.get("resources", {}), path + ("resources",)),
            security=self.security(raw.get("securityContext", {}), path + ("securityContext",), pod_security),
            **probes,
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
        """liveness, readiness and startup probes; Podman runs one health check, so they must agree."""
        found: dict[str, Probe | None] = {}
        first: tuple[str, Probe] | None = None
        init = "initContainers" in path
        for key, name in PROBE_FIELDS:
            if key not in raw:
                continue
            if init:
                self.problem(
                    path + (key,), f"an init container cannot have a {key}",
                    "remove it; init containers run to completion (Kubernetes and Podman refuse it too)", key=True,
                )
                continue
            probe = self.probe(raw[key], path + (key,), ports)
            found[name] = probe
            if probe is None:
                continue
            if first is None:
                first = (key, probe)
            elif probe != first[1]:
                self.problem(
                    path + (key,), f"{key} differs from {first[0]}: Podman runs one health check per container",
                    f"make {key} the same as {first[0]}, or keep only one of them", key=True,
                )
        return found

    def stop_signal(self, raw: dict[str, Any], path: FieldPath) -> str:
        name: str = (raw.get("lifecycle") or {}).get("stopSignal", "")
        if name and signal_number(name) is None:
            self.problem(path + ("lifecycle", "stopSignal"), f"unknown signal {name}", "e.g. SIGTERM, SIGINT, SIGQUIT, SIGUSR1")
            return ""
        return name

    def env(self, raw: dict[str, Any], path: FieldPath) -> EnvVar:
        value = raw.get("value", "")
        if value == REDACTED:
            self.problem(
                path + ("value",),
                f"env {raw['name']} holds the placeholder {REDACTED} written by `podspec export`; "
                "put the real value in (or export again with --show-secrets)",
            )
        return EnvVar(raw["name"], value)

    def port(self, raw: dict[str, Any], path: FieldPath) -> PortMapping:
        host_ip = raw.get("hostIP", "")
        self.ip(host_ip, path + ("hostIP",), allow_empty=True)
        return PortMapping(
            container_port=int(raw["containerPort"]),
            host_port=_int_or_none(raw.get("hostPort")),
            host_ip="" if host_ip == "0.0.0.0" else host_ip,
            protocol=Protocol(raw.get("protocol", Protocol.TCP.value)),
            name=raw.get("name", ""),
        )

    def resources(self, raw: dict[str, Any], path: FieldPath) -> Resources:
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

    def security(self, raw: dict[str, Any], path: FieldPath, pod: dict[str, Any]) -> SecurityContext:
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
            capabilities_add=_capabilities(capabilities.get("add", ())),
            capabilities_drop=_capabilities(capabilities.get("drop", ())),
            run_as_user=_int_or_none(inherited("runAsUser")),
            run_as_group=_int_or_none(inherited("runAsGroup")),
            run_as_non_root=inherited("runAsNonRoot"),
            read_only_root_filesystem=raw.get("readOnlyRootFilesystem", False),
            allow_privilege_escalation=raw.get("allowPrivilegeEscalation"),
            seccomp_profile=self.profile(inherited("seccompProfile"), written("seccompProfile")),
            proc_mount="" if raw.get("procMount", "Default") == "Default" else raw["procMount"],
            app_armor_profile=self.profile(raw.get("appArmorProfile"), path + ("appArmorProfile",)),
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
            path=body.get("path", ""),
            port=self.probe_port(body.get("port"), path + (handler, "port"), ports),
            host=body.get("host", ""),
            scheme=body.get("scheme", "HTTP"),
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

    # -- Volumes ---------------------------------------------------------------------------

    def volume(self, raw: dict[str, Any], path: FieldPath) -> Volume:
        sources = [s for s in VOLUME_SOURCES if s in raw]
        if len(sources) != 1:
            self.problem(
                path, "a volume needs exactly one of persistentVolumeClaim, hostPath, emptyDir"
                + (f"; found {', '.join(sources)}" if sources else ""),
            )
            return Volume(name=raw["name"], kind=VolumeKind.EMPTY_DIR)
        kind = VolumeKind(sources[0])
        body = raw[sources[0]]
        if kind is VolumeKind.CLAIM:
            return Volume(name=raw["name"], kind=kind, claim_name=body["claimName"], read_only=body.get("readOnly", False))
        if kind is VolumeKind.HOST_PATH:
            if "/" not in body["path"]:
                return self.host_path_volume(raw["name"], body["path"], path + ("hostPath", "path"))
            if not body["path"].startswith("/"):
                self.problem(path + ("hostPath", "path"), f"invalid value {body['path']!r}: must be an absolute path (starting with /)")
            return Volume(name=raw["name"], kind=kind, host_path=body["path"], host_path_type=body.get("type", ""))
        return self.empty_dir(raw["name"], body, path + ("emptyDir",))

    def host_path_volume(self, name: str, volume: str, path: FieldPath) -> Volume:
        """`hostPath: {path: NAME}` without a '/' is the Podman volume NAME, as `podman kube play` reads it."""
        if volume == "tmpfs":  # how Podman 4.3's `kube generate` writes a tmpfs mount
            self.problem(
                path, "hostPath tmpfs is how Podman 4.3's `kube generate` writes a tmpfs; `podman kube play` "
                "would make it a disk volume named tmpfs", "write the volume as emptyDir: {medium: Memory}",
            )
        elif not _VOLUME_NAME.fullmatch(volume):
            self.problem(path, f"invalid value {volume!r}: must be an absolute path, or the name of a Podman volume")
        return Volume(name=name, kind=VolumeKind.CLAIM, claim_name=volume)

    def empty_dir(self, name: str, body: dict[str, Any], path: FieldPath) -> Volume:
        """emptyDir: a volume of the pod's own; medium Memory is a tmpfs, of sizeLimit when given."""
        medium = body.get("medium", "")
        size = None
        if medium == "Memory" and body.get("sizeLimit") is not None:
            try:
                size = quantity.to_bytes(body["sizeLimit"])
            except quantity.QuantityError as error:
                self.problem(path + ("sizeLimit",), f"invalid sizeLimit {body['sizeLimit']!r}: {error}")
        return Volume(name=name, kind=VolumeKind.EMPTY_DIR, medium=medium, size_limit_bytes=size)

    # -- PersistentVolumeClaim -------------------------------------------------------------

    def claim(self, data: dict[str, Any]) -> VolumeClaim:
        meta = data["metadata"]
        for key in meta.get("annotations") or {}:
            if key.startswith(VOLUME_OPTION_PREFIX):
                self.problem(
                    ("metadata", "annotations", key), f"Podman volume option {key} is not supported",
                    "remove it; podspec creates local named volumes", key=True,
                )
        return VolumeClaim(name=meta["name"], labels=tuple(sorted((meta.get("labels") or {}).items())), locations=self.locations())


def build(document: Document, problems: list[Problem]) -> Pod | VolumeClaim:
    """The model of one schema-valid document, problems found on the way appended to `problems`.

    The model is returned even when there are problems (a value that could not be read is left at
    its default), so that the semantic checks still run on it; load() raises if any were found.
    """
    builder = _Builder(document, problems)
    data = document.data
    return builder.pod(data) if data["kind"] == "Pod" else builder.claim(data)


def _capabilities(names: Any) -> tuple[str, ...]:
    return tuple(sorted({capability_name(n) for n in names}))


def _se_linux(raw: dict[str, Any] | None) -> tuple[str, ...]:
    """seLinuxOptions as Podman's label options (`podman kube play`'s order: user, role, type, level)."""
    raw = raw or {}
    return tuple(f"{key}:{raw[key]}" for key in ("user", "role", "type", "level") if raw.get(key))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
