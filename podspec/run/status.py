"""`status`: the pods podspec manages, their containers' state and drift (reconcile/status.py decides)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from podspec.engine.protocol import Engine
from podspec.reconcile.status import report
from podspec.run.reports import StatusResult


def status(project: str | None, connect: Callable[[], Engine], agents_in: Path | None = None) -> StatusResult:
    """`agents_in`: the sync agents' state directory, whose agents (of `project`) are reported too."""
    from podspec.reconcile.history import revisions
    from podspec.run import history
    from podspec.run.sync.state import read_all

    with closing(connect()) as engine:
        observed = engine.observe()
        # The newest records say which revision each pod runs (Podman 4.3: one inspect per record read).
        found = history.read(engine, project, observed)
    agents = read_all(agents_in, project) if agents_in is not None else ()
    return StatusResult(project, report(observed, project, revisions(found)), agents)
