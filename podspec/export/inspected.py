"""Export: what Podman reports about a pod -> the desired model that would make it (pure).

The inverse of engine/specgen.py. Input is plain inspect JSON (see `PodData`); output is model
`Pod`s and `VolumeClaim`s, so that whatever equals a loader default is already its default here and
the manifest writer leaves it out. Podman's own additions are dropped: the environment the image
sets (and `container=podman`, `TERM=xterm`, `HOME=/root` or `/`, `HOSTNAME`), the image's command and working
directory, Podman's bookkeeping annotations and podspec's `io.podspec.*` labels.

Where a value is not kept by Podman at all, podspec's own record on the objects it created
(the `io.podspec.*` labels: container names and order, pull policy, the image as written, volume
names and kinds, ports without a host port) fills it in. Pods made by hand get names and shapes
the way `podman kube generate` gives them: a claim `X` is the volume `X-pvc`, ports go on the first
container, a container `<pod>-x` is `x`.

Ordering is made deterministic where Podman's is not: environment variables by name, volume mounts
by mount path, ports by container port.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from podspec import labels as L
from podspec.errors import PodspecError
from podspec.model import (
    FILE_VOLUMES,
    IMAGE_MOUNTS_ANNOTATION,
    INIT_TYPE_ANNOTATION,
    SECCOMP_ROOT,
    SERVICE_WORKLOAD,
    Container,
    EnvVar,
    HostAlias,
    InitContainerType,
    KeyRef,
    KeyToPath,
    Pod,
    PortMapping,
    Probe,
    ProbeHandler,
    ProjectedFile,
    Projection,
    Protocol,
    Resources,
    SecurityContext,
    SourceKind,
    Volume,
    VolumeClaim,
    VolumeKind,
    VolumeMount,
    capability_set,
)
from podspec.names import (
    MountSource,
    container_in_pod,
    copy_of,
    read_file_note,
    read_mount_source,
    read_port_text,
    restart_policy_of,
)
from podspec.references import expanded, pull_policy_or_default

Json = Mapping[str, Any]

# Environment Podman adds to every container (besides the image's own).
PODMAN_ENV = {"container": "podman", "TERM": "xterm"}
# Container annotations Podman writes for itself; no intent.
PODMAN_ANNOTATION_PREFIXES = (
    "io.kubernetes.cri-o.", "io.podman.annotations.", "io.container.manager", "org.opencontainers.",
)
# Podman 5 writes these on every container it starts, from the stop signal and stop timeout (for
# systemd's cgroup manager). Only these two: a user's own `org.systemd.property.*` is kept.
PODMAN_ANNOTATIONS = frozenset({"org.systemd.property.KillSignal", "org.systemd.property.TimeoutStopUSec"})
NANOS = 1_000_000_000
# specgen writes headers as `-H 'Name: value'`, quoted by shlex.quote (a ' in a value becomes '"'"').
_HTTP_CHECK = re.compile(
    r"curl -f((?: -H (?:'[^']*'|\"[^\"]*\"|[^\s'\"])+)*) (https?)://([^:/]+):(\d+)(/\S*) \|\| exit 1")
_TCP_CHECK = re.compile(r"nc -z (\S+) (\d+) \|\| exit 1")
_RECORDED_REF = re.compile(r"(secret|configMap) (\S+) key (\S+)")  # intent.describe_ref


@dataclass(frozen=True)
class PodData:
    """Everything export reads about one pod: plain JSON as Podman's REST API returns it."""

    pod: Json  # GET /pods/{name}/json
    containers: tuple[Json, ...]  # GET /containers/{id}/json for every container but the infra one
    images: Mapping[str, Json] = field(default_factory=dict)  # GET /images/{id}/json, by image ID
    volumes: Mapping[str, Json] = field(default_factory=dict)  # GET /volumes/{name}/json, by name
    init_names: tuple[str, ...] = ()  # the containers Podman itself lists as init containers


@dataclass(frozen=True)
class Exported:
    pods: tuple[Pod, ...]
    claims: tuple[VolumeClaim, ...]  # sorted by name, one per named volume the pods mount
    notes: tuple[str, ...] = ()  # what could not be expressed in a manifest


def export(pods: Sequence[PodData]) -> Exported:
    made: list[Pod] = []
    claims: dict[str, VolumeClaim] = {}
    notes: list[str] = []
    for data in pods:
        workload = (data.pod.get("Labels") or {}).get(L.WORKLOAD, "")
        if workload.startswith(SERVICE_WORKLOAD + " "):
            notes.append(f"pod {data.pod.get('Name')} is how podspec publishes {workload} on the host: "
                         "not exported (the Service is, with the pods it selects)")
            continue
        pod, pod_claims, pod_notes = export_pod(data)
        made.append(pod)
        notes += pod_notes
        for claim in pod_claims:
            claims.setdefault(claim.name, claim)
    return Exported(tuple(made), tuple(claims[n] for n in sorted(claims)), tuple(notes))


