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

Each kind is built by plain functions over one reporter (reporter.py): pods.py (with
containers.py, volumes.py and fieldrefs.py), workloads.py (Deployments and Jobs), data.py
(claims, ConfigMaps, Secrets), services.py; this module picks by kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podspec.errors import Problem
from podspec.loader import data as data_kinds
from podspec.loader.pods import pod
from podspec.loader.reporter import Reporter
from podspec.loader.workloads import workload
from podspec.loader.yamlpos import Document
from podspec.model import ConfigMap, Pod, Secret, VolumeClaim

if TYPE_CHECKING:
    from podspec.model import AbsentPod, Service

    Built = Pod | VolumeClaim | ConfigMap | Secret | AbsentPod | Service



def build(document: Document, problems: list[Problem], warnings: list[Problem] | None = None) -> Built | list[Pod] | None:
    """The model of one schema-valid document, problems found on the way appended to `problems`
    (and what is ignored on a Podman host to `warnings`).

    The model is returned even when there are problems (a value that could not be read is left at
    its default), so that the semantic checks still run on it; load() raises if any were found.
    """
    r = Reporter(document, problems, warnings)
    data = document.data
    kind = data["kind"]
    if kind == "Pod":
        return pod(r, data)
    if kind == "ConfigMap":
        return data_kinds.config_map(r, data)
    if kind == "Secret":
        return data_kinds.secret(r, data)
    if kind == "Service":
        from podspec.loader.services import service

        return service(r, data)
    if kind in ("Deployment", "Job"):
        return workload(r, data)
    return data_kinds.claim(r, data)
