"""The one reporter every builder of the loader writes to: where a problem is (file, line, column,
from the document's positions), said once; warnings beside problems; where the pod being built
sits in its document (a workload's template). And the facts of the pod being built that its
containers and volumes read (its name, namespace, metadata, containers, annotations' settings); and
int_or_none, the builders' one reader of plain integer fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from podspec.errors import Origin, Problem
from podspec.loader.yamlpos import Document
from podspec.model import AutoUpdate, FieldPath, Locations, dotted


class Reporter:
    """Collects the problems (and warnings) found while one document is built."""

    def __init__(self, document: Document, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        self.document = document
        self.problems = problems
        self.warnings: list[Problem] = warnings if warnings is not None else []
        self.said: set[Problem] = set()
        self.base: FieldPath = ()  # where the pod sits in the document: ("spec", "template") in a workload

    def problem(self, path: FieldPath, message: str, hint: str = "", key: bool = False) -> None:
        """Report once (a pod-level value inherited by several containers is one problem)."""
        path = self.base + tuple(path)
        where = self.document.key_at(path) if key else self.document.value_at(path)
        problem = Problem(Origin(self.document.file, *where), dotted(path), message, hint)
        if problem not in self.said:
            self.said.add(problem)
            self.problems.append(problem)

    def problem_to(self, sink: list[Problem], path: FieldPath, message: str, hint: str = "", key: bool = False) -> None:
        where = self.document.key_at(path) if key else self.document.value_at(path)
        sink.append(Problem(Origin(self.document.file, *where), dotted(path), message, hint))

    def locations(self) -> Locations:
        positions = self.document.positions()
        if not self.base:
            return Locations(self.document.file, MappingProxyType(positions))
        # A workload's pod: its paths are relative to the template; the pod's name, and the pod
        # itself, are where the workload's are.
        n = len(self.base)
        mine = {path[n:]: where for path, where in positions.items() if path[:n] == self.base}
        for path in ((), ("metadata",), ("metadata", "name")):
            if path in positions:
                mine[path] = positions[path]
        return Locations(self.document.file, MappingProxyType(mine), prefix=self.base)


@dataclass(frozen=True)
class PodFacts:
    """What the containers and volumes of the pod being built read of it."""

    name: str
    namespace: str  # the one written, else "default" (as Kubernetes gives it)
    meta: dict[str, dict[str, Any]]  # "labels" and "annotations", as written
    containers: list[dict[str, Any]]  # the containers as written (resourceFieldRef reads their resources)
    seccomp: dict[str, str] = field(default_factory=dict)  # seccomp annotations: "" (the pod) or a container -> profile
    relabels: dict[str, str] = field(default_factory=dict)  # volume -> z/Z, from the bind-mount-options annotation
    # io.containers.autoupdate: "" (the pod) or a container -> its policy (None: disabled)
    auto_updates: dict[str, AutoUpdate | None] = field(default_factory=dict)


def int_or_none(value: Any) -> int | None:
    """A plain integer field (hostPort, runAsUser, a key's mode; the schema has checked it), or None
    when it is not written: the builders' one reader of them."""
    return None if value is None else int(value)
