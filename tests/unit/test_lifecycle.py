"""`podspec stop` / `start` on the FakeEngine: stopped on purpose is not drift (diff, apply, status),
start removes the mark and starts in order, exit codes and JSON; the pure order rules on plain data."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.engine.fake import FakeEngine
from podspec.errors import PodNotFound, UsageError
from podspec.observed import ContainerState, PodStatus
from podspec.plan import StepKind
from podspec.reconcile import lifecycle as life
from tests.unit.fake_cli import cli_on_fake
from tests.unit.hosts import applied, state, webserver

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
POD = "dynamic-webserver"
TUTORIAL = "manifests/webserver.yaml"
runner = CliRunner()


@pytest.fixture
def engine(monkeypatch) -> FakeEngine:
    fake = cli_on_fake(monkeypatch, IMAGES)
    assert runner.invoke(app, ["apply", TUTORIAL, "-p", "demo"]).exit_code == 0
    return fake


def invoke(*args: str):
    return runner.invoke(app, list(args))


def running(engine: FakeEngine) -> bool:
    return engine.containers[f"{POD}-apache-httpd"].state is ContainerState.RUNNING


def test_a_stopped_pod_stays_stopped_through_apply_and_diff_until_start(engine):
    stopped = invoke("stop", POD)
    assert stopped.exit_code == 0, stopped.stderr
    assert "Stopped on purpose: dynamic-webserver" in stopped.stdout
    assert not running(engine) and "podspec-stopped.dynamic-webserver" in engine.volumes
    assert invoke("diff", TUTORIAL, "-p", "demo").exit_code == 0  # not drift
    again = invoke("apply", TUTORIAL, "-p", "demo")
    assert again.exit_code == 0 and "Nothing to do." in again.stdout and not running(engine)
    status = invoke("status", "-o", "json")
    pod = json.loads(status.stdout)["pods"][0]
    assert pod["drift"] == [] and pod["stopped"]
    assert "stopped on purpose at" in invoke("status").stdout

    started = invoke("start", POD, "--timeout", "60")
    assert started.exit_code == 0, started.stderr
    assert running(engine) and "podspec-stopped.dynamic-webserver" not in engine.volumes
    assert "Ready: dynamic-webserver." in started.stdout
    # Stopped by hand (not by podspec stop): drift, as before.
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED, 137)
    engine.set_state(f"{POD}-apache-httpd-index-updater", ContainerState.EXITED, 137)
    assert invoke("diff", TUTORIAL, "-p", "demo").exit_code == 2


def test_a_crashed_container_of_a_running_pod_is_still_repaired(engine):
    assert invoke("stop", POD).exit_code == 0
    assert invoke("start", POD, "--no-wait").exit_code == 0
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED, 1)
    assert invoke("diff", TUTORIAL, "-p", "demo").exit_code == 2


def test_a_mark_of_an_earlier_pod_holds_nothing(engine):
    assert invoke("stop", POD).exit_code == 0
    assert invoke("delete", TUTORIAL, "-p", "demo").exit_code == 0
    assert invoke("apply", TUTORIAL, "-p", "demo").exit_code == 0  # a new pod of the same name: it starts
    assert running(engine)
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED, 137)
    engine.set_state(f"{POD}-apache-httpd-index-updater", ContainerState.EXITED, 137)
    assert invoke("diff", TUTORIAL, "-p", "demo").exit_code == 2
    assert invoke("stop", POD).exit_code == 0  # the stale mark is replaced by one for this pod
    assert invoke("diff", TUTORIAL, "-p", "demo").exit_code == 0


def test_json_and_errors(engine):
    data = json.loads(invoke("stop", "--all", "-o", "json").stdout)
    assert data["command"] == "stop" and data["pods"] == [POD]
    assert [s["action"] for s in data["steps"]] == ["create_volume", "stop_pod"]
    data = json.loads(invoke("start", "--project", "demo", "-o", "json").stdout)
    assert data["command"] == "start" and data["ready"] == [POD] and data["not_ready"] is None
    assert [s["action"] for s in data["steps"]] == ["remove_volume", "start_pod"]
    nothing = json.loads(invoke("start", "--all", "-o", "json").stdout)
    assert nothing["steps"] == []  # running already
    missing = invoke("start", "nosuch")
    assert missing.exit_code == 1 and "no pod named 'nosuch' on the host" in missing.stderr
    assert invoke("start").exit_code == 1 and "no pods given" in invoke("start").stderr


def test_start_waits_for_readiness_and_fails_after_its_timeout(engine):
    assert invoke("stop", POD).exit_code == 0
    engine.fail(StepKind.START_POD, POD, "cannot listen on the TCP port: address already in use")
    failed = invoke("start", POD, "--timeout", "1")
    assert failed.exit_code == 1 and "address already in use" in failed.stderr


def test_start_order_services_first_then_start_after():
    a = webserver()
    b = replace(webserver(), name="b", annotations=((life.START_AFTER, "dynamic-webserver"),))
    c = replace(webserver(), name="c", annotations=((life.START_AFTER, "b, elsewhere"),))
    host = applied(state(a, b, c), status=PodStatus.EXITED)
    assert life.start_waves(host, host.pods) == (("dynamic-webserver",), ("b",), ("c",))
    # a pod not started with the others does not hold one back
    assert life.start_waves(host, [host.pod("c")]) == (("c",),)
    looped = replace(webserver(), annotations=((life.START_AFTER, "c"),))
    host = applied(state(looped, b, c), status=PodStatus.EXITED)
    with pytest.raises(UsageError, match="wait for each other"):
        life.start_waves(host, host.pods)


def test_pods_a_service_selects_start_first():
    """The project's names record (a volume, as a Service apply writes it) says which pods carry a
    Service's names: they make the first waves, even when others are named before them."""
    from podspec import labels as L
    from podspec.observed import ObservedVolume
    from podspec.reconcile.network import NamesRecord, names_volume

    a = replace(webserver(), name="a-client", annotations=((life.START_AFTER, "z-backend"),))
    z = replace(webserver(), name="z-backend")
    host = applied(state(a, z), status=PodStatus.EXITED)
    record = NamesRecord({"a-client": ("a-client",), "z-backend": ("z-backend", "api", "api.demo")})
    names = ObservedVolume(names_volume("demo"), {**L.for_volume("demo"), L.NAMES: record.text()})
    host = replace(host, volumes=(*host.volumes, names))
    assert life.service_backends(host) == {"z-backend"}
    assert life.start_waves(host, host.pods) == (("z-backend",), ("a-client",))
    assert life.start_waves(host, [host.pod("a-client")]) == (("a-client",),)


def test_select_refuses_what_podspec_does_not_manage():
    host = applied(state(webserver()))
    with pytest.raises(PodNotFound):
        life.select(host, ["nosuch"], None, False)
    with pytest.raises(UsageError, match="belongs to project 'demo'"):
        life.select(host, [POD], "other", False)
    assert life.select(host, [], "other", False) == ()
    assert [p.name for p in life.select(host, [], None, True)] == [POD]


def test_a_volume_of_a_stop_marks_name_that_podspec_did_not_make_is_never_removed(engine):
    """`podspec start POD` removed any volume named podspec-stopped.POD, and `stop` replaced it,
    whoever made it and whatever it held."""
    from podspec.engine.fake import FakeVolume

    name = f"podspec-stopped.{POD}"
    engine.volumes[name] = FakeVolume(name, {"owner": "someone"})
    started = invoke("start", POD, "--timeout", "60")
    assert started.exit_code == 0, started.stderr
    assert engine.volumes[name].labels == {"owner": "someone"}
    stopped = invoke("stop", POD)
    assert stopped.exit_code == 1 and f"volume {name}" in stopped.stderr and "did not make" in stopped.stderr
    assert engine.volumes[name].labels == {"owner": "someone"} and running(engine)
