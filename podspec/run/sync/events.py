"""Podman's event stream in a thread: the events of this project's containers and pods, handed to
the agent's loop through a queue and a wake-up pipe (the loop sleeps in select(), never polls)."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from podspec import labels
from podspec.engine.protocol import Engine
from podspec.errors import PodspecError
from podspec.reconcile.sync import Backoff


class EventWatcher:
    """Reads `engine.events()` for ever (reconnecting with backoff when the stream ends)."""

    def __init__(self, connect: Callable[[], Engine], project: str, on_error: Callable[[str], None]) -> None:
        self.connect = connect
        self.project = project
        self.on_error = on_error
        self.queue: deque[dict[str, Any]] = deque(maxlen=10000)
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self.connected = threading.Event()
        self._since: float | None = None  # when the stream now read was connected (monotonic)
        self.thread = threading.Thread(target=self._run, name="podman-events", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        # One label only: libpod ORs filters of the same key. drift_pod() checks managed-by.
        filters = {"label": [f"{labels.PROJECT}={self.project}"], "type": ["container", "pod"]}
        failures = 0
        backoff = Backoff(base=1.0, cap=30.0)
        lost = False  # a stream was lost (or never opened) since the agent started
        while True:
            try:
                engine = self.connect()
                began = time.monotonic()  # (Podman's `since` is taken when the request goes out, after this)

                def opened(began: float = began, lost: bool = lost) -> None:
                    nonlocal failures
                    failures = 0
                    self._since = began
                    self.connected.set()
                    if lost:  # what happened while there was no stream is in no event: look at everything
                        self._tell("reconnected")

                try:
                    for event in engine.events(filters, opened):
                        self.queue.append(event)
                        self._wake()
                finally:
                    engine.close()
                error = "Podman closed the event stream"
            except PodspecError as exc:
                error = exc.message
            self._since = None
            self.connected.clear()
            lost = True
            failures += 1
            self.on_error(error)
            self._tell("reconnect")  # events may be missed: look again (and again once connected)
            time.sleep(backoff.delay(failures))

    def _tell(self, action: str) -> None:
        """A mark for the agent's loop: look at the whole host (`Type` podspec is none of Podman's)."""
        self.queue.append({"Type": "podspec", "Action": action})
        self._wake()

    def since(self) -> float | None:
        """When the stream being read was connected (monotonic), or None while there is none."""
        return self._since

    def _wake(self) -> None:
        try:
            os.write(self.write_fd, b"e")
        except BlockingIOError:
            pass  # the pipe is full: the loop wakes anyway

    def drain(self) -> list[dict[str, Any]]:
        try:
            while os.read(self.read_fd, 4096):
                pass
        except BlockingIOError:
            pass
        events = []
        while self.queue:
            events.append(self.queue.popleft())
        return events
