"""`status`: the pods podspec manages, their containers' state and drift (reconcile/status.py decides)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing

from podspec.engine.protocol import Engine
from podspec.reconcile.status import report
from podspec.run.results import StatusResult


def status(project: str | None, connect: Callable[[], Engine]) -> StatusResult:
    with closing(connect()) as engine:
        observed = engine.observe()
    return StatusResult(project, report(observed, project))
