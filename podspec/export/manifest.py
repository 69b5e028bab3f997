"""The desired model -> Kubernetes manifest documents -> YAML or JSON text (pure, deterministic).

A field is written only when it differs from the default the loader fills in (the model's own
defaults), so that the text carries intent only and loads back into an equal model. Keys come in
the order Kubernetes documentation uses (apiVersion, kind, metadata, spec; name, image, ...).

A PersistentVolumeClaim gets the spec a cluster needs (`ReadWriteOnce`, 1Gi, as `podman kube
generate` writes for a volume); podspec ignores that spec on a Podman host.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from typing import Any, Iterable, Sequence

from podspec.model import (
    INIT_TYPE_ANNOTATION,
    Container,
    EnvVar,
    InitContainerType,
    KeyToPath,
    Pod,
    Probe,
    ProbeHandler,
    ProjectedFile,
    Protocol,
    Resources,
    SecurityContext,
    Service,
    SourceKind,
    Volume,
    VolumeClaim,
    VolumeKind,
)

Document = dict[str, Any]
CLAIM_SPEC = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
_BINARY = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


def default(cls: type, name: str) -> Any:
    """The model's default for a field: what the loader fills in when the manifest omits it."""
    for f in fields(cls):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            if f.default_factory is not MISSING:
                return f.default_factory()
    raise KeyError(f"{cls.__name__}.{name} has no default")


def _put(target: dict[str, Any], key: str, value: Any, cls: type | None = None, field: str | None = None) -> None:
    """Write `value` unless it is the model default (or empty when there is no default)."""
    if cls is not None and value == default(cls, field or key):
        return
    if value is None or value == () or value == [] or value == {} or value == "":
        return
    target[key] = value


def documents(pods: Sequence[Pod], claims: Sequence[VolumeClaim], services: Sequence[Service] = ()) -> list[Document]:
    """Claims first (sorted by name), then the pods in the order given, then the Services (by name)."""
    return ([claim_document(c) for c in sorted(claims, key=lambda c: c.name)] + [pod_document(p) for p in pods]
            + [service_document(s) for s in sorted(services, key=lambda s: s.name)])


def service_document(service: Service) -> Document:
    """A Service as written: name, namespace (when not default), labels, selector, ports."""
    metadata: dict[str, Any] = {"name": service.name}
    if service.namespace != "default":
        metadata["namespace"] = service.namespace
    _put(metadata, "labels", dict(service.labels))
    spec: dict[str, Any] = {}
    if service.published:
        spec["type"] = service.type.value
    if service.headless:
        spec["clusterIP"] = "None"
    _put(spec, "selector", dict(service.selector))
    ports = []
    for p in service.ports:
        port: dict[str, Any] = {}
        _put(port, "name", p.name)
        port["port"] = p.port
        if p.target_port != p.port:
            port["targetPort"] = p.target_port
        if p.protocol.value != "TCP":
            port["protocol"] = p.protocol.value
        if p.node_port is not None:
            port["nodePort"] = p.node_port  # as chosen: the export keeps the port the host publishes
        ports.append(port)
    _put(spec, "ports", ports)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def claim_document(claim: VolumeClaim) -> Document:
    metadata: dict[str, Any] = {"name": claim.name}
    _put(metadata, "labels", dict(claim.labels))
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": json.loads(json.dumps(CLAIM_SPEC))}


def pod_document(pod: Pod) -> Document:
    metadata: dict[str, Any] = {"name": pod.name}
    _put(metadata, "labels", dict(pod.labels))
    annotations = dict(pod.annotations)
    if pod.init_containers and pod.init_container_type is not InitContainerType.ONCE:
        annotations[INIT_TYPE_ANNOTATION] = pod.init_container_type.value
    _put(metadata, "annotations", dict(sorted(annotations.items())))

    spec: dict[str, Any] = {}
    _put(spec, "restartPolicy", pod.restart_policy.value, Pod, "restart_policy")
    _put(spec, "terminationGracePeriodSeconds", pod.termination_grace_period_seconds, Pod, "termination_grace_period_seconds")
    _put(spec, "hostname", pod.hostname, Pod)
    _put(spec, "hostNetwork", pod.host_network, Pod, "host_network")
    _put(spec, "hostPID", pod.host_pid, Pod, "host_pid")
    _put(spec, "hostIPC", pod.host_ipc, Pod, "host_ipc")
    _put(spec, "hostAliases", [{"ip": a.ip, "hostnames": list(a.hostnames)} for a in pod.host_aliases])
    _put(spec, "shareProcessNamespace", pod.share_process_namespace, Pod, "share_process_namespace")
    _put(spec, "hostUsers", pod.host_users, Pod, "host_users")
    _put(spec, "resources", _resources(pod.resources))
    _put(spec, "dnsConfig", _dns(pod))
    security: dict[str, Any] = {}
    _put(security, "supplementalGroups", list(pod.supplemental_groups))
    _put(security, "fsGroup", pod.fs_group, Pod, "fs_group")
    _put(security, "sysctls", [{"name": k, "value": v} for k, v in pod.sysctls])
    _put(spec, "securityContext", security)
    _put(spec, "initContainers", [container_document(c) for c in pod.init_containers])
    spec["containers"] = [container_document(c) for c in pod.containers]
    _put(spec, "volumes", [volume_document(v) for v in pod.volumes])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def _dns(pod: Pod) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "nameservers", list(pod.dns_nameservers))
    _put(out, "searches", list(pod.dns_searches))
    options = []
    for option in pod.dns_options:
        name, colon, value = option.partition(":")
        options.append({"name": name, "value": value} if colon else {"name": name})
    _put(out, "options", options)
    return out


