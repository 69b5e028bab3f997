"""Building a Pod from the manifest: its containers (containers.py), volumes (volumes.py) and the
pod's own fields; the annotations `podman kube play` acts on (applied, or refused) and the ones
`podman kube generate` writes for bookkeeping (dropped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podspec.loader.containers import container, ip, resources, seccomp_name
from podspec.loader.reporter import PodFacts, Reporter, int_or_none
from podspec.loader.volumes import volume
from podspec.model import (
    AUTO_UPDATE_ANNOTATION,
    HOST_SECRETS_ANNOTATION,
    INIT_TYPE_ANNOTATION,
    AutoUpdate,
    Container,
    FieldPath,
    InitContainerType,
    Pod,
    RestartPolicy,
)

if TYPE_CHECKING:
    from podspec.model import HostAlias

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
# The seccomp annotations Kubernetes had before securityContext.seccompProfile (removed in 1.27),
# which `podman kube play` still applies: on the pod, and per container.
SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/"


def is_bookkeeping(annotation: str) -> bool:
    return annotation.startswith(BOOKKEEPING_PREFIXES)


def refused_annotation(annotation: str) -> tuple[str, str] | None:
    """(why, what instead) when `podman kube play` acts on this annotation and podspec does not."""
    name = annotation if annotation in REFUSED_ANNOTATIONS else annotation.rsplit("/", 1)[0]
    return REFUSED_ANNOTATIONS.get(name)


def pod(r: Reporter, data: dict[str, Any], name: str = "", extra_annotations: dict[str, str] | None = None,
        workload: str = "") -> Pod:
    meta, spec = data.get("metadata") or {}, data["spec"]
    name = name or meta["name"]
    annotations: dict[str, str] = {**(meta.get("annotations") or {}), **(extra_annotations or {})}
    refuse_annotations(r, annotations)
    facts = PodFacts(
        name=name, namespace=meta.get("namespace") or "default",
        meta={"labels": meta.get("labels") or {}, "annotations": annotations}, containers=list(spec["containers"]),
        seccomp=seccomp_annotations(r, annotations), relabels=bind_mount_options(r, annotations, spec),
        auto_updates=auto_update_annotations(r, annotations, spec),
    )
    init_type = annotations.get(INIT_TYPE_ANNOTATION, InitContainerType.ONCE.value)
    if init_type not in {t.value for t in InitContainerType}:
        r.problem(
            ("metadata", "annotations", INIT_TYPE_ANNOTATION), f"unsupported init container type {init_type!r}",
            "supported values: once, always",
        )
        init_type = InitContainerType.ONCE.value
    pod_security: dict[str, Any] = spec.get("securityContext", {})
    inits, sidecars = init_containers(r, facts, spec.get("initContainers", ()), pod_security)
    return Pod(
        name=name,
        containers=tuple(
            container(r, facts, c, ("spec", "containers", i), pod_security) for i, c in enumerate(spec["containers"])
        ) + sidecars,
        init_containers=inits,
        init_container_type=InitContainerType(init_type),
        volumes=tuple(volume(r, facts, v, ("spec", "volumes", i)) for i, v in enumerate(spec.get("volumes", ()))),
        restart_policy=RestartPolicy(spec.get("restartPolicy", RestartPolicy.ALWAYS.value)),
        hostname=spec.get("hostname", ""),
        host_network=spec.get("hostNetwork", False),
        termination_grace_period_seconds=int(spec.get("terminationGracePeriodSeconds", 30)),
        host_aliases=tuple(
            host_alias(r, a, ("spec", "hostAliases", i)) for i, a in enumerate(spec.get("hostAliases", ()))
        ),
        labels=tuple(sorted((meta.get("labels") or {}).items())),
        annotations=tuple(sorted(
            (k, v) for k, v in annotations.items()
            if k not in (INIT_TYPE_ANNOTATION, BIND_MOUNT_OPTIONS, HOST_SECRETS_ANNOTATION) and not is_bookkeeping(k)
        )),
        locations=r.locations(),
        host_pid=spec.get("hostPID", False),
        host_ipc=spec.get("hostIPC", False),
        sysctls=sysctls(r, pod_security.get("sysctls", ()), ("spec", "securityContext", "sysctls")),
        supplemental_groups=tuple(sorted({int(g) for g in pod_security.get("supplementalGroups", ())})),
        fs_group=int_or_none(pod_security.get("fsGroup")),
        **dns(r, spec),
        share_process_namespace=spec.get("shareProcessNamespace", False),
        host_users=spec.get("hostUsers", True),
        workload=workload,
        resources=resources(r, spec.get("resources", {}), ("spec", "resources")),
        image_pull_secrets=tuple(str(ref["name"]) for ref in spec.get("imagePullSecrets") or ()),
        host_secrets=host_secrets(r, annotations),
    )


def host_secrets(r: Reporter, annotations: dict[str, str]) -> tuple[str, ...]:
    """podspec.io/host-secrets: the names of Podman secrets on the host that this pod's Secret and
    ConfigMap references may read (comma- or space-separated)."""
    if HOST_SECRETS_ANNOTATION not in annotations:
        return ()
    from podspec.loader.hostsecrets import parse

    names, bad = parse(annotations[HOST_SECRETS_ANNOTATION])
    for name in bad:
        r.problem(("metadata", "annotations", HOST_SECRETS_ANNOTATION), f"{name!r} is not a Podman secret name",
                     "Podman secret names are 1 to 253 letters, digits, _ . - (starting with a letter or digit), "
                     "separated by commas")
    from podspec.names import made_by_podspec

    for name in names:
        if made_by_podspec(name):
            r.problem(("metadata", "annotations", HOST_SECRETS_ANNOTATION),
                      f"{name} is the name of a Podman secret podspec makes (a project's Secret or ConfigMap "
                      "value, or the apply history), not one kept on the host",
                      "keep the secret on the host under a name of its own, not beginning with podspec-; or "
                      "add the Secret document to the manifests")
    return names


def bind_mount_options(r: Reporter, annotations: dict[str, str], spec: dict[str, Any]) -> dict[str, str]:
    """`bind-mount-options: /host/path:z`, which `podman kube generate` writes for a bind mount
    with :z or :Z: the relabel option of every mount of a hostPath volume at that path (unless
    the mount says its own), as `podman kube play` applies it. Volume name -> option."""
    written = annotations.get(BIND_MOUNT_OPTIONS)
    if written is None:
        return {}
    source, _, option = written.rpartition(":")
    if option not in ("z", "Z") or not source:
        r.problem(
            ("metadata", "annotations", BIND_MOUNT_OPTIONS), f"unsupported {BIND_MOUNT_OPTIONS} {written!r}",
            "write HOSTPATH:z or HOSTPATH:Z (or put :z after the mountPath)",
        )
        return {}
    return {
        v["name"]: option for v in spec.get("volumes", ()) if (v.get("hostPath") or {}).get("path") == source
    }


def init_containers(r: Reporter, facts: PodFacts, raw: list[dict[str, Any]], pod_security: dict[str, Any]) -> tuple[tuple[Container, ...], tuple[Container, ...]]:
    """(init containers, sidecars). A sidecar (an init container with restartPolicy: Always, as
    Kubernetes 1.29 has them) runs for the pod's whole life: on Podman, a regular container of the
    pod, after the others in the list (Podman starts them together), with a warning."""
    inits, sidecars = [], []
    for i, c in enumerate(raw):
        path: FieldPath = ("spec", "initContainers", i)
        built = container(r, facts, c, path, pod_security)
        if c.get("restartPolicy") == "Always":
            sidecars.append(built)
            r.problem_to(
                r.warnings, r.base + path + ("restartPolicy",),
                f"init container {c['name']} is a sidecar (restartPolicy: Always): on a single Podman host it runs as "
                "a regular container of the pod, started with the others rather than before them",
                "keep it for Kubernetes, or move it to containers; --strict makes this an error", key=True,
            )
        else:
            inits.append(built)
    return tuple(inits), tuple(sidecars)


def seccomp_annotations(r: Reporter, annotations: dict[str, str]) -> dict[str, str]:
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
            seccomp_name(r, value.removeprefix("localhost/"), ("metadata", "annotations", key))
        else:
            r.problem(("metadata", "annotations", key), f"unknown seccomp profile {value!r}",
                         "use runtime/default, unconfined or localhost/<profile>, or securityContext.seccompProfile")
            continue
        found["" if key == SECCOMP_POD else key.removeprefix(SECCOMP_CONTAINER)] = profile
    return found


def auto_update_annotations(r: Reporter, annotations: dict[str, str], spec: dict[str, Any]) -> dict[str, AutoUpdate | None]:
    """Podman's auto-update policies: "" (the pod's) or a container's name -> the policy (None:
    `disabled`, which turns a pod-wide policy off for one container)."""
    found: dict[str, AutoUpdate | None] = {}
    names = {c.get("name") for group in ("containers", "initContainers") for c in spec.get(group) or ()}
    for key, value in annotations.items():
        if key != AUTO_UPDATE_ANNOTATION and not key.startswith(AUTO_UPDATE_ANNOTATION + "/"):
            continue
        target = key.removeprefix(AUTO_UPDATE_ANNOTATION).removeprefix("/")
        where = ("metadata", "annotations", key)
        if key.endswith("/") or (target and target not in names):
            r.problem(where, f"annotation {key} names no container of this pod",
                      f"use {AUTO_UPDATE_ANNOTATION}/<container> with one of: {', '.join(sorted(map(str, names)))}",
                      key=True)
            continue
        if value not in ("registry", "local", "disabled"):
            r.problem(where, f"unknown auto-update policy {value!r}", "use registry, local or disabled")
            continue
        found[target] = None if value == "disabled" else AutoUpdate(value)
    return found


def refuse_annotations(r: Reporter, annotations: dict[str, str]) -> None:
    for key in annotations:
        refused = refused_annotation(key)
        if refused is not None:
            why, instead = refused
            r.problem(
                ("metadata", "annotations", key), f"annotation {key} is acted on by `podman kube play` but not by "
                f"podspec: {why}", instead, key=True,
            )


def dns(r: Reporter, spec: dict[str, Any]) -> dict[str, Any]:
    """dnsConfig as Pod fields; dnsPolicy None needs a nameserver (as Kubernetes requires)."""
    config: dict[str, Any] = spec.get("dnsConfig") or {}
    servers = tuple(config.get("nameservers", ()))
    for i, server in enumerate(servers):
        ip(r, server, ("spec", "dnsConfig", "nameservers", i), allow_empty=False)
    if spec.get("dnsPolicy") == "None" and not servers:
        r.problem(
            ("spec", "dnsPolicy"), "dnsPolicy None needs at least one dnsConfig.nameservers entry",
            "add dnsConfig.nameservers, or use dnsPolicy Default (the host's resolv.conf)",
        )
    options = tuple(
        o["name"] + (f":{o['value']}" if o.get("value") is not None else "") for o in config.get("options", ())
    )
    return {"dns_nameservers": servers, "dns_searches": tuple(config.get("searches", ())), "dns_options": options}


def sysctls(r: Reporter, items: Any, path: FieldPath) -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for i, item in enumerate(items):
        if item["name"] in seen:
            r.problem(path + (i, "name"), f"sysctl {item['name']} is set twice", "keep one")
        seen[item["name"]] = item["value"]
    return tuple(sorted(seen.items()))


def host_alias(r: Reporter, raw: dict[str, Any], path: FieldPath) -> HostAlias:
    from podspec.model import HostAlias  # (model.EXTRA: only for manifests with hostAliases)

    ip(r, raw["ip"], path + ("ip",), allow_empty=False)
    return HostAlias(ip=raw["ip"], hostnames=tuple(raw["hostnames"]))
