"""Probes as the kubelet runs them: the pure schedule and thresholds, then the runner on the FakeEngine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from podspec.engine.fake import FakeEngine
from podspec.engine.probes import demux, outside_command
from podspec.model import Probe, ProbeHandler
from podspec.observed import ContainerState, ProbeResult
from podspec.probe_record import ProbeKind, probe_from_spec, probes_from_spec
from podspec.reconcile.intent import pod_intent
from podspec.reconcile.probing import Action, ProbeClock
from podspec.run.probes import Prober
from tests.unit.hosts import state, webserver, with_container

OK, FAIL = ProbeResult(True), ProbeResult(False, "connection refused")
HTTP = Probe(ProbeHandler.HTTP_GET, path="/healthz", port=80, initial_delay_seconds=5, period_seconds=10,
             timeout_seconds=2, failure_threshold=3)


def test_liveness_restarts_after_failure_threshold_on_its_schedule():
    clock = ProbeClock(((ProbeKind.LIVENESS, HTTP),), started=100)
    assert clock.ready  # no readiness probe: ready once running
    assert clock.due(104) == ()  # initialDelaySeconds
    assert clock.due(105) == ((ProbeKind.LIVENESS, HTTP),)
    assert clock.record(ProbeKind.LIVENESS, FAIL, 105) is Action.NONE
    assert clock.due(114) == () and clock.next_due() == 115  # periodSeconds
    assert clock.record(ProbeKind.LIVENESS, OK, 115) is Action.NONE  # a success resets the count
    assert clock.record(ProbeKind.LIVENESS, FAIL, 125) is Action.NONE
    assert clock.record(ProbeKind.LIVENESS, FAIL, 135) is Action.NONE
    assert clock.record(ProbeKind.LIVENESS, FAIL, 145) is Action.RESTART


def test_readiness_gates_and_never_restarts():
    probe = replace(HTTP, success_threshold=2, failure_threshold=1)
    clock = ProbeClock(((ProbeKind.READINESS, probe),), started=0)
    assert not clock.ready
    assert clock.record(ProbeKind.READINESS, OK, 5) is Action.NONE and not clock.ready  # successThreshold 2
    assert clock.record(ProbeKind.READINESS, OK, 15) is Action.NONE and clock.ready
    for t in (25, 35, 45, 55):
        assert clock.record(ProbeKind.READINESS, FAIL, t) is Action.NONE
    assert not clock.ready
    assert "readiness probe (httpGet :80/healthz) failed: connection refused" in clock.waiting_for()


def test_startup_holds_the_others_off_then_never_runs_again():
    startup = Probe(ProbeHandler.TCP_SOCKET, port=5432, period_seconds=1, failure_threshold=30)
    live = Probe(ProbeHandler.EXEC, command=("pg_isready",), period_seconds=10)
    clock = ProbeClock(((ProbeKind.STARTUP, startup), (ProbeKind.LIVENESS, live), (ProbeKind.READINESS, HTTP)), 0)
    assert clock.due(100) == ((ProbeKind.STARTUP, startup),)
    assert clock.record(ProbeKind.STARTUP, FAIL, 100) is Action.NONE
    assert clock.record(ProbeKind.STARTUP, OK, 101) is Action.NONE
    assert {k for k, _ in clock.due(101)} == {ProbeKind.LIVENESS, ProbeKind.READINESS}
    assert not clock.ready  # the readiness probe has not passed yet


def test_a_startup_probe_that_never_passes_restarts():
    startup = Probe(ProbeHandler.EXEC, command=("false",), period_seconds=1, failure_threshold=2)
    clock = ProbeClock(((ProbeKind.STARTUP, startup),), 0)
    assert clock.record(ProbeKind.STARTUP, FAIL, 0) is Action.NONE
    assert clock.record(ProbeKind.STARTUP, FAIL, 1) is Action.RESTART


def test_probes_read_back_from_the_intent_recorded_on_the_host():
    probe = replace(HTTP, headers=(("Host", "example.org"),), scheme="HTTPS")
    pod = with_container(webserver(), "apache-httpd", liveness_probe=probe, readiness_probe=HTTP)
    spec = next(c.spec for c in pod_intent(pod).containers if c.name == "apache-httpd")
    assert probes_from_spec(spec) == ((ProbeKind.LIVENESS, probe), (ProbeKind.READINESS, HTTP))
    assert probe_from_spec({"handler": "grpc"}) is None


def test_outside_commands_use_busybox_tools_against_the_pods_loopback():
    assert outside_command(HTTP, 2) == ["timeout", "-s", "KILL", "2", "wget", "-O", "/dev/null",
                                        "http://127.0.0.1:80/healthz"]
    tcp = Probe(ProbeHandler.TCP_SOCKET, port=6379, host="::1")
    assert outside_command(tcp, 1)[4:] == ["nc", "-w", "1", "::1", "6379", "-e", "true"]


def test_exec_output_is_demultiplexed():
    framed = b"\x01\0\0\0\0\0\0\x03ok\n" + b"\x02\0\0\0\0\0\0\x05oops\n"
    assert demux(framed) == "ok\noops\n"
    assert demux(b"plain") == "plain"


# ------------------------------------------------------------------------------ the runner


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def host():
    live = Probe(ProbeHandler.HTTP_GET, port=80, period_seconds=10, failure_threshold=3)
    ready = Probe(ProbeHandler.TCP_SOCKET, port=80, period_seconds=5)
    pod = with_container(webserver(), "apache-httpd", liveness_probe=live, readiness_probe=ready)
    engine = FakeEngine(images=["docker.io/library/httpd:2.4", "docker.io/library/busybox:latest",
                                "docker.io/library/alpine:latest"])
    from podspec.reconcile import planner
    from podspec.reconcile.diff import compute

    plan = planner.build(compute(state(pod), engine.observe(), "demo"))
    for step in plan.steps:
        engine.run(step)
    return engine


def test_the_runner_restarts_a_hung_container_and_readiness_only_gates(host):
    clock = Clock()
    prober = Prober(host, clock=clock)
    name = "dynamic-webserver-apache-httpd"
    first = prober.tick(host.observe())
    assert name in first.ready and first.restarted == ()
    host.set_probe(name, False, handler="httpGet")  # liveness fails, readiness (tcpSocket) passes
    restarted = []
    for _ in range(3):
        clock.now += 10
        restarted += prober.tick(host.observe()).restarted
    assert [r.container for r in restarted] == [name]
    assert restarted[0].kind is ProbeKind.LIVENESS and "failed 3 times in a row" in restarted[0].cause
    assert host.containers[name].restarts == 1 and prober.restarts == {name: 1}
    host.set_probe(name, True, handler="httpGet")
    host.set_probe(name, False, handler="tcpSocket")  # readiness fails for ever: never a restart
    for _ in range(10):
        clock.now += 10
        assert prober.tick(host.observe()).restarted == ()
    assert name not in prober.tick(host.observe()).ready
    assert host.containers[name].restarts == 1


def test_the_runner_probes_nothing_of_stopped_containers(host):
    prober = Prober(host, clock=Clock())
    host.set_state("dynamic-webserver-apache-httpd", ContainerState.EXITED, 137)
    round = prober.tick(host.observe())
    assert round.waiting == () and host.count("probe") == 0
