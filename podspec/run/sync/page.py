"""The status page's data: the agent's state, the host's pods and history, read when a browser asks
(at most once every few seconds, however many ask); reconcile/agent_page.py makes the HTML."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from podspec.errors import PodspecError
from podspec.reconcile.agent_page import ImageLine, PageView, render

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine
    from podspec.reconcile.history import HistoryRecord
    from podspec.reconcile.status import PodReport
    from podspec.run.sync.state import AgentState

HOST_READ_EVERY = 3.0  # seconds: a page reloaded by many browsers reads the host once
HISTORY_SHOWN = 20


@dataclass(eq=False)
class StatusPage:
    state: Callable[[], AgentState]
    connect: Callable[[], Engine]
    project: str
    images: Callable[[], tuple[ImageLine, ...]] = lambda: ()
    receiver: bool = False
    notify: int = 0
    refresh: int = 10
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _read_at: float = field(default=float("-inf"), init=False, repr=False)
    _host: tuple[tuple[PodReport, ...], tuple[HistoryRecord, ...], str] = field(default=((), (), ""), init=False, repr=False)

    def html(self) -> bytes:
        s = self.state()
        pods, history, error = self._read_host()
        view = PageView(
            project=s.project, source=s.source, branch=s.branch, paths=s.paths, now=time.time(), applied=s.applied,
            applied_at=s.applied_at, fetched=s.fetched, last_fetch=s.last_fetch, next_round=s.next_round,
            last_error=s.last_error, error_revision=s.error_revision, failures=s.failures, drift_repairs=s.drift_repairs,
            crash_loops=tuple(sorted(s.crash_loops.items())), pods=pods, history=history,
            images=self.images(), host_error=error, refresh=self.refresh, receiver=self.receiver, notify=self.notify,
        )
        return render(view).encode()

    def _read_host(self) -> tuple[tuple[PodReport, ...], tuple[HistoryRecord, ...], str]:
        with self._lock:
            if time.monotonic() - self._read_at < HOST_READ_EVERY:
                return self._host
            from podspec.reconcile.history import revisions
            from podspec.reconcile.status import report
            from podspec.run import history

            try:
                with closing(self.connect()) as engine:
                    observed = engine.observe()
                    records = history.read(engine, self.project, newest=HISTORY_SHOWN)[:HISTORY_SHOWN]
                # each pod's revision: the newest of these records that lists it (as `podspec status` says)
                self._host = (report(observed, self.project, revisions(records)), records, "")
            except PodspecError as exc:
                self._host = ((), (), exc.message)
            self._read_at = time.monotonic()
            return self._host

