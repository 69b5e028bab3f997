"""What the FakeEngine offers tests beyond the contract (tests/contract/ proves it behaves as Podman):
call records, fault injection, pullable images, hand changes."""

from __future__ import annotations

import pytest

from podspec.engine.fake import Call, FakeEngine, qualify
from podspec.errors import EngineError, StepFailed
from podspec.observed import ContainerState, ObservedState, PodStatus
from podspec.plan import StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.run.executor import execute
from tests.unit.hosts import state, webserver

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
POD = "dynamic-webserver"


def tutorial_plan(engine: FakeEngine):
    return planner.build(differ.compute(state(webserver()), engine.observe(), "demo"))


def test_every_call_is_recorded_in_order():
    engine = FakeEngine(images=IMAGES)
    plan = tutorial_plan(engine)
    for step in plan.steps:
        engine.run(step)
    engine.observe()
    assert engine.calls[0] == Call("observe")
    assert engine.calls[1:-1] == [Call(s.kind.value, s.target) for s in plan.steps]
    assert engine.count("observe") == 2
    assert engine.count("create_container") == 3
    assert engine.count("create_pod", POD) == 1


def test_the_tutorial_runs_as_on_podman():
    engine = FakeEngine(images=IMAGES)
    for step in tutorial_plan(engine).steps:
        engine.run(step)
    observed = engine.observe()
    pod = observed.pod(POD)
    assert pod is not None and pod.status is PodStatus.RUNNING
    # the tutorial's init container is of type `always`: it stays, exited
    assert observed.container(f"{POD}-apache-httpd-init").state is ContainerState.EXITED
    assert observed.infra_of(pod).ports == ("8080->80/TCP",)
    assert tutorial_plan(engine).empty


def test_a_failing_step_changes_nothing_and_stops_the_executor():
    engine = FakeEngine(images=IMAGES)
    plan = tutorial_plan(engine)
    engine.fail(StepKind.CREATE_CONTAINER, f"{POD}-apache-httpd", message="no space left on device")
    with pytest.raises(StepFailed) as caught:
        execute(plan, engine)
    failed = caught.value
    assert "no space left on device" in failed.message
    assert [s.target for s in failed.done] == ["webserver-data", "podspec-demo", POD, f"{POD}-apache-httpd-init"]
    assert [s.kind for s in failed.not_done][-2:] == [StepKind.START_POD, StepKind.CREATE_VOLUME]  # and the names record
    observed = engine.observe()
    assert observed.container(f"{POD}-apache-httpd") is None
    assert observed.pod(POD).status is PodStatus.CREATED
    # the fault was used up: the next apply converges
    execute(tutorial_plan(engine), engine)
    assert tutorial_plan(engine).empty


def test_faults_on_reads_and_their_count():
    engine = FakeEngine()
    engine.fail("observe", times=2, message="connection reset")
    for _ in range(2):
        with pytest.raises(EngineError, match="connection reset"):
            engine.observe()
    assert engine.observe() == ObservedState(networks=engine.observe().networks)  # Podman's default network alone
    assert [n.name for n in engine.observe().networks] == ["podman"]
    engine.fail("version", times=-1)
    for _ in range(3):
        with pytest.raises(EngineError):
            engine.version()


def test_a_fault_on_one_target_spares_the_others():
    engine = FakeEngine(images=IMAGES)
    engine.fail(StepKind.REMOVE_VOLUME, "a")
    plan = tutorial_plan(engine)
    execute(plan, engine)  # no volume removal in it: nothing fails
    assert engine.observe().pod(POD) is not None


def test_pull_of_a_pullable_image_adds_it_and_a_second_pull_moves_the_tag():
    engine = FakeEngine(pullable=["alpine"])
    engine.pull("alpine")
    first = engine.observe().image_id("docker.io/library/alpine:latest")
    assert first is not None
    engine.pull("docker.io/library/alpine:latest")
    second = engine.images()
    assert engine.observe().image_id("docker.io/library/alpine:latest") not in (None, first)
    assert [i.names for i in second if i.names] == [("docker.io/library/alpine:latest",)]
    with pytest.raises(EngineError, match="cannot pull docker.io/library/busybox:latest"):
        engine.pull("docker.io/library/busybox:latest")
    assert engine.count("pull") == 3


def test_hand_changes_and_health():
    engine = FakeEngine(images=IMAGES)
    execute(tutorial_plan(engine), engine)
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED, exit_code=137)
    observed = engine.observe()
    assert observed.container(f"{POD}-apache-httpd").exit_code == 137
    assert observed.pod(POD).status is PodStatus.DEGRADED
    assert engine.run_healthcheck(f"{POD}-apache-httpd")[0] == "unknown"  # no probe in the tutorial
    engine.set_health(f"{POD}-apache-httpd", "unhealthy", "curl: connection refused")
    assert engine.count("set_health") == 0  # arranging is not a call


def test_steps_of_different_pods_may_run_side_by_side():
    engine = FakeEngine(images=IMAGES)
    pods = [webserver(name=f"web{i}", port=8080 + i) for i in range(4)]
    plan = planner.build(differ.compute(state(*pods), engine.observe(), "demo"))
    execute(plan, engine, parallel=3)
    observed = engine.observe()
    assert [p.status for p in observed.pods] == [PodStatus.RUNNING] * 4


@pytest.mark.parametrize("given, stored", [
    ("alpine", "docker.io/library/alpine:latest"),
    ("library/alpine:3", "docker.io/library/alpine:3"),
    ("quay.io/x/y", "quay.io/x/y:latest"),
    ("localhost:5000/y:1", "localhost:5000/y:1"),
    ("localhost/podman-pause:fake", "localhost/podman-pause:fake"),
    ("x@sha256:" + "0" * 64, "x@sha256:" + "0" * 64),
])
def test_qualify(given, stored):
    assert qualify(given) == stored


def test_the_fake_closes():
    with FakeEngine() as engine:
        pass
    assert engine.closed and engine.calls[-1] == Call("close")


def test_the_fake_answers_in_the_shape_of_its_version():
    for version, address in (("4.3.1", ""), ("5.4.2", "0.0.0.0")):
        engine = FakeEngine(images=IMAGES, version=version)
        execute(tutorial_plan(engine), engine)
        bindings = engine.inspect_pod(POD)["InfraConfig"]["PortBindings"]
        assert bindings == {"80/tcp": [{"HostIp": address, "HostPort": "8080"}]}
        assert engine.version() == version
