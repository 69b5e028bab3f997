"""The executor: steps in plan order, lanes side by side, a stop at the first failure."""

from __future__ import annotations

import threading

import pytest

from podspec import render
from podspec.errors import EngineError, StepFailed
from podspec.observed import ObservedState
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.run.executor import StepStatus, execute
from tests.unit.hosts import state, webserver


class RecordingEngine:
    def __init__(self, fail_at: int | None = None) -> None:
        self.calls, self.fail_at = [], fail_at

    def run(self, step):
        self.calls.append(step.describe())
        if len(self.calls) == self.fail_at:
            raise EngineError("Podman refused to start pod x: port in use", "free the port")


def test_executor_runs_in_order_and_reports_each_step():
    plan = planner.build(differ.compute(state(webserver()), ObservedState(), "demo"))
    events = []
    runner = RecordingEngine()
    execute(plan, runner, events.append, clock=lambda: 0.0)
    assert runner.calls == [s.describe() for s in plan.steps]
    assert [e.status for e in events] == [StepStatus.STARTED, StepStatus.DONE] * len(plan.steps)
    assert render.event_text(events[1]) == "[1/8] create volume webserver-data: done (0.0s)"


def test_executor_stops_at_first_failure_and_says_what_was_done():
    plan = planner.build(differ.compute(state(webserver()), ObservedState(), "demo"))
    runner = RecordingEngine(fail_at=4)
    with pytest.raises(StepFailed) as caught:
        execute(plan, runner, clock=lambda: 0.0)
    assert len(runner.calls) == 4
    failure = caught.value
    assert failure.message == (
        "step 4/8 failed: create container dynamic-webserver-apache-httpd-init: "
        "Podman refused to start pod x: port in use"
    )
    assert [s.describe() for s in failure.done] == ["create volume webserver-data", "create network podspec-demo",
                                                    "create pod dynamic-webserver"]
    assert len(failure.not_done) == 4
    assert failure.hint.startswith("free the port; run the command again once fixed")


class MeetingRunner:
    """Records the order in which steps start and end. Steps named in `meet` wait for each other at
    a barrier: they can only pass it if they run at the same time (else the barrier breaks after a
    bounded wait and the test fails). `hold` maps a step to an event it waits for before it ends;
    `fail` names a step that fails."""

    def __init__(self, meet: tuple[str, ...] = (), hold: dict[str, threading.Event] | None = None,
                 fail: str = "") -> None:
        self.barrier = threading.Barrier(len(meet), timeout=10) if meet else None
        self.meet, self.hold, self.fail = meet, hold or {}, fail
        self.lock = threading.Lock()
        self.log: list[tuple[str, str]] = []
        self.started: dict[str, threading.Event] = {}

    def started_event(self, name: str) -> threading.Event:
        with self.lock:
            return self.started.setdefault(name, threading.Event())

    def ran(self) -> list[str]:
        return [name for what, name in self.log if what == "start"]

    def run(self, step):
        name = step.describe()
        with self.lock:
            self.log.append(("start", name))
        self.started_event(name).set()
        if name in self.meet:
            assert self.barrier is not None
            self.barrier.wait()
        if name in self.hold:
            assert self.hold[name].wait(10), f"{name}: the event it waits for never came"
        with self.lock:
            self.log.append(("end", name))
        if name == self.fail:
            raise EngineError("boom", "")


def two_pod_plan():
    from dataclasses import replace as dc_replace

    return planner.build(differ.compute(state(webserver(), dc_replace(webserver(port=9090), name="second")), ObservedState(), "demo"))


def test_lanes_run_side_by_side_and_keep_their_order():
    from podspec.run.executor import waves

    plan = two_pod_plan()
    shape = [[len(lane) for lane in wave] for wave in waves(plan)]
    # the volume and the project network alone, then two pods' lanes, then the names record
    assert shape == [[1], [1], [5, 5], [1]]
    first, second = "create pod dynamic-webserver", "create pod second"
    runner = MeetingRunner(meet=(first, second))  # both must be running at once to pass
    execute(plan, runner, parallel=2)
    assert runner.log[:4] == [("start", "create volume webserver-data"), ("end", "create volume webserver-data"),
                              ("start", "create network podspec-demo"), ("end", "create network podspec-demo")]
    order = [s for s in runner.ran() if s.endswith("second") or "second-" in s]
    assert order == [s.describe() for s in plan.steps if s.lane == "second"]


def test_parallel_failure_starts_nothing_more():
    plan = two_pod_plan()
    failed = threading.Event()
    # the other lane's step runs until the failure has been reported, so it is running when it happens
    runner = MeetingRunner(hold={"create pod second": failed}, fail="create pod dynamic-webserver")
    runner.hold["create pod dynamic-webserver"] = runner.started_event("create pod second")
    report = lambda event: failed.set() if event.status is StepStatus.FAILED else None
    with pytest.raises(StepFailed) as caught:
        execute(plan, runner, report, parallel=2)
    assert caught.value.message == "step 3/13 failed: create pod dynamic-webserver: boom"
    assert "start pod dynamic-webserver" not in runner.ran()
    # the other lane finished the step it was running, and started no other
    assert len([s for s in runner.ran() if "second" in s]) == 1
    assert ("end", "create pod second") in runner.log
    assert {s.describe() for s in caught.value.done} == {"create volume webserver-data", "create network podspec-demo", "create pod second"}


def test_a_raised_stop_flag_lets_the_step_in_progress_finish_and_starts_no_other():
    from podspec.run.executor import StopFlag

    plan = planner.build(differ.compute(state(webserver()), ObservedState(), "demo"))
    stop = StopFlag("asked to stop", "run it again")
    events = []

    class Stopping(RecordingEngine):
        def run(self, step):
            super().run(step)
            if len(self.calls) == 2:
                stop.raise_()  # as SIGTERM would, while the second step runs

    runner = Stopping()
    with pytest.raises(StepFailed) as caught:
        execute(plan, runner, events.append, clock=lambda: 0.0, stop=stop)
    assert runner.calls == [s.describe() for s in plan.steps[:2]]  # the third never reached the runner
    assert caught.value.message == f"step 3/8 failed: {plan.steps[2].describe()}: not started: {plan.steps[2].describe()} (asked to stop)"
    assert caught.value.hint.startswith("run it again; ")
    assert [s.describe() for s in caught.value.done] == runner.calls
    assert [e.status for e in events][-2:] == [StepStatus.STARTED, StepStatus.FAILED]
