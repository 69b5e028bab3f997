"""The agent's event reader over the FakeEngine's event feed (events() of the Engine contract)."""

from __future__ import annotations

import select
import time

from podspec import labels
from podspec.engine.fake import FakeEngine
from podspec.reconcile.sync import drift_pod
from podspec.run.sync.events import EventWatcher


def event(action: str, project: str, pod: str = "web") -> dict:
    return {"Type": "container", "Action": action,
            "Actor": {"Attributes": {labels.MANAGED_BY: labels.MANAGER, labels.PROJECT: project, labels.POD: pod}}}


def test_the_fake_hands_out_the_events_that_pass_the_filters():
    fake = FakeEngine()
    fake.emit(event("remove", "shop"))
    fake.emit(event("remove", "other"))
    fake.emit({"Type": "image", "Action": "pull"})
    got = list(fake.events({"label": [f"{labels.PROJECT}=shop"], "type": ["container", "pod"]}))
    assert [e["Actor"]["Attributes"][labels.PROJECT] for e in got] == ["shop"]
    assert list(fake.events({})) == []  # handed out once


def test_the_watcher_wakes_the_loop_and_reconnects_when_the_stream_ends():
    fake = FakeEngine()
    fake.emit(event("died", "shop", "front"))
    errors: list[str] = []
    watcher = EventWatcher(lambda: fake, "shop", errors.append)
    watcher.start()
    deadline = time.monotonic() + 10
    seen: list[dict] = []
    while time.monotonic() < deadline and not any(e.get("Type") == "podspec" for e in seen):
        select.select([watcher.read_fd], [], [], 1.0)
        seen += watcher.drain()
    assert [drift_pod(e, "shop") for e in seen][:1] == ["front"]
    assert {"Type": "podspec", "Action": "reconnect"} in seen  # the loop is told to look again
    assert errors and "closed the event stream" in errors[0]