def container_document(c: Container) -> Document:
    from podspec.references import default_pull_policy

    out: dict[str, Any] = {"name": c.name, "image": c.image}
    if c.pull_policy is not default_pull_policy(c.image):
        out["imagePullPolicy"] = c.pull_policy.value
    _put(out, "command", list(c.command))
    _put(out, "args", list(c.args))
    _put(out, "workingDir", c.working_dir, Container, "working_dir")
    _put(out, "env", [_env_document(e) for e in c.env])
    ports = []
    for p in c.ports:
        port: dict[str, Any] = {"containerPort": p.container_port}
        _put(port, "hostPort", p.host_port)
        _put(port, "hostIP", p.host_ip)
        if p.protocol is not Protocol.TCP:
            port["protocol"] = p.protocol.value
        _put(port, "name", p.name)
        ports.append(port)
    _put(out, "ports", ports)
    mounts = []
    for m in c.volume_mounts:
        mount: dict[str, Any] = {"name": m.name, "mountPath": m.mount_path + (f":{m.relabel}" if m.relabel else "")}
        if m.read_only:
            mount["readOnly"] = True
        _put(mount, "subPath", m.sub_path)
        mounts.append(mount)
    _put(out, "volumeMounts", mounts)
    _put(out, "resources", _resources(c.resources))
    _put(out, "securityContext", _security(c.security))
    for key, probe in (("livenessProbe", c.liveness_probe), ("readinessProbe", c.readiness_probe),
                       ("startupProbe", c.startup_probe)):
        if probe is not None:
            out[key] = _probe(probe)
    if c.stop_signal:
        out["lifecycle"] = {"stopSignal": c.stop_signal}
    if c.stdin:
        out["stdin"] = True
    if c.tty:
        out["tty"] = True
    return out


def _resources(r: Resources) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    _put(limits, "cpu", None if r.cpu_limit_millis is None else cpu_quantity(r.cpu_limit_millis))
    _put(limits, "memory", None if r.memory_limit_bytes is None else memory_quantity(r.memory_limit_bytes))
    _put(requests, "cpu", None if r.cpu_request_millis is None else cpu_quantity(r.cpu_request_millis))
    _put(requests, "memory", None if r.memory_request_bytes is None else memory_quantity(r.memory_request_bytes))
    out: dict[str, Any] = {}
    _put(out, "limits", limits)
    _put(out, "requests", requests)
    return out


