"""The agent's log: one line per event on a stream (stderr; journald keeps it under systemd).

Text lines read `2026-11-28T14:03:07Z info applied revision=1a2b3c4d5e6f steps=2`; with
--log-format json each line is one JSON object with the same keys ("time", "level", "event", ...).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, TextIO

from podspec.plan import Plan
from podspec.run.listener import Listener
from podspec.run.results import PullEvent, PullStatus, StepEvent


def _text_value(value: Any) -> str:
    text = str(value)
    if text == "" or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text)
    return text


class AgentLog:
    def __init__(self, stream: TextIO, as_json: bool = False, clock=time.time) -> None:
        self.stream = stream
        self.as_json = as_json
        self.clock = clock
        self._lock = threading.Lock()

    def event(self, level: str, name: str, **fields: Any) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock()))
        fields = {k: v for k, v in fields.items() if v is not None}
        if self.as_json:
            line = json.dumps({"time": stamp, "level": level, "event": name, **fields}, sort_keys=False, default=str)
        else:
            line = " ".join([stamp, level, name, *(f"{k}={_text_value(v)}" for k, v in fields.items())])
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    def info(self, name: str, **fields: Any) -> None:
        self.event("info", name, **fields)

    def warning(self, name: str, **fields: Any) -> None:
        self.event("warning", name, **fields)

    def error(self, name: str, **fields: Any) -> None:
        self.event("error", name, **fields)


class LogListener(Listener):
    """The workflows' Listener, turned into log lines (the plan is logged only when not empty)."""

    def __init__(self, log: AgentLog, revision: str) -> None:
        self.log = log
        self.revision = revision[:12]

    def info(self, text: str) -> None:
        self.log.info("progress", revision=self.revision, message=text)

    def note(self, text: str) -> None:
        self.log.info("note", revision=self.revision, message=text)

    def warning(self, text: str) -> None:
        self.log.warning("warning", revision=self.revision, message=text)

    def planned(self, plan: Plan) -> None:
        if not plan.empty:
            self.log.info("plan", revision=self.revision, steps=len(plan.steps))

    def pull(self, event: PullEvent) -> None:
        """A pull's start, end (with size and duration) or failure; its progress is not logged."""
        if event.status is PullStatus.PROGRESS:
            return
        fields: dict[str, Any] = {"revision": self.revision, "image": event.reference}
        if event.status is PullStatus.DONE:
            fields.update(size=event.size, seconds=round(event.seconds, 1), id=event.image_id[:12])
        if event.error:
            fields["error"] = event.error
        self.log.event("error" if event.error else "info", f"pull-{event.status.value}", **fields)

    def step(self, event: StepEvent) -> None:
        fields: dict[str, Any] = {"revision": self.revision, "step": event.step.describe(), "cause": event.step.cause}
        if event.error:
            fields["error"] = event.error
        self.log.event("error" if event.error else "info", f"step-{event.status.value}", **fields)
