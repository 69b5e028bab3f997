"""What Kubernetes itself defines, field by field: for hints and for the warnings channel (pure data).

The schema (schemas/manifest.schema.json) says what podspec accepts; each of its object definitions
carries a `title` naming the Kubernetes type it is a subset of (PodSpec, Container, ...). This
module knows every field Kubernetes defines on those types, so that an unknown field gets the
right message:

- a real Kubernetes field podspec does not support: says so, why, and what to use instead
  (`UNSUPPORTED`); never "did you mean" another field;
- anything else: "did you mean" a real field of that type when the name is a likely typo.

`CLUSTER_ONLY` lists the fields that only mean something to a cluster (scheduling, service
accounts, namespaces, ...): the schema accepts them so that the same file runs on Kubernetes, and
`warnings()` reports each one found ("ignored on a single Podman host"). `load(strict=True)` turns
those warnings into errors.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Iterator

from podspec.errors import Origin, Problem
from podspec.loader.yamlpos import Document
from podspec.model import FieldPath, dotted

# Every field of the Kubernetes types the schema subsets (Kubernetes 1.33).
FIELDS: dict[str, frozenset[str]] = {
    "DeploymentSpec": frozenset({
        "minReadySeconds", "paused", "progressDeadlineSeconds", "replicas", "revisionHistoryLimit", "selector",
        "strategy", "template",
    }),
    "JobSpec": frozenset({
        "activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex", "completionMode", "completions", "managedBy",
        "manualSelector", "maxFailedIndexes", "parallelism", "podFailurePolicy", "podReplacementPolicy", "selector",
        "successPolicy", "suspend", "template", "ttlSecondsAfterFinished",
    }),
    "ObjectMeta": frozenset({
        "annotations", "creationTimestamp", "deletionGracePeriodSeconds", "deletionTimestamp", "finalizers",
        "generateName", "generation", "labels", "managedFields", "name", "namespace", "ownerReferences",
        "resourceVersion", "selfLink", "uid",
    }),
    "PodSpec": frozenset({
        "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers", "dnsConfig", "dnsPolicy",
        "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork", "hostPID", "hostUsers",
        "hostname", "hostnameOverride", "imagePullSecrets", "initContainers", "nodeName", "nodeSelector", "os",
        "overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates", "resourceClaims",
        "resources", "restartPolicy", "runtimeClassName", "schedulerName", "schedulingGates", "securityContext",
        "serviceAccount", "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace", "subdomain",
        "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints", "volumes",
    }),
    "Container": frozenset({
        "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "name", "ports",
        "readinessProbe", "resizePolicy", "resources", "restartPolicy", "restartPolicyRules", "securityContext",
        "startupProbe", "stdin", "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty",
        "volumeDevices", "volumeMounts", "workingDir",
    }),
    "PodSecurityContext": frozenset({
        "appArmorProfile", "fsGroup", "fsGroupChangePolicy", "runAsGroup", "runAsNonRoot", "runAsUser",
        "seLinuxChangePolicy", "seLinuxOptions", "seccompProfile", "supplementalGroups", "supplementalGroupsPolicy",
        "sysctls", "windowsOptions",
    }),
    "SecurityContext": frozenset({
        "allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged", "procMount",
        "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser", "seLinuxOptions", "seccompProfile",
        "windowsOptions",
    }),
    "Volume": frozenset({
        "name", "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "configMap", "csi",
        "downwardAPI", "emptyDir", "ephemeral", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo",
        "glusterfs", "hostPath", "image", "iscsi", "nfs", "persistentVolumeClaim", "photonPersistentDisk",
        "portworxVolume", "projected", "quobyte", "rbd", "scaleIO", "secret", "storageos", "vsphereVolume",
    }),
    "VolumeMount": frozenset({
        "mountPath", "mountPropagation", "name", "readOnly", "recursiveReadOnly", "subPath", "subPathExpr",
    }),
    "ContainerPort": frozenset({"containerPort", "hostIP", "hostPort", "name", "protocol"}),
    "Probe": frozenset({
        "exec", "failureThreshold", "grpc", "httpGet", "initialDelaySeconds", "periodSeconds", "successThreshold",
        "tcpSocket", "terminationGracePeriodSeconds", "timeoutSeconds",
    }),
    "HTTPGetAction": frozenset({"host", "httpHeaders", "path", "port", "scheme"}),
    "TCPSocketAction": frozenset({"host", "port"}),
    "ExecAction": frozenset({"command"}),
    "Lifecycle": frozenset({"postStart", "preStop", "stopSignal"}),
    "ResourceRequirements": frozenset({"claims", "limits", "requests"}),
    "EmptyDirVolumeSource": frozenset({"medium", "sizeLimit", "mode"}),
    "HostPathVolumeSource": frozenset({"path", "type"}),
    "PersistentVolumeClaimVolumeSource": frozenset({"claimName", "readOnly"}),
    "PodDNSConfig": frozenset({"nameservers", "options", "searches"}),
    "PodDNSConfigOption": frozenset({"name", "value"}),
    "SELinuxOptions": frozenset({"level", "role", "type", "user"}),
    "Capabilities": frozenset({"add", "drop"}),
    "SeccompProfile": frozenset({"localhostProfile", "type"}),
    "HostAlias": frozenset({"hostnames", "ip"}),
    "Sysctl": frozenset({"name", "value"}),
    "EnvVar": frozenset({"name", "value", "valueFrom"}),
    "PersistentVolumeClaimSpec": frozenset({
        "accessModes", "dataSource", "dataSourceRef", "resources", "selector", "storageClassName",
        "volumeAttributesClassName", "volumeMode", "volumeName",
    }),
}

_USE_VOLUME = "use a persistentVolumeClaim (a Podman named volume) or a hostPath volume"

# Real Kubernetes fields podspec refuses: (type, field) -> (why, what to do instead).
UNSUPPORTED: dict[tuple[str, str], tuple[str, str]] = {
    ("ObjectMeta", "generateName"): ("podspec needs a fixed name to find the pod again", "set metadata.name"),
    ("PodSpec", "activeDeadlineSeconds"): ("Podman has no pod deadline", "remove it, or end the command itself (e.g. `timeout`)"),
    ("PodSpec", "ephemeralContainers"): ("ephemeral containers are added by `kubectl debug`", "use `podman exec` on the host"),
    ("PodSpec", "resourceClaims"): ("Podman has no dynamic resource allocation", "remove it"),
    ("PodSpec", "hostnameOverride"): ("not supported", "use hostname"),
    ("PodSpec", "runtimeClassName"): (
        "podspec does not choose the OCI runtime per pod", "set the runtime in containers.conf on the host, and remove it"),
    ("PodSecurityContext", "supplementalGroupsPolicy"): ("Podman always merges the image's groups", "remove it"),
    ("Lifecycle", "postStart"): ("Podman has no postStart hook", "run the step in the command, or remove it"),
    ("Lifecycle", "preStop"): ("Podman has no preStop hook", "handle the stop signal in the process (lifecycle.stopSignal picks it)"),
    ("Container", "restartPolicyRules"): ("per-container restart rules are not supported", "use the pod's restartPolicy"),
    ("Container", "volumeDevices"): ("raw block devices are not supported", "mount a filesystem volume instead"),
    ("VolumeMount", "mountPropagation"): ("mount propagation is not supported", "remove it (Podman's default is private)"),
    ("VolumeMount", "recursiveReadOnly"): ("not supported", "use readOnly"),
    ("VolumeMount", "subPathExpr"): ("not supported: podspec has no downward API", "use subPath with a fixed path"),
    ("Probe", "grpc"): ("gRPC probes are not supported", "use exec with a gRPC health client, or tcpSocket"),
    ("Probe", "terminationGracePeriodSeconds"): ("not supported on a probe", "use the pod's terminationGracePeriodSeconds"),
    ("ResourceRequirements", "claims"): ("Podman has no dynamic resource allocation", "remove it"),
    ("EmptyDirVolumeSource", "mode"): (
        "Podman creates the volume's directory itself", "set the mode from the container (e.g. chmod in an init container)"),
    ("Volume", "ephemeral"): ("generic ephemeral volumes need a storage class", "use emptyDir"),
    ("Volume", "gitRepo"): ("gitRepo volumes are deprecated and not supported", "clone in an init container into an emptyDir"),
    ("Volume", "csi"): ("CSI volumes need a cluster's storage driver", _USE_VOLUME),
}

_SCHEDULING = "scheduling onto nodes"
_SERVER = "set by the Kubernetes API server"
# Fields that only mean something to a cluster: (type, field) -> what they are about.
CLUSTER_ONLY: dict[tuple[str, str], str] = {
    ("ObjectMeta", "namespace"): "namespaces",
    **{("ObjectMeta", f): _SERVER for f in (
        "uid", "resourceVersion", "generation", "selfLink", "managedFields", "ownerReferences", "finalizers",
        "deletionTimestamp", "deletionGracePeriodSeconds")},
    **{("PodSpec", f): _SCHEDULING for f in (
        "nodeSelector", "affinity", "tolerations", "topologySpreadConstraints", "schedulerName", "priority",
        "priorityClassName", "preemptionPolicy", "nodeName", "schedulingGates", "readinessGates", "overhead", "os")},
    ("PodSpec", "serviceAccountName"): "service accounts",
    ("PodSpec", "serviceAccount"): "service accounts",
    ("PodSpec", "automountServiceAccountToken"): "service accounts",
    ("PodSpec", "enableServiceLinks"): "Service environment variables",
    ("PodSpec", "subdomain"): "cluster DNS",
    ("PodSpec", "setHostnameAsFQDN"): "cluster DNS",
    ("PodSecurityContext", "fsGroupChangePolicy"): "how the kubelet changes volume ownership",
    ("PodSecurityContext", "seLinuxChangePolicy"): "how the kubelet relabels volumes",
    ("PodSecurityContext", "windowsOptions"): "Windows nodes",
    ("SecurityContext", "windowsOptions"): "Windows nodes",
    ("Container", "terminationMessagePath"): "the kubelet's termination message",
    ("Container", "terminationMessagePolicy"): "the kubelet's termination message",
    ("Container", "resizePolicy"): "in-place resize by the kubelet",
    ("Container", "stdinOnce"): "attaching with kubectl",
    ("EmptyDirVolumeSource", "sizeLimit"): "the kubelet's eviction of pods whose emptyDir grows too large",
    ("ResourceList", "ephemeral-storage"): "the kubelet's eviction of pods that use too much local storage",
}
# Values of a field that only mean something to a cluster: (type, field) -> {value: what}.
CLUSTER_ONLY_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("PodSpec", "dnsPolicy"): {"ClusterFirst": "cluster DNS", "ClusterFirstWithHostNet": "cluster DNS"},
}


def unknown_field(kind: str, key: str, supported: list[str]) -> tuple[str, str]:
    """(message, hint) for a field `key` the schema does not accept in an object of Kubernetes type `kind`.

    Without a known type (an object the schema does not title), a key that is a field of any
    Kubernetes type counts as real: no "did you mean" from one real field to another.
    """
    if kind == "ResourceList":
        return (f"resource {key} is not supported: Podman limits cpu and memory only",
                "remove it (GPUs, hugepages and extended resources need a Kubernetes node's device plugins)")
    real = FIELDS.get(kind)
    if real is not None and key in real:
        why, instead = UNSUPPORTED.get((kind, key), ("not supported by podspec", "remove it"))
        return f"{key} is a Kubernetes field podspec does not support: {why}", instead
    if real is None and any(key in names for names in FIELDS.values()):
        why, instead = next(
            (reason for (_, field), reason in UNSUPPORTED.items() if field == key), ("not supported here", "remove it"))
        return f"{key} is a Kubernetes field podspec does not support here: {why}", instead
    shown = json.dumps(key if len(key) <= 60 else key[:60] + "...", ensure_ascii=False)
    candidates = sorted(real) if real else supported
    if len(key) <= 100:
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
        if not close:
            lowered = {c.lower(): c for c in candidates}
            close = [lowered[key.lower()]] if key.lower() in lowered else []
        if close:
            return f"unknown field {shown}", f"did you mean {close[0]}?"
    return f"unknown field {shown}", f"supported fields here: {', '.join(supported)}"


# Where each Kubernetes type sits inside a pod spec, for the warnings walk.
def _objects(spec: Any, base: FieldPath) -> Iterator[tuple[str, FieldPath, Any]]:
    """(type, path, mapping) of every object of a pod spec that can hold cluster-only fields."""
    if not isinstance(spec, dict):
        return
    yield "PodSpec", base, spec
    if isinstance(spec.get("securityContext"), dict):
        yield "PodSecurityContext", base + ("securityContext",), spec["securityContext"]
    for group in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(group) or ()):
            if not isinstance(container, dict):
                continue
            path = base + (group, i)
            yield "Container", path, container
            if isinstance(container.get("securityContext"), dict):
                yield "SecurityContext", path + ("securityContext",), container["securityContext"]
            resources = container.get("resources")
            for group in ("limits", "requests"):
                if isinstance(resources, dict) and isinstance(resources.get(group), dict):
                    yield "ResourceList", path + ("resources", group), resources[group]
    for i, volume in enumerate(spec.get("volumes") or ()):
        if isinstance(volume, dict) and isinstance(volume.get("emptyDir"), dict):
            yield "EmptyDirVolumeSource", base + ("volumes", i, "emptyDir"), volume["emptyDir"]


def pod_specs(data: dict[str, Any]) -> Iterator[tuple[FieldPath, FieldPath]]:
    """(metadata path, spec path) of the pod a document describes: a Pod's own, or a template's."""
    yield ("metadata",), ("spec",)
    spec = data.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("template"), dict):
        yield ("spec", "template", "metadata"), ("spec", "template", "spec")


def value_at(data: Any, path: FieldPath) -> Any:
    for part in path:
        if isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        elif isinstance(part, int) and isinstance(data, list) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def warnings(document: Document) -> list[Problem]:
    """One warning per cluster-only field (or value) written in a schema-valid document."""
    found: list[Problem] = []
    data = document.data
    if not isinstance(data, dict):
        return found

    def warn(path: FieldPath, what: str, value: str | None = None) -> None:
        line, column = document.key_at(path) if value is None else document.value_at(path)
        field = path[-1] if value is None else f"{path[-1]}: {value}"
        found.append(Problem(
            Origin(document.file, line, column), dotted(path),
            f"{field} is ignored on a single Podman host (it is about {what})",
            "keep it for Kubernetes; --strict makes this an error",
        ))

    for meta_path, spec_path in pod_specs(data):
        meta = value_at(data, meta_path)
        if isinstance(meta, dict):
            for key in meta:
                if key == "namespace" and data.get("kind") == "Service":
                    continue  # a Service's namespace is part of its names (svc.NAMESPACE): applied
                if ("ObjectMeta", key) in CLUSTER_ONLY:
                    warn(meta_path + (key,), CLUSTER_ONLY[("ObjectMeta", key)])
        for kind, path, mapping in _objects(value_at(data, spec_path), spec_path):
            for key, value in mapping.items():
                if kind == "EmptyDirVolumeSource" and mapping.get("medium") == "Memory":
                    continue  # sizeLimit is the tmpfs size there: applied
                if (kind, key) in CLUSTER_ONLY:
                    warn(path + (key,), CLUSTER_ONLY[(kind, key)])
                values = CLUSTER_ONLY_VALUES.get((kind, key), {})
                if isinstance(value, str) and value in values:
                    warn(path + (key,), values[value], value)
    return found


# Whole objects that only mean something to a cluster's API server, (apiVersion, kind) -> what
# they are about: `podman kube play` skips kinds it does not know; podspec says so, once per
# document, on the warnings channel (--strict: an error). Workload kinds are never here: a pod a
# file asks for is run or refused, never dropped (see WORKLOAD_KINDS).
CLUSTER_OBJECTS: dict[tuple[str, str], str] = {
    ("v1", "ServiceAccount"): "the identity pods use to call the cluster's API",
    **{("rbac.authorization.k8s.io/v1", kind): "access to the cluster's API"
       for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")},
    ("policy/v1", "PodDisruptionBudget"): "evictions when the cluster drains a node",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "scaling by the cluster's metrics; replicas stay as written",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "scaling by the cluster's metrics; replicas stay as written",
}

# Workload kinds podspec does not run, kind -> how to write the same pods in a kind it runs.
WORKLOAD_KINDS: dict[str, str] = {
    "StatefulSet": "write it as a Deployment with replicas: 1 (one host keeps one copy), its volumeClaimTemplates "
                   "as PersistentVolumeClaims and its serviceName as a Service",
    "DaemonSet": "one pod per node is one pod on one host: write it as a Deployment with replicas: 1",
    "ReplicaSet": "write it as a Deployment (the same selector and template)",
    "ReplicationController": "write it as a Deployment (the same selector and template)",
    "CronJob": "write its jobTemplate as a Job and start `podspec apply` from a systemd timer",
}


def cluster_object(document: Document) -> Problem | None:
    """The warning for a document that is a cluster-only object (CLUSTER_OBJECTS), else None."""
    data = document.data
    if not isinstance(data, dict):
        return None
    what = CLUSTER_OBJECTS.get((str(data.get("apiVersion")), str(data.get("kind"))))
    if what is None:
        return None
    line, column = document.value_at(("kind",))
    return Problem(
        Origin(document.file, line, column), "kind",
        f"a {data['kind']} is ignored on a single Podman host (it is about {what})",
        "keep it for Kubernetes; --strict makes this an error",
    )
