"""A fleet of targets in one command (issue 29): a bound on how many run at once, failures kept per
target, and staged rollouts (a canary first, the rest only if it passed). Synchronised on events."""

from __future__ import annotations

import threading

import pytest

from podspec.errors import UsageError
from podspec.run.projectfile import Target
from podspec.run.targets import Verdict, each, staged, verdict


def fleet(count: int) -> list[Target]:
    return [Target(f"host{i}", ("m",), url=f"ssh://root@h{i}/run/podman/podman.sock") for i in range(count)]


def test_no_more_than_the_bound_run_at_once_and_every_target_runs():
    targets = fleet(10)
    limit = 3
    running, peak, mutex = 0, 0, threading.Lock()
    full = threading.Event()  # `limit` are running: the first of them may finish

    def work(target: Target) -> str:
        nonlocal running, peak
        with mutex:
            running += 1
            peak = max(peak, running)
            if running == limit:
                full.set()
        assert full.wait(10), "the bound was never reached"
        with mutex:
            running -= 1
        return target.name

    outcomes = each(targets, work, limit=limit)
    assert [o.result for o in outcomes] == [t.name for t in targets]
    assert peak == limit


def test_all_run_side_by_side_when_the_bound_allows():
    targets = fleet(5)
    barrier = threading.Barrier(5, timeout=10)  # passes only if all five run at the same time
    outcomes = each(targets, lambda t: barrier.wait() >= 0, limit=8)
    assert all(o.result is True for o in outcomes)


def test_a_failing_host_is_its_own_outcome_and_the_others_finish():
    def work(target: Target) -> str:
        if target.name == "host2":
            raise UsageError("host2: connection refused")
        return "applied"

    outcomes = each(fleet(4), work, limit=2)
    assert [(o.result, o.error and o.error.message) for o in outcomes] == [
        ("applied", None), ("applied", None), (None, "host2: connection refused"), ("applied", None)]
    assert all(o.seconds >= 0 for o in outcomes)
    assert verdict(outcomes) is Verdict.FAILED


def test_a_canary_that_passes_lets_the_rest_run_after_it():
    order: list[str] = []
    mutex = threading.Lock()

    def work(target: Target) -> str:
        with mutex:
            order.append(target.name)
        return "ready"

    outcomes = staged(fleet(4), work, canary=["host2"], passed=lambda r: r == "ready")
    assert order[0] == "host2" and sorted(order) == ["host0", "host1", "host2", "host3"]
    assert [o.target.name for o in outcomes] == ["host0", "host1", "host2", "host3"]
    assert verdict(outcomes) is Verdict.OK


@pytest.mark.parametrize("failure", ["not ready", "error"])
def test_a_canary_that_fails_skips_the_rest_and_runs_nothing_there(failure):
    ran: list[str] = []

    def work(target: Target) -> str:
        ran.append(target.name)
        if failure == "error":
            raise UsageError("the canary's apply failed")
        return "not ready"

    outcomes = staged(fleet(3), work, canary=["host0"], passed=lambda r: r == "ready")
    assert ran == ["host0"]
    skipped = {o.target.name: o.skipped for o in outcomes}
    assert skipped == {"host0": "", "host1": "not run: the canary host0 did not succeed",
                       "host2": "not run: the canary host0 did not succeed"}
    assert verdict(outcomes) is Verdict.FAILED
