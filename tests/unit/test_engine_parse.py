"""engine/parse.py over Podman's real answers, recorded from each version we run against.

tools/record_api.py set up the objects these tests expect (see its docstring) and saved what the
service answered into tests/fixtures/podman/<version>/. Every version directory present is tested
the same way: a shape that differs between versions fails here, not in a plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podspec.engine import parse
from podspec.observed import ContainerState, PodStatus

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "podman"
VERSIONS = sorted(p.name for p in FIXTURES.iterdir() if (p / "index.json").exists())


class Recording:
    def __init__(self, version: str) -> None:
        self.dir = FIXTURES / version
        self.index = json.loads((self.dir / "index.json").read_text())

    def raw(self, name: str) -> bytes:
        return (self.dir / f"{name}.json").read_bytes()

    def status(self, name: str) -> int:
        return self.index["answers"][name]["status"]

    def answer(self, name: str):
        """The answer as PodmanEngine.call hands it on (decoded JSON, or text)."""
        assert self.status(name) < 400, f"{name} is an error answer"
        return parse.decode(self.status(name), self.raw(name))

    def error(self, name: str) -> str:
        assert self.status(name) >= 400, f"{name} is not an error answer"
        return parse.error_message(self.status(name), self.raw(name))


@pytest.fixture(params=VERSIONS)
def rec(request) -> Recording:
    return Recording(request.param)


def test_there_is_a_recording_of_the_hosts_podman():
    assert "4.3" in VERSIONS


def by_name(containers):
    return {c.name: c for c in containers}


def test_container_list_after_the_pod_started(rec):
    found = by_name(parse.containers(rec.answer("containers")))
    app, done, init = found["rec-web-app"], found["rec-web-done"], found["rec-web-init"]
    assert app.state is ContainerState.RUNNING and app.exit_code == 0
    assert done.state is ContainerState.EXITED and done.exit_code == 3
    assert init.state is ContainerState.EXITED and init.exit_code == 0  # type `always`: kept
    assert dict(app.labels) == {"role": "app"}
    assert app.image == "docker.io/library/httpd:2.4" and len(app.image_id) == 64
    assert {app.pod_name, done.pod_name, init.pod_name} == {"rec-web"}
    assert app.pod_id == done.pod_id == init.pod_id != ""
    assert not app.is_infra and app.ports == ()  # ports are read on the infra container only
    lone = found["rec-lone"]
    assert lone.state is ContainerState.CREATED and lone.pod_id == "" and lone.pod_name == ""


def test_the_infra_container_carries_the_pods_ports_and_labels(rec):
    containers = parse.containers(rec.answer("containers"))
    infra = next(c for c in containers if c.is_infra and c.pod_name == "rec-web")
    assert infra.name.endswith("-infra")
    assert infra.ports == ("127.0.0.1:15353->53/UDP", "18080->80/TCP")
    assert infra.labels["rec"] == "pod"


def test_pods_are_read_off_the_container_list(rec):
    state = parse.state(rec.answer("containers"), rec.answer("volumes"), rec.answer("images"))
    assert [p.name for p in state.pods] == ["rec-bad", "rec-web"]
    web = state.pod("rec-web")
    assert web is not None and web.status is PodStatus.DEGRADED  # one running, one exited with 3
    assert web.labels["rec"] == "pod" and web.infra_id == state.infra_of(web).id
    assert [c.name for c in state.containers_of(web)] == ["rec-web-app", "rec-web-done", "rec-web-init"]
    bad = state.pod("rec-bad")
    assert bad is not None and bad.status is PodStatus.CREATED


def test_container_list_before_the_pod_started(rec):
    found = by_name(parse.containers(rec.answer("containers-created")))
    assert {found[n].state for n in ("rec-web-app", "rec-web-done", "rec-web-init", "rec-lone")} == {ContainerState.CREATED}
    assert [c.name for c in parse.containers(rec.answer("containers-created"))] == sorted(found)


def test_secret_list_names_the_secret_and_on_4_3_leaves_its_labels_out(rec):
    [secret] = parse.secrets(rec.answer("secrets"))
    assert secret.name == "rec-secret" and secret.id
    inspected = rec.answer("secret-inspect")
    assert inspected["Spec"]["Labels"] == {"rec": "yes"}  # stored on every version
    if rec.index["version"].startswith("4."):
        assert secret.labels_listed is False and dict(secret.labels) == {}
    else:
        assert secret.labels_listed is True and dict(secret.labels) == {"rec": "yes"}
    assert b"recorded" not in rec.raw("secrets") + rec.raw("secret-inspect")  # Podman never shows the value


def test_volume_list(rec):
    volumes = parse.volumes(rec.answer("volumes"))
    assert [v.name for v in volumes] == ["rec-data"]
    assert dict(volumes[0].labels) == {"rec": "yes", "tier": "data"}


def test_image_list_has_every_name(rec):
    images = parse.images(rec.answer("images"))
    names = {n for i in images for n in i.names}
    assert {"docker.io/library/httpd:2.4", "docker.io/library/busybox:latest", "docker.io/library/alpine:latest"} <= names
    assert all(len(i.id) == 64 for i in images)


def test_pod_list(rec):
    assert parse.pod_names(rec.answer("pods")) == ("rec-bad", "rec-web")


def test_version(rec):
    text = parse.version(rec.answer("version"))
    assert text == rec.index["version"]
    assert text.split(".")[0].isdigit() and text.startswith(rec.dir.name.split(".")[0] + ".")


def test_inspects_are_objects_with_the_names_set_up(rec):
    pod = rec.answer("pod-inspect")
    assert pod["Name"] == "rec-web" and pod["Labels"]["rec"] == "pod"
    assert {c["Name"] for c in pod["Containers"]} >= {"rec-web-app", "rec-web-done", "rec-web-init"}
    assert pod["InfraContainerID"] in {c["Id"] for c in pod["Containers"]}
    app = rec.answer("container-inspect")
    assert app["Name"] == "rec-web-app" and app["State"]["Status"] == "running"
    assert [m["Name"] for m in app["Mounts"] if m["Type"] == "volume"] == ["rec-data"]
    assert rec.answer("container-inspect-exited")["State"]["ExitCode"] == 3
    assert "docker.io/library/httpd:2.4" in rec.answer("image-inspect")["RepoTags"]
    assert rec.answer("volume-inspect")["Labels"] == {"rec": "yes", "tier": "data"}


def test_kube_generate_is_text_naming_the_init_container(rec):
    text = rec.answer("kube-generate")
    assert isinstance(text, str) and "initContainers" in text and "rec-web-init" in text


def test_health_of_a_container_without_a_check(rec):
    assert parse.health_log(rec.answer("container-inspect")) == []
    assert parse.last_output([]) == ""


# ---------------------------------------------------------------------------------- errors


def test_no_such_container(rec):
    assert rec.status("error-no-such-container") == 404
    message = rec.error("error-no-such-container")
    assert 'no container with name or ID "rec-nosuch" found' in message
    assert parse.hint(message) == "see Podman's message above"


def test_pod_name_in_use(rec):
    assert rec.status("error-pod-name-in-use") == 409
    message = rec.error("error-pod-name-in-use")
    assert '"rec-web" is in use' in message
    assert parse.hint(message) == "another object holds the name; see `podspec diff`"


def test_container_name_in_use(rec):
    message = rec.error("error-container-name-in-use")
    assert '"rec-lone" is already in use' in message
    assert parse.hint(message) == "another object holds the name; see `podspec diff`"


def test_volume_in_use(rec):
    assert rec.status("error-volume-in-use") == 409
    message = rec.error("error-volume-in-use")
    assert "volume rec-data is being used" in message
    assert parse.hint(message) == "the volume is still mounted by a container; it was not removed"


def test_image_not_known(rec):
    message = rec.error("error-image-not-known")
    assert "localhost/rec-no-such-image:1: image not known" in message
    assert parse.hint(message).startswith("make the image available locally")


def test_a_failed_pod_start_says_why_through_its_errs(rec):
    message = rec.error("error-pod-start")
    assert "/no/such/command" in message


def test_error_bodies_that_are_not_json():
    assert parse.error_message(502, b"Bad Gateway\n") == "Bad Gateway"
    assert parse.error_message(500, b"") == "HTTP 500"
    assert parse.error_message(500, b'["odd"]') == "['odd']"
    assert parse.error_message(409, b'{"Errs": ["a", " "], "Id": "x"}') == "a"


# ----------------------------------------------------------------------------------- pulls


@pytest.mark.parametrize("name", ["pull-unpullable", "pull-unpullable-progress"])
def test_an_unpullable_image_fails_inside_a_200_stream(rec, name):
    assert rec.status(name) == 200
    error = parse.pull_error(rec.answer(name))
    assert error is not None and "nosuch" in error


def test_the_progress_stream_is_several_objects(rec):
    reports = parse.json_stream(rec.answer("pull-unpullable-progress"))
    assert len(reports) >= 2 and "error" in reports[-1]


def test_a_successful_pull_stream_reports_no_error():
    stream = '{"stream":"Trying to pull x...\\n"}\n{"images":["abc"],"id":"abc"}\n'
    assert parse.pull_error(stream) is None
    assert parse.json_stream(stream)[-1]["id"] == "abc"
    assert parse.json_stream({"id": "abc"}) == [{"id": "abc"}]
    assert parse.json_stream(b'{"a": 1} {"b": 2} trailing') == [{"a": 1}, {"b": 2}]
    assert parse.json_stream(None) == []


# ------------------------------------------------------------------------------ shapes


def test_the_nested_state_shape_is_read_as_well():
    entry = {"Id": "c" * 64, "Names": ["x"], "State": {"Status": "running"}, "ExitCode": 0}
    assert parse.container(entry).state is ContainerState.RUNNING


def test_docker_compatible_port_names_and_ranges():
    entry = {"Id": "c" * 64, "Names": ["i"], "IsInfra": True, "State": "running",
             "Ports": [{"hostPort": 8000, "containerPort": 80, "range": 2, "protocol": "tcp"},
                       {"host_port": 0, "container_port": 9000}]}
    assert parse.container(entry).ports == ("8000->80/TCP", "8001->81/TCP")


def test_empty_lists_may_be_null():
    assert parse.containers(None) == () and parse.volumes(None) == () and parse.images(None) == ()
    assert parse.pod_names(None) == ()
    assert parse.version(None) == "?"
    assert parse.decode(204, b"") is None


def test_a_missing_host_path_says_to_create_it_or_to_let_podman_create_it():
    # Podman 4.3.1's answer when applying stefan-langenmaier/pi-deployments dns/dns.yml (corpus 3),
    # whose hostPath volumes of no type name /home/pi/... directories this host does not have.
    message = parse.error_message(500, json.dumps({
        "cause": "no such file or directory",
        "message": "statfs /home/pi/deployments/dns/ddclient/dyndns-config: no such file or directory",
        "response": 500}).encode())
    error = parse.refused("create container dns-service", 500, message)
    assert error.message == ("Podman refused to create container dns-service: "
                             "statfs /home/pi/deployments/dns/ddclient/dyndns-config: no such file or directory")
    assert error.hint == ("a hostPath volume's path does not exist on the host: create it there, or set the volume's "
                          "hostPath type to DirectoryOrCreate or FileOrCreate")


def test_an_empty_pod_is_a_leftover_only_of_the_same_project_and_source():
    ours = {"io.podspec.managed-by": "podspec", "io.podspec.project": "shop", "io.podspec.origin": "git:git.example/shop"}
    empty = {"Name": "web", "Containers": [], "Labels": dict(ours)}
    assert parse.left_empty(empty, ours)
    assert parse.left_empty({**empty, "Containers": None}, ours)
    assert not parse.left_empty({**empty, "Containers": [{"Id": "abc", "Name": "web-infra"}]}, ours)
    assert not parse.left_empty({**empty, "Labels": {**ours, "io.podspec.project": "blog"}}, ours)
    assert not parse.left_empty({**empty, "Labels": {**ours, "io.podspec.origin": "git:git.example/other"}}, ours)
    assert not parse.left_empty({**empty, "Labels": {"team": "ops"}}, ours)
    assert not parse.left_empty({**empty, "Labels": None}, ours)
    assert not parse.left_empty(None, ours)