def cpu_quantity(millis: int) -> str:
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory_quantity(size: int) -> str:
    for suffix, unit in _BINARY:
        if size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def _profile(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    kind, _, local = value.partition(":")
    return {"type": kind, "localhostProfile": local} if kind == "Localhost" else {"type": kind}


def _security(s: SecurityContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "privileged", s.privileged, SecurityContext)
    capabilities: dict[str, Any] = {}
    _put(capabilities, "add", list(s.capabilities_add))
    _put(capabilities, "drop", list(s.capabilities_drop))
    _put(out, "capabilities", capabilities)
    _put(out, "runAsUser", s.run_as_user, SecurityContext, "run_as_user")
    _put(out, "runAsGroup", s.run_as_group, SecurityContext, "run_as_group")
    _put(out, "runAsNonRoot", s.run_as_non_root, SecurityContext, "run_as_non_root")
    _put(out, "readOnlyRootFilesystem", s.read_only_root_filesystem, SecurityContext, "read_only_root_filesystem")
    if s.allow_privilege_escalation is not None:
        out["allowPrivilegeEscalation"] = s.allow_privilege_escalation
    _put(out, "seccompProfile", _profile(s.seccomp_profile))
    if s.proc_mount:
        out["procMount"] = s.proc_mount
    _put(out, "appArmorProfile", _profile(s.app_armor_profile))
    _put(out, "seLinuxOptions", dict(o.split(":", 1) for o in s.se_linux_options))
    return out


def _probe(p: Probe) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.handler is ProbeHandler.EXEC:
        out["exec"] = {"command": list(p.command)}
    else:
        body: dict[str, Any] = {}
        if p.handler is ProbeHandler.HTTP_GET:
            _put(body, "path", p.path)
            body["port"] = p.port
            _put(body, "host", p.host)
            _put(body, "scheme", p.scheme, Probe)
            if p.headers:
                body["httpHeaders"] = [{"name": name, "value": value} for name, value in p.headers]
        else:
            body["port"] = p.port
            _put(body, "host", p.host)
        out[p.handler.value] = body
    for key, name in (
        ("initialDelaySeconds", "initial_delay_seconds"), ("periodSeconds", "period_seconds"),
        ("timeoutSeconds", "timeout_seconds"), ("successThreshold", "success_threshold"),
        ("failureThreshold", "failure_threshold"),
    ):
        _put(out, key, getattr(p, name), Probe, name)
    return out


def _env_document(e: EnvVar) -> Document:
    """A value, or the ConfigMap or Secret key it is read from (a Secret's value is never written)."""
    if e.ref is None:
        return {"name": e.name, "value": e.value}
    which = "configMapKeyRef" if e.ref.kind is SourceKind.CONFIG_MAP else "secretKeyRef"
    return {"name": e.name, "valueFrom": {which: {"name": e.ref.source, "key": e.ref.key}}}


def _items(items: Iterable[KeyToPath]) -> list[Document]:
    return [{"key": i.key, "path": i.path, **({"mode": i.mode} if i.mode is not None else {})} for i in items]


def _downward_item(f: ProjectedFile) -> Document:
    """A downwardAPI file: the field it shows (`metadata.labels`), or a container's resource, which
    podspec keys as `RESOURCE@CONTAINER/DIVISOR`."""
    item: Document = {"path": f.path}
    resource, at, rest = f.ref.key.partition("@")
    if at:
        container, _, divisor = rest.partition("/")
        item["resourceFieldRef"] = {"containerName": container, "resource": resource,
                                    **({"divisor": divisor} if divisor not in ("", "1") else {})}
    else:
        item["fieldRef"] = {"fieldPath": f.ref.key}
    if f.mode != 0o644:
        item["mode"] = f.mode
    return item


def volume_document(v: Volume) -> Document:
    if v.kind is VolumeKind.CLAIM:
        claim: dict[str, Any] = {"claimName": v.claim_name}
        if v.read_only:
            claim["readOnly"] = True
        return {"name": v.name, "persistentVolumeClaim": claim}
    if v.kind is VolumeKind.HOST_PATH:
        host: dict[str, Any] = {"path": v.host_path}
        _put(host, "type", v.host_path_type)
        return {"name": v.name, "hostPath": host}
    if v.kind is VolumeKind.IMAGE:
        from podspec.references import default_pull_policy

        image: dict[str, Any] = {"reference": v.image}
        if v.image_pull_policy is not None and v.image_pull_policy is not default_pull_policy(v.image):
            image["pullPolicy"] = v.image_pull_policy.value
        return {"name": v.name, "image": image}
    if v.kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
        body: dict[str, Any] = {"name" if v.kind is VolumeKind.CONFIG_MAP else "secretName": v.source}
        _put(body, "items", _items(v.items))
        if v.default_mode != 0o644:
            body["defaultMode"] = v.default_mode
        return {"name": v.name, v.kind.value: body}
    if v.kind is VolumeKind.DOWNWARD_API:
        return {"name": v.name, "downwardAPI": {"items": [_downward_item(f) for f in v.files]}}
    if v.kind is VolumeKind.PROJECTED:
        sources: list[Document] = [
            {p.kind.value: {"name": p.source, **({"items": _items(p.items)} if p.items else {})}} for p in v.projections
        ]
        if v.files:
            sources.append({"downwardAPI": {"items": [_downward_item(f) for f in v.files]}})
        return {"name": v.name, "projected": {"sources": sources}}
    empty: dict[str, Any] = {}
    _put(empty, "medium", v.medium)
    _put(empty, "sizeLimit", None if v.size_limit_bytes is None else memory_quantity(v.size_limit_bytes))
    return {"name": v.name, "emptyDir": empty}


# ----------------------------------------------------------------------------------------- text


def to_yaml(docs: Iterable[Document]) -> str:
    """Block-style YAML, one document per object, keys in the order built above."""
    import yaml

    return yaml.safe_dump_all(list(docs), sort_keys=False, default_flow_style=False, explicit_start=True,
                              allow_unicode=True, width=100)


def to_json(docs: Iterable[Document]) -> str:
    """A Kubernetes `List` (what `kubectl get -o json` prints and `kubectl apply -f` reads)."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(docs)}, indent=2, ensure_ascii=False) + "\n"
