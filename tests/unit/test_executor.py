"""The executor: steps in plan order, lanes side by side, a stop at the first failure."""

from __future__ import annotations

import pytest

from podspec import render
from podspec.errors import EngineError, StepFailed
from podspec.observed import ObservedState
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.run.executor import StepStatus, execute
from tests.unit.hosts import state, webserver


class Recorder:
    def __init__(self, fail_at: int | None = None) -> None:
        self.calls, self.fail_at = [], fail_at

    def run(self, step):
        self.calls.append(step.describe())
        if len(self.calls) == self.fail_at:
            raise EngineError("Podman refused to start pod x: port in use", "free the port")


def test_executor_runs_in_order_and_reports_each_step():
    plan = planner.build(differ.compute(state(webserver()), ObservedState(), "demo"))
    events = []
    runner = Recorder()
    execute(plan, runner, events.append, clock=lambda: 0.0)
    assert runner.calls == [s.describe() for s in plan.steps]
    assert [e.status for e in events] == [StepStatus.STARTED, StepStatus.DONE] * len(plan.steps)
    assert render.event_text(events[1]) == "[1/6] create volume webserver-data: done (0.0s)"


def test_executor_stops_at_first_failure_and_says_what_was_done():
    plan = planner.build(differ.compute(state(webserver()), ObservedState(), "demo"))
    runner = Recorder(fail_at=3)
    with pytest.raises(StepFailed) as caught:
        execute(plan, runner, clock=lambda: 0.0)
    assert len(runner.calls) == 3
    failure = caught.value
    assert failure.message == (
        "step 3/6 failed: create container dynamic-webserver-apache-httpd-init: "
        "Podman refused to start pod x: port in use"
    )
    assert [s.describe() for s in failure.done] == ["create volume webserver-data", "create pod dynamic-webserver"]
    assert len(failure.not_done) == 3
    assert failure.hint.startswith("free the port; run the command again once fixed")


class SlowRecorder:
    """Records start/end times per step; each step takes `delay` seconds."""

    def __init__(self, delay: float, fail: str = "") -> None:
        import threading

        self.delay, self.fail, self.lock = delay, fail, threading.Lock()
        self.spans: dict[str, tuple[float, float]] = {}

    def run(self, step):
        import time

        began = time.monotonic()
        time.sleep(self.delay / 10 if step.describe() == self.fail else self.delay)
        with self.lock:
            self.spans[step.describe()] = (began, time.monotonic())
        if step.describe() == self.fail:
            raise EngineError("boom", "")


def two_pod_plan():
    from dataclasses import replace as dc_replace

    return planner.build(differ.compute(state(webserver(), dc_replace(webserver(port=9090), name="second")), ObservedState(), "demo"))


def test_lanes_run_side_by_side_and_keep_their_order():
    from podspec.run.executor import waves

    plan = two_pod_plan()
    shape = [[len(lane) for lane in wave] for wave in waves(plan)]
    assert shape == [[1], [5, 5]]  # the volume alone, then two pods' lanes
    runner = SlowRecorder(0.05)
    execute(plan, runner, parallel=2)
    spans = runner.spans
    first, second = "create pod dynamic-webserver", "create pod second"
    assert spans[first][0] < spans[second][1] and spans[second][0] < spans[first][1]  # overlapped
    assert spans["create volume webserver-data"][1] <= min(spans[first][0], spans[second][0])
    order = sorted((s for s in spans if s.endswith("second") or "second-" in s), key=lambda s: spans[s][0])
    assert order == [s.describe() for s in plan.steps if s.lane == "second"]


def test_parallel_failure_starts_nothing_more():
    plan = two_pod_plan()
    runner = SlowRecorder(0.2, fail="create pod dynamic-webserver")  # fails well before the other lane's step ends
    with pytest.raises(StepFailed) as caught:
        execute(plan, runner, parallel=2)
    assert caught.value.message == "step 2/11 failed: create pod dynamic-webserver: boom"
    assert "start pod dynamic-webserver" not in runner.spans
    # the other lane finished the step it was running, and started no other
    assert len([s for s in runner.spans if "second" in s]) == 1
    assert {s.describe() for s in caught.value.done} == {"create volume webserver-data", "create pod second"}