# ------------------------------------------------------------------------------------------ pod


def export_pod(data: PodData) -> tuple[Pod, tuple[VolumeClaim, ...], tuple[str, ...]]:
    pod_json = data.pod
    name: str = pod_json["Name"]
    pod_labels: Mapping[str, str] = pod_json.get("Labels") or {}
    infra: Json = pod_json.get("InfraConfig") or {}
    notes: list[str] = []

    ordered = _ordered(data.containers, pod_labels)
    init_type = _init_type(data, pod_labels)
    volumes = _Volumes(name, data.volumes)
    inits: list[Container] = []
    regulars: list[Container] = []
    for c in ordered:
        if "serviceProxy" in (L.last_applied((c.get("Config") or {}).get("Labels")) or {}):
            continue  # a Service's proxy: podspec makes it from the Service, which export writes
        image = data.images.get(c.get("Image", ""), {})
        container = _container(name, c, image, volumes, notes)
        (inits if _is_init(name, c, data.init_names) else regulars).append(container)
    if not regulars:
        raise PodspecError(
            f"pod {name} has no containers besides init containers: a Pod manifest needs at least one",
            "add a container to the pod, or export another pod",
        )
    regulars = _place_ports(regulars, data.containers, infra)

    first = next((c for c in ordered if not _is_init(name, c, data.init_names)), ordered[0])
    hostname = pod_json.get("Hostname") or ""
    # A Deployment's copy under its other Podman name (names.py) is exported as the copy it is,
    # whose hostname is its copy name: the same manifest before and after a rollout.
    copy = copy_of(name, pod_labels.get(L.WORKLOAD, "")) or name
    pod = Pod(
        name=copy,
        containers=tuple(regulars),
        init_containers=tuple(inits),
        init_container_type=init_type if inits else InitContainerType.ONCE,
        volumes=volumes.used(),
        restart_policy=restart_policy_of(((first.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name", "")),
        hostname="" if hostname in (name, copy) else hostname,
        host_network=bool(infra.get("HostNetwork")),
        termination_grace_period_seconds=max(
            (int((c.get("Config") or {}).get("StopTimeout", 30)) for c in ordered), default=30),
        host_aliases=_host_aliases(infra.get("HostAdd") or ()),
        labels=tuple(sorted((k, v) for k, v in pod_labels.items() if not k.startswith(L.PREFIX))),
        annotations=_pod_annotations(ordered),
        host_pid=infra.get("pid_ns") == "host",
        host_ipc=any((c.get("HostConfig") or {}).get("IpcMode") == "host" for c in ordered),
        supplemental_groups=_groups(first),
        **_pod_dns_and_namespaces(pod_json, infra),
        resources=_pod_resources(pod_json, L.last_applied(pod_labels) or {}),
    )
    notes += _sources_read(pod)
    return pod, volumes.claims(), tuple(notes)


def _sources_read(pod: Pod) -> list[str]:
    """A note per ConfigMap and Secret the pod reads: their documents are not exported (a Secret's
    values are never shown; a ConfigMap's keep their place in its own file)."""
    read: dict[str, set[str]] = {}
    for c in (*pod.init_containers, *pod.containers):
        for var in c.env:
            if var.ref is not None:
                read.setdefault(var.ref.kind.value, set()).add(var.ref.source)
    for v in pod.volumes:
        if v.kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
            read.setdefault(v.kind.value, set()).add(v.source)
        for p in v.projections:
            read.setdefault(p.kind.value, set()).add(p.source)
    title = {SourceKind.CONFIG_MAP.value: "ConfigMap", SourceKind.SECRET.value: "Secret"}
    return [f"pod {pod.name} reads {title[kind]} {name}: its document is not exported; apply it beside this file"
            for kind in sorted(read) for name in sorted(read[kind])]


def _pod_resources(pod_json: Json, applied: Json) -> Resources:
    """Pod-level limits from the pod's cgroup settings (as `podman pod inspect` shows them); the
    memory request, which Podman does not show, from podspec's record."""
    recorded = applied.get("resources") or {}
    return _cgroup_resources(pod_json.get("cpu_quota"), pod_json.get("cpu_period"), pod_json.get("cpu_shares"),
                             pod_json.get("memory_limit"), recorded.get("memoryRequestBytes"))


def _pod_dns_and_namespaces(pod_json: Json, infra: Json) -> dict[str, Any]:
    """dnsConfig, shareProcessNamespace and hostUsers, from the pod and its infra container."""
    return {
        "dns_nameservers": tuple(infra.get("DNSServer") or ()),
        "dns_searches": tuple(infra.get("DNSSearch") or ()),
        "dns_options": tuple(infra.get("DNSOption") or ()),
        "share_process_namespace": "pid" in (pod_json.get("SharedNamespaces") or ()),
        "host_users": infra.get("userns") != "auto",
    }


def _ordered(containers: Iterable[Json], pod_labels: Mapping[str, str]) -> list[Json]:
    """podspec's recorded order (init containers first, then manifest order), else creation order."""
    recorded = [n for n in (pod_labels.get(L.CONTAINERS) or "").split(",") if n]

    def key(c: Json) -> tuple:
        own = (c.get("Config") or {}).get("Labels") or {}
        rank = recorded.index(own[L.CONTAINER]) if own.get(L.CONTAINER) in recorded else len(recorded)
        return (rank, c.get("Created", ""), c.get("Name", ""))

    return sorted(containers, key=key)


def _create_flag(c: Json, flag: str) -> str | None:
    """The value of `--flag=V` / `--flag V` in the podman command that created the container."""
    command = list((c.get("Config") or {}).get("CreateCommand") or ())
    for i, word in enumerate(command):
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
        if word == flag and i + 1 < len(command):
            return command[i + 1]
    return None


def _is_init(pod: str, c: Json, init_names: Sequence[str]) -> bool:
    own = (c.get("Config") or {}).get("Labels") or {}
    if own.get(L.ROLE):
        return own[L.ROLE] == "init"
    name = c.get("Name", "")
    return (
        _create_flag(c, "--init-ctr") is not None
        or name in init_names
        or container_name_in_manifest(pod, name) in init_names
    )


def _init_type(data: PodData, pod_labels: Mapping[str, str]) -> InitContainerType:
    candidates = [pod_labels.get(L.INIT_TYPE)]
    for c in data.containers:
        candidates.append(_create_flag(c, "--init-ctr"))
        candidates.append(((c.get("Config") or {}).get("Annotations") or {}).get(INIT_TYPE_ANNOTATION))
    for value in candidates:
        if value in (InitContainerType.ALWAYS.value, InitContainerType.ONCE.value):
            return InitContainerType(value)
    return InitContainerType.ONCE


def container_name_in_manifest(pod: str, podman_name: str) -> str:
    """`<pod>-x` -> `x` (podspec and `podman kube play` name containers so); else a DNS label."""
    return dns_label(container_in_pod(pod, podman_name))


def dns_label(text: str, fallback: str = "x") -> str:
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    return label or fallback


def _host_aliases(entries: Iterable[str]) -> tuple[HostAlias, ...]:
    by_ip: dict[str, list[str]] = {}
    for entry in entries:
        host, _, ip = entry.partition(":")  # "name:ip"; a host name holds no colon, an IPv6 address may
        if host and ip:
            by_ip.setdefault(ip, []).append(host)
    return tuple(HostAlias(ip, tuple(hosts)) for ip, hosts in by_ip.items())


def _pod_annotations(containers: Sequence[Json]) -> tuple[tuple[str, str], ...]:
    """Annotations every container carries (`podman kube play` copies the pod's onto each), and
    each container's own image-volumes-mount annotation (model.container_annotations)."""
    common: dict[str, str] | None = None
    mounted: dict[str, str] = {}
    for c in containers:
        config = c.get("Config") or {}
        own = {
            k: v for k, v in (config.get("Annotations") or {}).items()
            if not k.startswith(PODMAN_ANNOTATION_PREFIXES) and k not in PODMAN_ANNOTATIONS and not k.startswith(L.PREFIX)
        }
        applied = (L.last_applied(config.get("Labels")) or {}).get("annotations") if L.is_managed(config.get("Labels")) else None
        if isinstance(applied, dict):  # podspec's: the pod's annotations as written (what the policy let reach the runtime is a part)
            own = {str(k): str(v) for k, v in applied.items()}
        for k, v in own.items():  # one container's image-volumes-mount list: on that container only
            if k.startswith(IMAGE_MOUNTS_ANNOTATION + "/"):
                mounted[k] = v
        common = own if common is None else {k: v for k, v in common.items() if own.get(k) == v}
    return tuple(sorted({**(common or {}), **mounted}.items()))


def _groups(c: Json) -> tuple[int, ...]:
    groups = (c.get("HostConfig") or {}).get("GroupAdd") or ()
    return tuple(sorted({int(g) for g in groups if str(g).isdigit()}))


# ------------------------------------------------------------------------------------ container


def _container(pod: str, c: Json, image: Json, volumes: _Volumes, notes: list[str]) -> Container:
    config: Json = c.get("Config") or {}
    host: Json = c.get("HostConfig") or {}
    own: Mapping[str, str] = config.get("Labels") or {}
    applied = L.last_applied(own) or {}
    image_config: Json = image.get("Config") or {}
    name = own.get(L.CONTAINER) or container_name_in_manifest(pod, c.get("Name", ""))
    reference = _image(c, applied.get("image"))
    command, args = _as_written(_command(c, image_config), applied, config)
    policy = own.get(L.PULL_POLICY)
    probes = _probes(_probe(config.get("Healthcheck"), image_config.get("Healthcheck")), applied)
    return Container(
        name=name,
        image=reference,
        pull_policy=pull_policy_or_default(policy, reference),
        auto_update=None,  # the annotation is exported with the pod's others
        command=command,
        args=args,
        working_dir=_working_dir(config.get("WorkingDir") or "", image_config.get("WorkingDir") or ""),
        env=_env(config, image_config, applied, frozenset(n for n in own.get(L.SECRETS, "").split(",") if n)),
        ports=_unpublished_ports(applied),
        volume_mounts=volumes.mounts(c, applied),
        resources=_resources(host),
        security=_security(c, notes, applied),
        liveness_probe=probes.get("liveness_probe"), readiness_probe=probes.get("readiness_probe"),
        startup_probe=probes.get("startup_probe"),
        stop_signal=_stop_signal(config.get("StopSignal"), image_config.get("StopSignal")),
        stdin=bool(config.get("OpenStdin")),
        tty=bool(config.get("Tty")),
        env_from=(),  # Podman keeps env, not where it came from
    )


def _probes(probe: Probe | None, applied: Json) -> dict[str, Probe | None]:
    """podspec's record holds every probe the manifest gave (each one runs): those, as recorded.
    Without a record, Podman's one health check is the liveness probe."""
    from podspec.probe_record import ProbeKind, probes_from_spec

    recorded = probes_from_spec(applied)
    if recorded:
        return {f"{kind.value}_probe": p for kind, p in recorded}
    return {f"{ProbeKind.LIVENESS.value}_probe": probe} if probe is not None else {}


def _stop_signal(value: Any, image_value: Any) -> str:
    """The stop signal as a name, "" when it is the image's or SIGTERM (Podman's default)."""
    number, image_number = _signal(value), _signal(image_value)
    if number is None or number == image_number or number == 15:
        return ""
    import signal

    rtmin, rtmax = int(signal.SIGRTMIN), int(signal.SIGRTMAX)
    if rtmin <= number <= rtmax:
        return "SIGRTMIN" + (f"+{number - rtmin}" if number > rtmin else "")
    try:
        return signal.Signals(number).name
    except ValueError:
        return ""


def _signal(value: Any) -> int | None:
    """Podman reports a stop signal as a number (4.3) or a name; an image as a name or a number."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    from podspec.model import signal_number

    name = str(value).upper()
    return signal_number(name if name.startswith("SIG") else "SIG" + name)


def _image(c: Json, written: Any) -> str:
    actual = (c.get("ImageName") or (c.get("Config") or {}).get("Image") or "").strip()
    if isinstance(written, str) and written and (not actual or expanded(written) == expanded(actual)):
        return written
    from podspec.references import normalize

    return normalize(actual)


def _argv(c: Json) -> list[str]:
    path = c.get("Path") or ""
    return ([path] if path else []) + list(c.get("Args") or ())


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):  # Podman 4.3 joins the container's entrypoint with spaces
        return shlex.split(value)
    return list(value)


def _command(c: Json, image: Json) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(command, args) as Kubernetes means them: entrypoint and cmd, empty where the image's own."""
    config: Json = c.get("Config") or {}
    cmd = _as_list(config.get("Cmd"))
    argv = _argv(c)
    if argv and len(argv) >= len(cmd) and argv[len(argv) - len(cmd):] == cmd:
        entry = argv[: len(argv) - len(cmd)]
    else:
        entry = _as_list(config.get("Entrypoint"))
    image_entry, image_cmd = _as_list(image.get("Entrypoint")), _as_list(image.get("Cmd"))
    if entry == image_entry:
        return (), (tuple(cmd) if cmd != image_cmd else ())
    return tuple(entry), tuple(cmd)


def _as_written(found: tuple[tuple[str, ...], tuple[str, ...]], applied: Json, config: Json) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Command and args as a manifest writes them. Podman holds them expanded (podspec expands
    `$(VAR)`, expansion.py): the text podspec recorded when it expands to them, else Podman's with
    each `$` that would expand doubled, so that the manifest gives the container the same text."""
    from podspec.expansion import escape, expand

    written = tuple(str(t) for t in applied.get("command") or ()), tuple(str(t) for t in applied.get("args") or ())
    env = applied.get("env") or {}
    values = {name: value for name, value in _pairs(config.get("Env") or ())
              if name in env and not str(env[name]).startswith("(")}  # "(secret ...)": never expanded
    if all(tuple(expand(t, values.get) for t in w) == f for w, f in zip(written, found, strict=True)):
        return written
    return tuple(escape(t) for t in found[0]), tuple(escape(t) for t in found[1])


def _working_dir(value: str, image_value: str) -> str:
    if value == image_value or (not image_value and value == "/"):
        return ""
    return value


def _env(config: Json, image: Json, applied: Json | None = None, secrets: frozenset[str] = frozenset()) -> tuple[EnvVar, ...]:
    """The container's own env. A value read from a ConfigMap or a Secret (Podman's secret env, which
    inspect shows masked, or in clear before 5.3) is given back as the reference podspec recorded,
    never as a value. (Podman 5 also lists each secret env as an entry named after its Podman
    secret: not the container's own env.)"""
    from podspec.expansion import escape

    image_env = dict(_pairs(image.get("Env") or ()))
    found = {name: value for name, value in _pairs(config.get("Env") or ()) if name not in secrets}
    kept = []
    # configMapEnv holds describe_ref's text; env holds a Secret's in parentheses, in place of its value.
    recorded = [(name, str(text)) for name, text in ((applied or {}).get("configMapEnv") or {}).items()]
    recorded += [(name, str(text)[1:-1]) for name, text in ((applied or {}).get("env") or {}).items()
                 if str(text).startswith("(secret ") and str(text).endswith(")")]
    for name, text in sorted(recorded):
        ref = _recorded_ref(text)
        if ref is not None:
            kept.append(EnvVar(name, "", ref))
            found.pop(name, None)
    for name, value in found.items():
        if image_env.get(name) == value or PODMAN_ENV.get(name) == value:
            continue
        if name == "HOSTNAME" and value == config.get("Hostname"):
            continue
        if name == "HOME" and value in ("/root", "/"):  # what Podman derives for root and for unknown users
            continue
        kept.append(EnvVar(name, escape(value)))  # the value as it is: not expanded again
    return tuple(sorted(kept, key=lambda e: e.name))


def _recorded_ref(text: str) -> KeyRef | None:
    """`secret NAME key KEY` or `configMap NAME key KEY`: where an env value comes from."""
    match = _RECORDED_REF.fullmatch(text)
    return KeyRef(SourceKind(match.group(1)), match.group(2), match.group(3)) if match else None


def _pairs(entries: Iterable[str]) -> list[tuple[str, str]]:
    return [(e.split("=", 1)[0], e.split("=", 1)[1] if "=" in e else "") for e in entries]


def _resources(host: Json) -> Resources:
    return _cgroup_resources(host.get("CpuQuota"), host.get("CpuPeriod"), host.get("CpuShares"), host.get("Memory"),
                             host.get("MemoryReservation"))


def _cgroup_resources(quota: Any, period: Any, shares: Any, memory: Any, reservation: Any) -> Resources:
    """cgroup settings (CFS quota and period, shares, memory limit and reservation) as requests and limits."""
    quota, period, shares = int(quota or 0), int(period or 0), int(shares or 0)
    return Resources(
        cpu_limit_millis=math.ceil(quota * 1000 / period) if quota > 0 and period > 0 else None,
        memory_limit_bytes=int(memory or 0) or None,
        cpu_request_millis=math.ceil(shares * 1000 / 1024) if shares > 0 else None,
        memory_request_bytes=int(reservation or 0) or None,
    )


def _seccomp(path: str | None) -> str | None:
    """Podman's seccomp option as a profile: a file under the seccomp root is Localhost by its
    relative name (model.SECCOMP_ROOT); one elsewhere keeps its path (which apply refuses)."""
    if path is None:
        return None
    if path == "unconfined":
        return "Unconfined"
    return "Localhost:" + path.removeprefix(SECCOMP_ROOT + "/")


def _dropped(host: Json, c: Json, applied: Json | None) -> tuple[str, ...]:
    """The dropped capabilities. Podman 5 reports only the drops of capabilities in its default set,
    so a drop of one outside it (NET_RAW, MKNOD) is read back from podspec's record, when the
    container really lacks it."""
    effective = set(capability_set(c.get("EffectiveCaps") or ()))
    recorded = (((applied or {}).get("securityContext") or {}).get("capabilitiesDrop")) or ()
    kept = {cap for cap in capability_set(recorded if isinstance(recorded, list) else ()) if cap not in effective}
    return tuple(sorted(set(capability_set(host.get("CapDrop") or ())) | kept))


def _security(c: Json, notes: list[str], applied: Json | None = None) -> SecurityContext:
    config: Json = c.get("Config") or {}
    host: Json = c.get("HostConfig") or {}
    options = list(host.get("SecurityOpt") or ())
    user, _, group = str(config.get("User") or "").partition(":")
    run_as_user = run_as_group = None
    if user.isdigit():
        run_as_user = int(user)
        run_as_group = int(group) if group.isdigit() else None
    elif user:
        notes.append(f"container {c.get('Name')}: user {config.get('User')!r} is not numeric; runAsUser left out")
    seccomp = next((o.split("=", 1)[1] for o in options if o.startswith("seccomp=")), None)
    return SecurityContext(
        privileged=bool(host.get("Privileged")),
        capabilities_add=capability_set(host.get("CapAdd") or ()),
        capabilities_drop=_dropped(host, c, applied),
        run_as_user=run_as_user,
        run_as_group=run_as_group,
        read_only_root_filesystem=bool(host.get("ReadonlyRootfs")),
        allow_privilege_escalation=False if "no-new-privileges" in options else None,
        seccomp_profile=_seccomp(seccomp),
        se_linux_options=_se_linux(options, applied or {}),
    )


def _se_linux(options: Sequence[str], applied: Json) -> tuple[str, ...]:
    """Label options as Podman shows them (`label=type:spc_t`, on an SELinux host), else as podspec
    recorded them: Podman drops them where SELinux is off, as `podman kube play` does."""
    shown = tuple(o.removeprefix("label=") for o in options if o.startswith("label=") and ":" in o)
    if shown:
        order = ("user", "role", "type", "level")
        return tuple(sorted(shown, key=lambda o: order.index(o.split(":")[0]) if o.split(":")[0] in order else 9))
    return tuple((applied.get("securityContext") or {}).get("seLinuxOptions") or ())


def _probe(check: Json | None, image_check: Json | None) -> Probe | None:
    if not check or check == image_check:
        return None
    test = list(check.get("Test") or ())
    if not test or test[0] == "NONE":
        return None
    timings: dict[str, Any] = dict(
        period_seconds=int(check.get("Interval") or 30 * NANOS) // NANOS,
        timeout_seconds=int(check.get("Timeout") or 30 * NANOS) // NANOS,
        failure_threshold=int(check.get("Retries") or 3),
        initial_delay_seconds=int(check.get("StartPeriod") or 0) // NANOS,
    )
    if test[0] == "CMD-SHELL":
        script = " ".join(test[1:])
        http = _HTTP_CHECK.fullmatch(script)
        if http:
            headers, scheme, host, port, path = http.groups()
            written = shlex.split(headers)[1::2]  # -H 'Name: value' ...
            return Probe(
                ProbeHandler.HTTP_GET, path=path, port=int(port), host="" if host == "localhost" else host,
                scheme=scheme.upper(), headers=tuple((n, v.lstrip()) for n, _, v in (h.partition(":") for h in written)),
                **timings,
            )
        tcp = _TCP_CHECK.fullmatch(script)
        if tcp:
            host, port = tcp.groups()
            return Probe(ProbeHandler.TCP_SOCKET, port=int(port), host="" if host == "localhost" else host, **timings)
        return Probe(ProbeHandler.EXEC, command=("/bin/sh", "-c", script), **timings)
    return Probe(ProbeHandler.EXEC, command=tuple(test[1:] if test[0] == "CMD" else test), **timings)


# ---------------------------------------------------------------------------------------- ports


def _unpublished_ports(applied: Json) -> tuple[PortMapping, ...]:
    """Ports declared without a host port: Podman keeps them only in podspec's record."""
    found = (read_port_text(p) for p in applied.get("ports") or ())
    return tuple(p for p in found if p is not None and p.host_port is None)


def _bindings(infra: Json) -> list[PortMapping]:
    ports = []
    for key, binds in (infra.get("PortBindings") or {}).items():
        number, _, protocol = key.partition("/")
        for b in binds or ():
            if not b.get("HostPort"):
                continue
            ip = b.get("HostIp") or ""
            ports.append(PortMapping(
                int(number), int(b["HostPort"]), "" if ip == "0.0.0.0" else ip, Protocol((protocol or "tcp").upper()),
            ))
    return ports


def _port_key(p: PortMapping) -> tuple:
    return (p.container_port, p.protocol.value, p.host_ip, p.host_port or 0)


def _place_ports(regulars: list[Container], raw: Sequence[Json], infra: Json) -> list[Container]:
    """Published ports live on the infra container: give each to the container podspec recorded it
    on, the rest to the first container (as `podman kube generate` does)."""

    owner: dict[tuple, str] = {}
    for c in raw:
        own = (c.get("Config") or {}).get("Labels") or {}
        for text in (L.last_applied(own) or {}).get("ports") or ():
            p = read_port_text(text)
            if p is not None and p.host_port is not None and own.get(L.CONTAINER):
                owner.setdefault(_port_key(p), own[L.CONTAINER])
    given: dict[str, list[PortMapping]] = {c.name: list(c.ports) for c in regulars}
    for p in _bindings(infra):
        name = owner.get(_port_key(p))
        given[name if name in given else regulars[0].name].append(p)
    return [replace(c, ports=tuple(sorted(given[c.name], key=_port_key))) for c in regulars]


# -------------------------------------------------------------------------------------- volumes


def _with_files(volume: Volume, files: list[tuple[str, str, int]], pod: str) -> Volume:
    """The volume with the recorded files (path, key, mode) added: items of a configMap or secret
    volume; configMap/secret sources and downwardAPI files of a projected one; downwardAPI files."""
    def mode_of(mode: int) -> int | None:
        return None if mode == 0o644 else mode

    if volume.kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
        items = {KeyToPath(key, path, mode_of(mode)) for path, key, mode in files}
        return replace(volume, items=tuple(sorted({*volume.items, *items}, key=lambda i: (i.path, i.key))))
    downward = [ProjectedFile(path, mode, KeyRef(SourceKind.DOWNWARD_API, pod, key.removeprefix("downwardAPI:")))
                for path, key, mode in files if key.startswith("downwardAPI:")]
    projections = {(p.kind, p.source): list(p.items) for p in volume.projections}
    for path, key, mode in files:
        kind, slash, rest = key.partition("/")
        source, colon, name = rest.partition(":")
        if slash and colon and kind in (SourceKind.CONFIG_MAP.value, SourceKind.SECRET.value):
            projections.setdefault((SourceKind(kind), source), []).append(KeyToPath(name, path, mode_of(mode)))
    merged = {f.path: f for f in (*volume.files, *downward)}
    return replace(
        volume,
        files=tuple(merged[p] for p in sorted(merged)),
        projections=tuple(Projection(kind, source, tuple(sorted(set(items), key=lambda i: (i.path, i.key))))
                          for (kind, source), items in sorted(projections.items(), key=lambda e: (e[0][0].value, e[0][1]))),
    )


class _Volumes:
    """The pod's volumes, collected from its containers' mounts (one pod-level entry per source)."""

    def __init__(self, pod: str, inspected: Mapping[str, Json]) -> None:
        self.pod = pod
        self.inspected = inspected
        self.by_source: dict[tuple, Volume] = {}
        self.claim_names: list[str] = []

    def _name(self, wanted: str) -> str:
        taken = {v.name for v in self.by_source.values()}
        name, n = wanted, 1
        while name in taken:
            n += 1
            name = f"{wanted[:60]}-{n}"
        return name

    def _volume(self, key: tuple, make: Any) -> Volume:
        if key not in self.by_source:
            self.by_source[key] = make()
        return self.by_source[key]

    def mounts(self, c: Json, applied: Json) -> tuple[VolumeMount, ...]:
        recorded: Json = applied.get("volumeMounts") or {}
        found = []
        mounts = _with_tmpfs(c)
        # Podman 5 lists an image volume twice: as itself, and as the overlay bind mount made of it.
        images = {m.get("Destination") for m in mounts if m.get("Type") == "image"}
        # The mounts of the image-volumes-mount annotation (podspec's record): the annotation says them.
        annotated = set(applied.get("imageMounts") or ())
        for m in sorted(mounts, key=lambda m: m.get("Destination", "")):
            dest = m.get("Destination", "")
            if (dest in images and m.get("Type") != "image") or dest in annotated:
                continue
            note: Json = recorded.get(dest) or {}
            volume = self._for(m, note)
            if volume is None:
                continue
            read_only = not m.get("RW", True)
            if volume.read_only or volume.kind is VolumeKind.IMAGE:  # read-only whatever the mount says
                read_only = bool(note.get("readOnly", False))
            # `:z`/`:Z` after a mountPath is Podman's; a cluster would take it as part of the path. So
            # only a relabel the manifest asked for (podspec's record) is exported, when Podman has it.
            relabel = m.get("Mode", "") if m.get("Mode") == note.get("relabel") else ""
            found.append(VolumeMount(volume.name, dest, read_only, note.get("subPath", m.get("SubPath") or ""),
                                     relabel=relabel))
        found += self._projected(recorded)
        return tuple(sorted(found, key=lambda m: m.mount_path))

    def _projected(self, recorded: Json) -> list[VolumeMount]:
        """configMap, secret, projected and downwardAPI volumes: Podman shows their files (Podman
        secrets) as no mount, so they come from podspec's record: the volume, and the key, path and
        mode of each file (in a projected volume, its source too)."""
        found = []
        for dest, note in sorted(recorded.items()):
            recorded_source = read_mount_source(str(note.get("source") or ""))
            kind, source = recorded_source.kind, recorded_source.name
            if kind not in {k.value for k in FILE_VOLUMES} or (kind in ("configMap", "secret") and not source):
                continue
            sub = str(note.get("subPath") or "")
            files = []
            for text in note.get("files") or ():
                read = read_file_note(str(text))
                if read is not None:
                    path, file_key, mode = read
                    files.append((sub if path == "." else f"{sub}/{path}" if sub else path, file_key, mode))
            wanted = str(note.get("volume") or dns_label(source or kind, kind))
            key = (kind, source, wanted)
            volume = self.by_source.get(key) or Volume(self._name(wanted), VolumeKind(kind), source=source)
            self.by_source[key] = _with_files(volume, files, self.pod)
            found.append(VolumeMount(self.by_source[key].name, dest, bool(note.get("readOnly", False)), sub))
        return found

    def _tmpfs(self, dest: str, options: str, note: Json) -> Volume:
        """A tmpfs: an emptyDir of medium Memory, its size (when set) the sizeLimit."""
        size = next((o.removeprefix("size=") for o in options.split(",") if o.startswith("size=")), "")
        wanted = note.get("volume")
        return self._volume(("tmpfs", dest), lambda: Volume(
            self._name(wanted or dns_label(dest, "scratch") + "-mem"), VolumeKind.EMPTY_DIR, medium="Memory",
            size_limit_bytes=_size(size)))

    def _for(self, m: Json, note: Json) -> Volume | None:
        kind, source = m.get("Type"), read_mount_source(str(note.get("source") or ""))
        wanted = note.get("volume")
        if kind == "volume":
            name = m.get("Name", "")
            if source.kind == "emptyDir" or _anonymous(name):
                return self._volume(("emptyDir", name), lambda: Volume(
                    self._name(wanted or dns_label(m.get("Destination", ""), "scratch") + "-empty"), VolumeKind.EMPTY_DIR))
            read_only = source.read_only
            if name not in self.claim_names:
                self.claim_names.append(name)
            return self._volume(("claim", name, read_only), lambda: Volume(
                self._name(wanted or dns_label(name) + "-pvc"), VolumeKind.CLAIM, claim_name=name, read_only=read_only))
        if kind == "bind":
            path, path_type = m.get("Source", ""), ""
            if source.kind == "hostPath":
                recorded_path, path_type = source.name, source.detail
                sub = note.get("subPath", "")
                if sub and path == f"{recorded_path}/{sub}":
                    path = recorded_path
            return self._volume(("hostPath", path, path_type), lambda: Volume(
                self._name(wanted or dns_label(path, "root") + "-host"), VolumeKind.HOST_PATH,
                host_path=path, host_path_type=path_type))
        if kind == "image":
            return self._image_volume(str(m.get("Source") or ""), source, wanted)
        if kind == "tmpfs":
            return self._tmpfs(m.get("Destination", ""), ",".join(m.get("Options") or ()), note)
        return None

    def _image_volume(self, reference: str, source: MountSource, wanted: str | None) -> Volume:
        """An image volume: the reference and pull policy podspec recorded, else as Podman says."""
        from podspec.references import normalize

        policy_text, recorded = (source.detail, source.name) if source.kind == "image" else ("", "")
        if recorded and expanded(recorded) == expanded(reference or recorded):
            reference = recorded
        else:
            reference, policy_text = normalize(reference), ""
        policy = pull_policy_or_default(policy_text, reference)
        return self._volume(("image", reference, policy), lambda: Volume(
            self._name(wanted or dns_label(reference.rsplit("/", 1)[-1].split(":")[0], "image") + "-image"),
            VolumeKind.IMAGE, image=reference, image_pull_policy=policy))

    def used(self) -> tuple[Volume, ...]:
        return tuple(self.by_source.values())

    def claims(self) -> tuple[VolumeClaim, ...]:
        return tuple(
            VolumeClaim(
                name=name,
                labels=tuple(sorted(
                    (k, v) for k, v in ((self.inspected.get(name) or {}).get("Labels") or {}).items()
                    if not k.startswith(L.PREFIX)
                )),
            )
            for name in sorted(self.claim_names)
        )


def _with_tmpfs(c: Json) -> list[Json]:
    """The container's mounts, with the tmpfs mounts Podman 4.3 lists only under HostConfig.Tmpfs."""
    mounts = list(c.get("Mounts") or ())
    listed = {m.get("Destination") for m in mounts}
    for dest, options in ((c.get("HostConfig") or {}).get("Tmpfs") or {}).items():
        if dest not in listed:
            words = str(options).split(",")
            mounts.append({"Type": "tmpfs", "Destination": dest, "Options": words, "RW": "ro" not in words})
    return mounts


def _size(text: str) -> int | None:
    """A tmpfs size option (bytes, or with k/m/g as Podman accepts it) in bytes."""
    units = {"k": 2**10, "m": 2**20, "g": 2**30}
    text = text.strip().lower()
    if text[-1:] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    return int(text) if text.isdigit() else None


def _anonymous(name: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{64}", name))


def redact_secrets(pods: Sequence[Pod]) -> tuple[tuple[Pod, ...], int]:
    """Pods with the values of secret-looking env variables, and of probe headers that carry
    credentials (an `Authorization` header holds a token: secrets.looks_secret_header), replaced by
    `(redacted)`, and how many."""

    from podspec.secrets import REDACTED, looks_secret, looks_secret_header

    count = 0

    def headers(probe: Probe | None) -> Probe | None:
        nonlocal count
        if probe is None or not probe.headers:
            return probe
        count += sum(1 for name, value in probe.headers if looks_secret_header(name) and value != REDACTED)
        return replace(probe, headers=tuple((name, REDACTED if looks_secret_header(name) else value)
                                            for name, value in probe.headers))

    def clean(c: Container) -> Container:
        nonlocal count
        env = []
        for e in c.env:
            if looks_secret(e.name) and e.value != REDACTED:
                count += 1
                e = replace(e, value=REDACTED)
            env.append(e)
        return replace(c, env=tuple(env), liveness_probe=headers(c.liveness_probe),
                       readiness_probe=headers(c.readiness_probe), startup_probe=headers(c.startup_probe))

    cleaned = tuple(
        replace(p, containers=tuple(map(clean, p.containers)), init_containers=tuple(map(clean, p.init_containers)))
        for p in pods
    )
    return cleaned, count
