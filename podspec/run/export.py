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
from podspec.export.reading import read_pods
from podspec.run.results import ExportResult


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
    pods, hidden = (result.pods, 0) if request.show_secrets else inspected.redact_secrets(result.pods)
    docs = manifest.documents(pods, result.claims)
    text = manifest.to_json(docs) if request.format is ExportFormat.json else manifest.to_yaml(docs)
    return ExportResult(text, len(result.pods), len(result.claims), tuple(result.notes), hidden)
