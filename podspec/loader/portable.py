"""Values Podman takes and a Kubernetes API server refuses: accepted, with one warning each.

Files written for `podman kube play` use Podman's looser rules: pod and container names with
capitals (`podDoesntHaveAnImage`), `protocol: tcp`, `imagePullPolicy: missing`, label values with
spaces. The JSON schema Kubernetes publishes lets them through; the API server's validation does
not. podspec applies them as Podman does and says, once per value, that the same file would not run
on Kubernetes as it is; `load(strict=True)` makes each an error. The same walk reports extended
resources (`nvidia.com/gpu`, `hugepages-2Mi`): a node's device plugins, ignored on one host.

Pure: reads a schema-valid document, returns Problems.
"""

from __future__ import annotations

import re
from typing import Any

from podspec.errors import Origin, Problem
from podspec.loader.kubefields import pod_specs, value_at
from podspec.loader.yamlpos import Document
from podspec.model import FieldPath, dotted

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
KUBERNETES_PULL_POLICIES = frozenset({"Always", "IfNotPresent", "Never"})
# Resources Podman limits (cpu, memory) or that are cluster-only fields of their own (ephemeral-storage).
KNOWN_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_STRICT = "--strict makes this an error"
_LABEL_RULE = "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"


def label_key_error(key: str) -> str:
    """Why Kubernetes refuses a label or annotation key; "" when it takes it."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix)):
        return "the prefix before '/' must be a lowercase DNS subdomain"
    if not name or len(name) > 63 or not LABEL_NAME.fullmatch(name):
        return "the name must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return ""


class _Walk:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.found: list[Problem] = []

    def say(self, path: FieldPath, message: str, hint: str, key: bool = False) -> None:
        line, column = self.document.key_at(path) if key else self.document.value_at(path)
        self.found.append(Problem(Origin(self.document.file, line, column), dotted(path), message, hint))

    def refused(self, path: FieldPath, what: str, value: str, rule: str, fix: str, key: bool = False) -> None:
        shown = value if len(value) <= 80 else value[:80] + "..."
        self.say(path, f"{what} {shown!r} is taken by Podman but refused by a Kubernetes API server ({rule})",
                 f"{fix} to run the same file on Kubernetes; {_STRICT}", key)

    def metadata(self, path: FieldPath, name_rule: str) -> None:
        meta = value_at(self.document.data, path)
        if not isinstance(meta, dict):
            return
        name = meta.get("name")
        if isinstance(name, str) and name:
            if name_rule == "label" and not (len(name) <= 63 and DNS_LABEL.fullmatch(name)):
                self.refused(path + ("name",), "name", name, "a pod's name must be a DNS-1123 label",
                             "use lowercase letters, digits and '-'")
            elif name_rule == "subdomain" and not DNS_SUBDOMAIN.fullmatch(name):
                self.refused(path + ("name",), "name", name, "a name must be a DNS-1123 subdomain",
                             "use lowercase letters, digits, '-' and '.'")
        for group in ("labels", "annotations"):
            for key, value in (meta.get(group) or {}).items():
                where = path + (group, key)
                error = label_key_error(str(key))
                if error:
                    self.refused(where, f"{group[:-1]} key", str(key), error, "rename it", key=True)
                if group == "labels" and isinstance(value, str) and value and (
                        len(value) > 63 or not LABEL_NAME.fullmatch(value)):
                    self.refused(where, "label value", value, _LABEL_RULE, "shorten it or replace the other characters")

    def pod_spec(self, path: FieldPath) -> None:
        spec = value_at(self.document.data, path)
        if not isinstance(spec, dict):
            return
        for group in ("initContainers", "containers"):
            for i, container in enumerate(spec.get(group) or ()):
                if isinstance(container, dict):
                    self.container(path + (group, i), container)
        self.resources(path, spec.get("resources"))

    def container(self, path: FieldPath, container: dict[str, Any]) -> None:
        name = container.get("name")
        if isinstance(name, str) and not DNS_LABEL.fullmatch(name):
            self.refused(path + ("name",), "container name", name, "it must be a DNS-1123 label",
                         "use lowercase letters, digits and '-'")
        policy = container.get("imagePullPolicy")
        if isinstance(policy, str) and policy not in KUBERNETES_PULL_POLICIES:
            self.refused(path + ("imagePullPolicy",), "imagePullPolicy", policy,
                         "it knows Always, IfNotPresent and Never", "write Always, IfNotPresent or Never")
        for i, port in enumerate(container.get("ports") or ()):
            protocol = port.get("protocol") if isinstance(port, dict) else None
            if isinstance(protocol, str) and protocol != protocol.upper():
                self.refused(path + ("ports", i, "protocol"), "protocol", protocol, "it knows TCP, UDP and SCTP",
                             f"write {protocol.upper()}")
        self.resources(path, container.get("resources"))

    def resources(self, path: FieldPath, resources: Any) -> None:
        """Extended resources (and a pod's pids) on a pod or a container: ignored, with a warning."""
        for group in ("limits", "requests"):
            listed = resources.get(group) if isinstance(resources, dict) else None
            for resource in listed if isinstance(listed, dict) else ():
                if resource not in KNOWN_RESOURCES:
                    self.say(
                        path + ("resources", group, resource),
                        f"resource {resource} is ignored on a single Podman host (it is about a Kubernetes node's "
                        "device plugins and scheduling; Podman limits cpu and memory only)",
                        f"keep it for Kubernetes; {_STRICT}",
                        key=True,
                    )


def warnings(document: Document) -> list[Problem]:
    """One warning per value Podman takes and Kubernetes refuses, in a schema-valid document."""
    data = document.data
    if not isinstance(data, dict):
        return []
    walk = _Walk(document)
    walk.metadata(("metadata",), "label" if data.get("kind") == "Pod" else "subdomain")
    for meta_path, spec_path in pod_specs(data):
        if meta_path == ("metadata",) and data.get("kind") != "Pod":
            continue  # a Deployment's, Job's or claim's own spec holds no pod (a claim's resources are storage)
        if meta_path != ("metadata",):
            walk.metadata(meta_path, "")  # a template's name is not used
        walk.pod_spec(spec_path)
    return walk.found
