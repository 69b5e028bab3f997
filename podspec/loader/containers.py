"""Building a container from the manifest: image and pull policy, command, env (values, ConfigMap
and Secret references, fieldRef and resourceFieldRef), envFrom, ports, mounts (with options after
the path), resources, the security context (pod-level values folded in), probes and the stop
signal. Functions over the document's reporter and the facts of the pod being built."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from podspec import references
from podspec.loader.fieldrefs import NODE_NAME_FIELD, field_ref, resource_field_ref
from podspec.loader.reporter import PodFacts, Reporter, int_or_none
from podspec.model import (
    SECCOMP_ROOT,
    Container,
    EnvFrom,
    EnvVar,
    FieldPath,
    KeyRef,
    PortMapping,
    Protocol,
    PullPolicy,
    Resources,
    SecurityContext,
    SourceKind,
    VolumeMount,
    capability_set,
    local_profile_problem,
    signal_number,
)
from podspec.secrets import REDACTED

if TYPE_CHECKING:
    from podspec.model import Probe

MOUNT_OPTIONS = {"ro": "read-only", "rw": "read-write", "z": "shared SELinux label", "Z": "private SELinux label"}
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket")
PROBE_FIELDS = (("livenessProbe", "liveness_probe"), ("readinessProbe", "readiness_probe"), ("startupProbe", "startup_probe"))
# `podman kube play`'s spellings of a pull policy (containers/common ParsePullPolicy) as Kubernetes'.
# Podman's "newer" pulls when the registry has a newer image: what Always does here (a pull that
# finds the same digest changes nothing).
PULL_POLICY_SPELLINGS = {
    "always": PullPolicy.ALWAYS, "missing": PullPolicy.IF_NOT_PRESENT, "ifnotpresent": PullPolicy.IF_NOT_PRESENT,
    "never": PullPolicy.NEVER, "newer": PullPolicy.ALWAYS, "ifnewer": PullPolicy.ALWAYS,
}


def container(r: Reporter, facts: PodFacts, raw: dict[str, Any], path: FieldPath, pod_security: dict[str, Any]) -> Container:
    written_image: str = raw["image"]
    if "restartPolicy" in raw and "initContainers" not in path:
        r.problem(path + ("restartPolicy",), "restartPolicy on a container: only an init container takes it "
                     "(Always, a sidecar)", "remove it; the pod's restartPolicy applies", key=True)
    policy = raw.get("imagePullPolicy")
    ports = tuple(port(r, p, path + ("ports", i)) for i, p in enumerate(raw.get("ports", ())))
    found_probes = probes(r, raw, path, ports)
    return Container(
        name=raw["name"],
        image=references.normalize(written_image),
        pull_policy=references.pull_policy_or_default(pull_policy(policy) if policy else None, written_image),
        auto_update=facts.auto_updates.get(raw["name"], facts.auto_updates.get("")),
        command=tuple(raw.get("command", ())),
        args=tuple(raw.get("args", ())),
        working_dir=raw.get("workingDir", ""),
        env=tuple(env(r, facts, e, path + ("env", i), raw) for i, e in enumerate(raw.get("env", ()))),
        env_from=tuple(env_from(r, e, path + ("envFrom", i)) for i, e in enumerate(raw.get("envFrom", ()))),
        ports=ports,
        volume_mounts=tuple(mount(r, facts, m, path + ("volumeMounts", i)) for i, m in enumerate(raw.get("volumeMounts", ()))),
        resources=resources(r, raw.get("resources", {}), path + ("resources",)),
        security=security(r, raw.get("securityContext", {}), path + ("securityContext",), pod_security,
                               facts.seccomp.get(raw["name"]) or facts.seccomp.get("")),
        liveness_probe=found_probes.get("liveness_probe"), readiness_probe=found_probes.get("readiness_probe"),
        startup_probe=found_probes.get("startup_probe"),
        stop_signal=stop_signal(r, raw, path),
        stdin=raw.get("stdin", False),
        tty=raw.get("tty", False),
    )


def mount(r: Reporter, facts: PodFacts, raw: dict[str, Any], path: FieldPath) -> VolumeMount:
    """A volumeMount; `mountPath: /data:z` takes mount options after the path, as `podman kube play` does."""
    mount_path, _, written = raw["mountPath"].partition(":")
    read_only, relabel = raw.get("readOnly", False), ""
    for option in written.split(",") if written else ():
        if option not in MOUNT_OPTIONS:
            r.problem(
                path + ("mountPath",), f"unsupported mount option {option!r} after the path",
                "supported: " + ", ".join(f"{k} ({v})" for k, v in MOUNT_OPTIONS.items()),
            )
        elif option in ("z", "Z"):
            if relabel and relabel != option:
                r.problem(path + ("mountPath",), "mount options z and Z exclude each other", "keep one")
            relabel = option
        elif option == "ro":
            read_only = True
        elif option == "rw" and read_only:
            r.problem(path + ("mountPath",), "mount option rw contradicts readOnly: true", "keep one")
    return VolumeMount(
        name=raw["name"], mount_path=mount_path, read_only=read_only, sub_path=raw.get("subPath", ""),
        relabel=relabel or facts.relabels.get(raw["name"], ""),
    )


def probes(r: Reporter, raw: dict[str, Any], path: FieldPath, ports: tuple[PortMapping, ...]) -> dict[str, Probe | None]:
    """liveness, readiness and startup probes: each one runs (podspec runs them; run/probes.py)."""
    found: dict[str, Probe | None] = {}
    init = "initContainers" in path and raw.get("restartPolicy") != "Always"  # a sidecar may have probes
    for key, name in PROBE_FIELDS:
        if key not in raw:
            continue
        if init:
            r.problem(
                path + (key,), f"an init container cannot have a {key}",
                "remove it; init containers run to completion (Kubernetes and Podman refuse it too)", key=True,
            )
            continue
        found[name] = probe(r, raw[key], path + (key,), ports)
    return found


def stop_signal(r: Reporter, raw: dict[str, Any], path: FieldPath) -> str:
    name: str = (raw.get("lifecycle") or {}).get("stopSignal", "")
    if name and signal_number(name) is None:
        r.problem(path + ("lifecycle", "stopSignal"), f"unknown signal {name}", "e.g. SIGTERM, SIGINT, SIGQUIT, SIGUSR1")
        return ""
    return name


def env(r: Reporter, facts: PodFacts, raw: dict[str, Any], path: FieldPath, container: dict[str, Any]) -> EnvVar:
    value = raw.get("value", "")
    source = raw.get("valueFrom")
    if source is not None:
        if "value" in raw:
            r.problem(path + ("value",), f"env {raw['name']} has both value and valueFrom", "keep one", key=True)
        return value_from(r, facts, raw["name"], source, path + ("valueFrom",), container)
    if value == REDACTED:
        r.problem(
            path + ("value",),
            f"env {raw['name']} holds the placeholder {REDACTED} written by `podspec export`; "
            "put the real value in (or export again with --show-secrets)",
        )
    return EnvVar(raw["name"], value)


def value_from(r: Reporter, facts: PodFacts, name: str, raw: dict[str, Any], path: FieldPath, container: dict[str, Any]) -> EnvVar:
    sources = [k for k in ("configMapKeyRef", "secretKeyRef", "fieldRef", "resourceFieldRef") if k in raw]
    if len(sources) != 1:
        r.problem(
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
        if body["fieldPath"] == NODE_NAME_FIELD:
            return EnvVar(name, "", node_name=True)  # the host's name, observed: reconcile/nodename.py
        return EnvVar(name, field_ref(r, facts, name, body, path + ("fieldRef",)))
    return EnvVar(name, resource_field_ref(r, name, body, path + ("resourceFieldRef",), container))


def env_from(r: Reporter, raw: dict[str, Any], path: FieldPath) -> EnvFrom:
    sources = [k for k in ("configMapRef", "secretRef") if k in raw]
    if len(sources) != 1:
        r.problem(
            path, "an envFrom entry needs exactly one of configMapRef, secretRef"
            + (f"; found {', '.join(sources)}" if sources else ""),
        )
        return EnvFrom(SourceKind.CONFIG_MAP, "", optional=True)
    body = raw[sources[0]]
    kind = SourceKind.CONFIG_MAP if sources[0] == "configMapRef" else SourceKind.SECRET
    return EnvFrom(kind, body["name"], prefix=raw.get("prefix", ""), optional=bool(body.get("optional", False)))


def port(r: Reporter, raw: dict[str, Any], path: FieldPath) -> PortMapping:
    host_ip = raw.get("hostIP", "")
    ip(r, host_ip, path + ("hostIP",), allow_empty=True)
    return PortMapping(
        container_port=int(raw["containerPort"]),
        host_port=int_or_none(raw.get("hostPort")),
        host_ip="" if host_ip == "0.0.0.0" else host_ip,
        protocol=Protocol(raw.get("protocol", Protocol.TCP.value).upper()),  # `tcp`: see portable.py
        name=raw.get("name", ""),
    )


def resources(r: Reporter, raw: dict[str, Any], path: FieldPath) -> Resources:
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
                r.problem(path + (group, name), f"invalid {name} quantity {written!r}: {error}")
    return Resources(
        cpu_limit_millis=values["cpu_limits"], memory_limit_bytes=values["memory_limits"],
        cpu_request_millis=values["cpu_requests"], memory_request_bytes=values["memory_requests"],
    )


def security(r: Reporter, raw: dict[str, Any], path: FieldPath, pod: dict[str, Any], annotated: str | None = None) -> SecurityContext:
    """The container's securityContext with the pod's folded in. seccomp: the container's field,
    else the pod's, else the seccomp annotation (the container's, else the pod's), as the
    kubelet ranked them while it read both; appArmorProfile: the container's, else the pod's."""
    def inherited(name: str) -> Any:
        return raw[name] if name in raw else pod.get(name)

    def written(name: str) -> FieldPath:
        return path + (name,) if name in raw else ("spec", "securityContext", name)

    if inherited("runAsGroup") is not None and inherited("runAsUser") is None:
        r.problem(
            written("runAsGroup"),
            "runAsGroup needs runAsUser on Podman (Podman sets the user as uid:gid); add runAsUser", key=True,
        )
    capabilities = raw.get("capabilities", {})
    return SecurityContext(
        privileged=raw.get("privileged", False),
        capabilities_add=capability_set(capabilities.get("add", ())),
        capabilities_drop=capability_set(capabilities.get("drop", ())),
        run_as_user=int_or_none(inherited("runAsUser")),
        run_as_group=int_or_none(inherited("runAsGroup")),
        run_as_non_root=inherited("runAsNonRoot"),
        read_only_root_filesystem=raw.get("readOnlyRootFilesystem", False),
        allow_privilege_escalation=raw.get("allowPrivilegeEscalation"),
        seccomp_profile=profile(r, inherited("seccompProfile"), written("seccompProfile")) or annotated,
        proc_mount="" if raw.get("procMount", "Default") == "Default" else raw["procMount"],
        app_armor_profile=profile(r, inherited("appArmorProfile"), written("appArmorProfile")),
        se_linux_options=_se_linux(inherited("seLinuxOptions")),
    )


def profile(r: Reporter, raw: dict[str, Any] | None, path: FieldPath) -> str | None:
    if raw is None:
        return None
    kind, local = raw["type"], raw.get("localhostProfile")
    if kind == "Localhost":
        if not local:
            r.problem(path, "type Localhost needs localhostProfile", "name the profile in localhostProfile")
            return kind
        if path[-1] == "seccompProfile":
            seccomp_name(r, local, path + ("localhostProfile",))
        return f"Localhost:{local}"
    if local is not None:
        r.problem(path + ("localhostProfile",), f"localhostProfile is only used with type Localhost, not {kind}")
    return kind


def seccomp_name(r: Reporter, local: str, path: FieldPath) -> None:
    """A Localhost seccomp profile is a file under SECCOMP_ROOT, named by a relative path that does
    not climb out of it (the kubelet's rule for its own root)."""
    why = local_profile_problem(local)
    if why is not None:
        r.problem(path, f"the Localhost seccomp profile {local!r} {why}",
                  f"name a file under {SECCOMP_ROOT} by its relative path (for example profiles/audit.json)")


def probe(r: Reporter, raw: dict[str, Any], path: FieldPath, ports: tuple[PortMapping, ...] = ()) -> Probe | None:
    from podspec.model import Probe, ProbeHandler  # (model.EXTRA: only for manifests with probes)

    handlers = [h for h in PROBE_HANDLERS if h in raw]
    if len(handlers) != 1:
        r.problem(
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
    for i, header in enumerate(body.get("httpHeaders", ())):
        if header.get("value") == REDACTED:
            r.problem(path + (handler, "httpHeaders", i, "value"),
                      f"header {header.get('name')} holds the placeholder {REDACTED} written by `podspec export`; "
                      "put the real value in (or export again with --show-secrets)")
    return Probe(
        handler=ProbeHandler(handler),
        command=tuple(body.get("command", ())),
        path=(body.get("path") or "/") if handler == "httpGet" else "",  # Kubernetes probes "/" when no path is given
        port=probe_port(r, body.get("port"), path + (handler, "port"), ports),
        host=body.get("host", ""),
        scheme=body.get("scheme", "HTTP"),
        headers=tuple((h["name"], h["value"]) for h in body.get("httpHeaders", ())),
        **timings,
    )


def probe_port(r: Reporter, port: Any, path: FieldPath, ports: tuple[PortMapping, ...]) -> int | None:
    """A probe's port: a number, or the name of one of the container's ports."""
    if not isinstance(port, str):
        return int_or_none(port)
    named = {p.name: p.container_port for p in ports if p.name}
    if port not in named:
        r.problem(
            path, f"no port of this container is named {port!r}",
            f"named ports: {', '.join(sorted(named))}" if named else "name one under ports[].name, or give the number",
        )
        return None
    return named[port]


def ip(r: Reporter, text: str, path: FieldPath, allow_empty: bool) -> None:
    if text == "" and allow_empty:
        return
    try:
        ipaddress.ip_address(text)
    except ValueError:
        r.problem(path, f"{text!r} is not an IP address", "write an IPv4 or IPv6 address, e.g. 127.0.0.1")


def _se_linux(raw: dict[str, Any] | None) -> tuple[str, ...]:
    """seLinuxOptions as Podman's label options (`podman kube play`'s order: user, role, type, level)."""
    raw = raw or {}
    return tuple(f"{key}:{raw[key]}" for key in ("user", "role", "type", "level") if raw.get(key))


def pull_policy(written: str) -> PullPolicy:
    """A container's imagePullPolicy: Kubernetes' values, or `podman kube play`'s spellings."""
    return PULL_POLICY_SPELLINGS.get(written.lower()) or PullPolicy(written)
