"""Readiness rules for `apply --wait`, on plain data."""

from __future__ import annotations

from dataclasses import replace

from podspec.model import Probe, ProbeHandler, RestartPolicy
from podspec.observed import ContainerState
from podspec.reconcile.readiness import assess, probe_due
from tests.unit.hosts import applied, state, webserver, with_container, with_state

HTTPD = "dynamic-webserver-apache-httpd"


def test_running_containers_are_ready():
    desired = state(webserver())
    assert assess(desired, applied(desired)) == assess(desired, applied(desired))
    result = assess(desired, applied(desired))
    assert result.waiting == () and result.failed == () and result.probes == ()


def test_finished_jobs_are_ready_failed_ones_are_not():
    for policy, code, waiting, failed in [
        (RestartPolicy.NEVER, 0, (), ()),
        (RestartPolicy.ON_FAILURE, 0, (), ()),
        (RestartPolicy.NEVER, 3, (), (f"{HTTPD}: exited with code 3 (restartPolicy Never)",)),
        (RestartPolicy.ON_FAILURE, 3, (f"{HTTPD}: exited with code 3, to be restarted (OnFailure)",), ()),
        (RestartPolicy.ALWAYS, 0, (f"{HTTPD}: exited",), ()),
    ]:
        desired = state(replace(webserver(), restart_policy=policy))
        host = with_state(applied(desired), HTTPD, ContainerState.EXITED)
        host = replace(host, containers=tuple(replace(c, exit_code=code) if c.name == HTTPD else c for c in host.containers))
        result = assess(desired, host)
        assert (result.waiting, result.failed) == (waiting, failed), policy


def test_probes_decide_for_running_containers_on_their_schedule():
    probe = Probe(ProbeHandler.EXEC, command=("true",), initial_delay_seconds=5, period_seconds=10)
    desired = state(with_container(webserver(), "apache-httpd", liveness_probe=probe))
    assert assess(desired, applied(desired)).probes == ((HTTPD, probe),)
    assert not probe_due(probe, running_since=100, last_run=None, now=104)
    assert probe_due(probe, running_since=100, last_run=None, now=105)
    assert not probe_due(probe, running_since=100, last_run=105, now=114)
    assert probe_due(probe, running_since=100, last_run=105, now=115)
