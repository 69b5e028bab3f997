"""`export`: clean manifests (Pods and their PersistentVolumeClaims) from pods on the host.

Works for pods podspec made and for pods made by hand with the podman CLI. The reading is
export/reading.py's (through any engine), the translation export/inspected.py's; this module only strings them together.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from podspec.engine.protocol import Engine
from podspec.errors import UsageError
from podspec.export import ExportFormat, inspected, manifest
from podspec.export.inspected import PodData
from podspec.export.reading import read_pods
from podspec.model import Pod, Service
from podspec.run.reports import ExportResult


@dataclass(frozen=True)
class ExportRequest:
    pods: tuple[str, ...] = ()
    all_pods: bool = False
    format: ExportFormat = ExportFormat.yaml
    show_secrets: bool = False


def export(request: ExportRequest, connect: Callable[[], Engine]) -> ExportResult:
    names = list(dict.fromkeys(request.pods))
    if not names and not request.all_pods:
        raise UsageError("name at least one pod, or pass --all", "see `podman pod ps` for the pods on the host")
    with closing(connect()) as engine:
        if request.all_pods:
            names += [n for n in engine.pod_names() if n not in names]
            if not names:
                raise UsageError("there are no pods on the host to export", "create one first, or check --url")
        data = read_pods(engine, names)
        result = inspected.export(data)
        services = _services(engine, result.pods, data)
    pods, hidden = (result.pods, 0) if request.show_secrets else inspected.redact_secrets(result.pods)
    docs = manifest.documents(pods, result.claims, services)
    text = manifest.to_json(docs) if request.format is ExportFormat.json else manifest.to_yaml(docs)
    return ExportResult(text, len(result.pods), len(result.claims), tuple(result.notes), hidden)


def _services(engine: Engine, pods: tuple[Pod, ...], data: list[PodData] | tuple[PodData, ...]) -> tuple[Service, ...]:
    """The Services of the exported pods' projects that select at least one exported pod, read from
    each project's names record (reconcile/network.py): one volume inspect per project."""
    from podspec import labels as L
    from podspec.errors import EngineError
    from podspec.reconcile.network import NamesRecord, names_volume, record_services

    projects = sorted({p for d in data if (p := L.project_of(d.pod.get("Labels") or {}))})
    found: dict[str, Service] = {}
    for project in projects:
        try:
            labels = engine.inspect_volume(names_volume(project)).get("Labels") or {}
        except EngineError:
            continue  # no record: the project has no Services
        if L.project_of(labels) != project:
            continue
        record = NamesRecord.read(labels.get(L.NAMES))
        for service in record_services(record) if record is not None else ():
            if any(service.selects(pod) for pod in pods):
                found.setdefault(service.name, service)
    return tuple(found[name] for name in sorted(found))
