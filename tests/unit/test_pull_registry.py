"""Pulls from registries, on plain data: Podman's failure messages named (as Podman 4.3 words them
against the distribution registry; tests/integration/test_registry_pulls.py checks them for real),
auth files and credentials, the compat pull stream, the digest rule, and the plain progress lines."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from podspec import render
from podspec.engine.parse import PullStream, image_size
from podspec.model import PullPolicy
from podspec.observed import ObservedImage, ObservedState, PullProgress
from podspec.reconcile.pulls import FailureKind, ImageNeed, classify, failures_error
from podspec.references import registry_of
from podspec.run.results import PullEvent, PullStatus
from podspec.secrets import RegistryCredential, credential_for, credentials_from_auth_json

GOLDEN = Path(__file__).parent / "golden"

R = "127.0.0.1:5000"
SAID = {
    FailureKind.UNAUTHORIZED: f"initializing source docker://{R}/private/app:1: reading manifest 1 in {R}/private/app: "
                              "unauthorized: authentication required",
    FailureKind.NOT_FOUND: f"initializing source docker://{R}/nope:1: reading manifest 1 in {R}/nope: "
                           "manifest unknown: manifest unknown",
    FailureKind.UNREACHABLE: f'initializing source docker://{R}/x:1: pinging container registry {R}: '
                             f'Get "http://{R}/v2/": dial tcp {R}: connect: connection refused',
    FailureKind.TLS: 'initializing source docker://localhost:5001/x:1: pinging container registry localhost:5001: '
                     'Get "https://localhost:5001/v2/": x509: certificate signed by unknown authority',
    FailureKind.NO_SPACE: "writing blob: storing blob to file \"/var/tmp/storage123/1\": write /var/tmp/storage123/1: "
                          "no space left on device",
}


# Podman 5.4 says less (seen against the same registry): its whole messages.
SAID_BY_5 = {
    FailureKind.UNAUTHORIZED: "unauthorized: authentication required",
    FailureKind.NOT_FOUND: "manifest unknown: manifest unknown",
    FailureKind.UNREACHABLE: "connection refused",
    FailureKind.TLS: "x509: certificate signed by unknown authority",
}


@pytest.mark.parametrize("kind,said", [*SAID.items(), *SAID_BY_5.items()])
def test_each_failure_is_named_with_a_cause_and_a_hint(kind, said):
    failure = classify(f"{R}/x:1", said, R)
    assert failure.kind is kind
    assert failure.cause and failure.hint


def test_unauthorized_says_whether_credentials_were_sent():
    bare = classify(f"{R}/private/app:1", SAID[FailureKind.UNAUTHORIZED], R)
    assert bare.cause == f"{R} asks for credentials and none were given"
    assert "imagePullSecrets" in bare.hint and "--authfile" in bare.hint
    sent = classify(f"{R}/private/app:1", SAID[FailureKind.UNAUTHORIZED], R, "the auth file /a.json")
    assert sent.cause == f"{R} refused the credentials from the auth file /a.json"


def test_not_found_names_the_repository_and_tag():
    failure = classify(f"{R}/nope:1", SAID[FailureKind.NOT_FOUND], R)
    assert failure.cause == f"{R} has no nope:1 (no such repository, or no such tag in it)"
    assert failure.podman_says.startswith("reading manifest 1")


def test_failures_error_lists_every_image_and_changes_nothing():
    need = ImageNeed(f"{R}/nope:1", PullPolicy.IF_NOT_PRESENT, False, ("web/app",))
    error = failures_error([(need, classify(need.reference, SAID[FailureKind.NOT_FOUND], R))])
    assert error.message.startswith(f"image {R}/nope:1 (used by web/app) is not on the host and cannot be pulled: "
                                    f"not found: {R} has no nope:1")
    assert error.hint.endswith("nothing was changed")


def test_a_digest_present_is_never_pulled_again_whatever_the_policy():
    digest = f"{R}/app@sha256:" + "a" * 64
    for policy in PullPolicy:
        assert not ImageNeed(digest, policy, True, ()).pull
    assert ImageNeed(digest, PullPolicy.IF_NOT_PRESENT, False, ()).pull
    assert ImageNeed(f"{R}/app:latest", PullPolicy.ALWAYS, True, ()).pull


def test_an_image_is_found_by_the_digest_it_was_pulled_by():
    digest = f"{R}/app@sha256:" + "b" * 64
    observed = ObservedState(images=(ObservedImage("c" * 64, (f"{R}/app:1",), (digest,)),))
    assert observed.image_id(digest) == "c" * 64


# ------------------------------------------------------------------------------ credentials


def auth_json(registry: str, user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {registry: {"auth": token}}})


def test_auth_files_give_credentials_by_registry():
    found = credentials_from_auth_json(auth_json(R, "me", "pw:with:colons"), "the auth file /a.json")
    assert found[R].username == "me" and found[R].password == "pw:with:colons"
    docker = credentials_from_auth_json(json.dumps({"auths": {"https://index.docker.io/v1/": {
        "username": "u", "password": "p"}}}), "x")
    assert set(docker) == {"docker.io"}


def test_a_credential_never_shows_its_password():
    credential = RegistryCredential(R, "me", "hunter2-secret", "the auth file /a.json")
    assert "hunter2" not in repr(credential) and "hunter2" not in str(credential)
    decoded = json.loads(base64.urlsafe_b64decode(credential.header()))
    assert decoded == {"username": "me", "password": "hunter2-secret", "serveraddress": R}


def test_a_bad_auth_file_is_refused_without_its_content():
    with pytest.raises(ValueError) as caught:
        credentials_from_auth_json('{"auths": {"r": {"auth": "!!!not-base64-secret"}}}', "x")
    assert "secret" not in str(caught.value)
    with pytest.raises(ValueError):
        credentials_from_auth_json("[]", "x")


def test_credentials_are_chosen_by_registry_and_namespace():
    credentials = {R: RegistryCredential(R, "a", "1"), f"{R}/team": RegistryCredential(f"{R}/team", "b", "2"),
                   "docker.io": RegistryCredential("docker.io", "c", "3")}
    assert credential_for(f"{R}/app:1", credentials).username == "a"
    assert credential_for(f"{R}/team/app:1", credentials).username == "b"
    assert credential_for("alpine", credentials).username == "c"
    assert credential_for("127.0.0.1:5001/app:1", credentials) is None
    assert registry_of("localhost/app") == "localhost" and registry_of("user/app") == "docker.io"


# ---------------------------------------------------------------------------- pull stream


def test_the_compat_pull_stream_counts_layers_and_bytes():
    stream = PullStream("r/app:1")
    lines = [
        '{"status":"Already exists","progressDetail":{},"id":"4ce1cff96fdc"}',
        '{"status":"Pulling fs layer","progressDetail":{},"id":"a1aa0fb5f110"}',
        '{"status":"Downloading","progressDetail":{"current":1000,"total":4000},"id":"a1aa0fb5f110"}',
    ]
    progress = [stream.feed(line) for line in lines]
    assert progress[-1] == PullProgress("r/app:1", 2, 1, 1000, 4000)
    done = stream.feed('{"status":"Download complete","progressDetail":{},"id":"a1aa0fb5f110"}')
    assert done == PullProgress("r/app:1", 2, 2, 4000, 4000)
    stream.feed('{"status":"Digest: sha256:abc","id":"not a layer"}')
    stream.feed('{"status":"Pulling from library/busybox","id":"latest"}')  # Docker's shape: the id is the tag
    assert stream.progress().layers_total == 2
    assert stream.error is None
    stream.feed('{"progressDetail":{},"errorDetail":{"message":"boom"},"error":"boom"}')
    assert stream.error == "boom"


def test_image_size_reads_inspect():
    assert image_size({"Id": "abc", "Size": 5423423, "RootFS": {"Layers": ["a", "b", "c"]}}) == ("abc", 5423423, 3)


# ------------------------------------------------------------------------------- plain text


def test_plain_pull_lines_golden():
    ref = f"{R}/library/httpd:2.4"
    events = [
        PullEvent(ref, PullStatus.STARTED, "IfNotPresent"),
        PullEvent(ref, PullStatus.PROGRESS, "IfNotPresent", progress=PullProgress(ref, 3, 1, 0, 0)),
        PullEvent(ref, PullStatus.DONE, "IfNotPresent", image_id="13bd015cbdeb6276", size=5423423, layers=3,
                  seconds=0.84),
        PullEvent(f"{R}/app:latest", PullStatus.STARTED, "Always"),
        PullEvent(f"{R}/app:latest", PullStatus.DONE, "Always", image_id="cc016c3e2d31aaaa", size=999, layers=1,
                  seconds=0.12, changed=False),
        PullEvent(f"{R}/nope:1", PullStatus.STARTED, "IfNotPresent"),
        PullEvent(f"{R}/nope:1", PullStatus.FAILED, "IfNotPresent", seconds=0.05,
                  error=f"not found: {R} has no nope:1 (no such repository, or no such tag in it)"),
    ]
    text = "\n".join(line for e in events if (line := render.pull_line(e)) is not None) + "\n"
    golden = GOLDEN / "pull_plain.txt"
    if not golden.exists() or __import__("os").environ.get("PODSPEC_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_live_lines_show_layers_bytes_and_speed():
    ref = "r/app:1"
    event = PullEvent(ref, PullStatus.PROGRESS, "Always", progress=PullProgress(ref, 3, 1, 2_000_000, 8_000_000))
    assert render.pull_live_text(event, 2.0) == "r/app:1: pulling 1/3 layers, 2 MB of 8 MB, 1 MB/s"
    assert render.size_text(5423423) == "5.42 MB" and render.size_text(999) == "999 B"


# ------------------------------------------------------------------------------------ the CLI


@pytest.fixture
def fake(monkeypatch):
    from podspec.engine.fake import FakeEngine

    images = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
    engine = FakeEngine(pullable=images)
    monkeypatch.setattr("podspec.cli.context.connector", lambda url, connection, identity=None: (lambda: engine))
    monkeypatch.delenv("PODSPEC_PROJECT", raising=False)
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    return engine


def cli(*args: str):
    from typer.testing import CliRunner

    from podspec.cli import app

    return CliRunner().invoke(app, ["apply", "manifests/webserver.yaml", "-p", "demo", *args])


def test_tty_progress_is_one_live_line_per_image_rewritten_in_place(fake):
    result = cli("--progress", "tty", "--parallel-pulls", "1")
    assert result.exit_code == 0, result.stderr
    block = result.stdout.split("\n\x1b[3F")  # each redraw moves up over the three lines drawn
    assert "\x1b[K" in result.stdout
    final = result.stdout[result.stdout.rindex("\x1b[3F"):].split("\n")[:3]
    assert [line.split(" in ")[0].removeprefix("\x1b[3F").removeprefix("\x1b[K") for line in final] == [
        "pulled docker.io/library/alpine:latest", "pulled docker.io/library/busybox:latest",
        "pulled docker.io/library/httpd:2.4"]
    assert len(block) > 1
    assert "pulling 1/1 layer" in result.stdout


def test_plain_quiet_and_json_progress(fake):
    plain = cli("--progress", "plain", "--parallel-pulls", "1")
    assert [line.split(" in ")[0] for line in plain.stdout.splitlines() if line.startswith("pull")] == [
        "pull docker.io/library/alpine:latest (imagePullPolicy IfNotPresent) ...",
        "pulled docker.io/library/alpine:latest",
        "pull docker.io/library/busybox:latest (imagePullPolicy IfNotPresent) ...",
        "pulled docker.io/library/busybox:latest",
        "pull docker.io/library/httpd:2.4 (imagePullPolicy IfNotPresent) ...",
        "pulled docker.io/library/httpd:2.4",
    ]
    assert "\x1b" not in plain.stdout


def test_quiet_and_json_show_no_pulls(monkeypatch):
    from podspec.engine.fake import FakeEngine

    for args in (("--progress", "quiet"), ("-o", "json")):
        engine = FakeEngine(pullable=("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest",
                                      "docker.io/library/busybox:latest"))
        monkeypatch.setattr("podspec.cli.context.connector", lambda url, connection, identity=None, e=engine: (lambda: e))
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
        assert engine.count("pull") == 3
        assert "pull" not in result.stdout.replace('"pull', "") and "pull" not in result.stderr


def test_an_auth_file_reaches_the_pull_and_a_missing_one_is_an_error(fake, tmp_path, monkeypatch):
    (tmp_path / "auth.json").write_text(auth_json("docker.io", "someone", "pw-never-shown"))
    result = cli("--authfile", str(tmp_path / "auth.json"), "--progress", "quiet")
    assert result.exit_code == 0, result.stderr
    assert {user for _, user in fake.pull_users} == {"someone"}
    missing = cli("--authfile", str(tmp_path / "nope.json"))
    assert missing.exit_code == 1
    assert f"cannot read the auth file {tmp_path / 'nope.json'} (from --authfile)" in missing.stderr
    from podspec.engine.fake import FakeEngine

    fresh = FakeEngine(pullable=("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest",
                                 "docker.io/library/busybox:latest"))
    monkeypatch.setattr("podspec.cli.context.connector", lambda url, connection, identity=None: (lambda: fresh))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))
    assert cli("--progress", "quiet").exit_code == 0
    assert {user for _, user in fresh.pull_users} == {"someone"}


# --------------------------------------------------------------------------- imagePullSecrets


def docker_config_secret(name: str, registry: str, user: str, password: str) -> str:
    data = base64.b64encode(auth_json(registry, user, password).encode()).decode()
    return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: kubernetes.io/dockerconfigjson\n"
            f"data:\n  .dockerconfigjson: {data}\n")


PRIVATE_POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: private
spec:
  imagePullSecrets:
    - name: regcred
  containers:
    - name: main
      image: {R}/team/app:1
"""


def test_image_pull_secrets_give_the_pods_images_their_credentials(tmp_path):
    from podspec.loader import load
    from podspec.reconcile.pulls import pull_secret_credentials

    (tmp_path / "m.yaml").write_text(PRIVATE_POD + "---\n" + docker_config_secret("regcred", R, "me", "pw-secret"))
    desired = load([str(tmp_path / "m.yaml")])
    assert desired.warnings == ()  # applied, no longer a cluster-only field
    assert desired.pods[0].image_pull_secrets == ("regcred",)
    found = pull_secret_credentials(desired)
    credential = credential_for(f"{R}/team/app:1", found[f"{R}/team/app:1"])
    assert credential is not None and credential.username == "me" and credential.source == "Secret regcred"
    assert "pw-secret" not in repr(desired)


def test_image_pull_secrets_name_a_docker_config_secret(tmp_path):
    from podspec.errors import ManifestError
    from podspec.loader import load

    (tmp_path / "m.yaml").write_text(PRIVATE_POD)
    with pytest.raises(ManifestError) as caught:
        load([str(tmp_path / "m.yaml")])
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("spec.imagePullSecrets[0].name", "Secret regcred is not defined in the manifests")]
    (tmp_path / "m.yaml").write_text(PRIVATE_POD + "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n"
                                     "stringData:\n  .dockerconfigjson: '{\"auths\": 1}'\n")
    with pytest.raises(ManifestError) as caught:
        load([str(tmp_path / "m.yaml")])
    assert "Secret regcred is of type Opaque, not kubernetes.io/dockerconfigjson" in str(caught.value)


def test_not_found_is_told_apart_by_the_registrys_tag_list():
    from podspec.engine.fake import FakeEngine
    from podspec.errors import ImageUnavailable
    from podspec.model import Container, DesiredState, Pod
    from podspec.run.listener import Recorder
    from podspec.run.pulls import prepare

    engine = FakeEngine(pullable=(f"{R}/app:1", f"{R}/app:2"))
    for image, says, hint in ((f"{R}/app:3", f"{R} has repository app but no tag 3 in it", "use one of its tags (1, 2)"),
                              (f"{R}/other:1", f"{R} has no repository other", "check the repository name")):
        desired = DesiredState(pods=(Pod("p", (Container("main", image, pull_policy=PullPolicy.IF_NOT_PRESENT),)),))
        with pytest.raises(ImageUnavailable) as caught:
            prepare(engine, desired, engine.observe(), Recorder(), pulling=True)
        assert f"not found: {says}" in caught.value.message
        assert caught.value.hint.startswith(hint)
    assert engine.count("list_tags") == 2


def test_the_sync_agent_logs_pulls_start_end_and_failure_not_progress():
    import io

    from podspec.run.sync.log import AgentLog, LogListener

    out = io.StringIO()
    listener = LogListener(AgentLog(out, as_json=True, clock=lambda: 0), "1a2b3c4d5e6f7a8b")
    ref = f"{R}/app:1"
    listener.pull(PullEvent(ref, PullStatus.STARTED, "IfNotPresent"))
    listener.pull(PullEvent(ref, PullStatus.PROGRESS, "IfNotPresent", progress=PullProgress(ref, 1, 0, 0, 0)))
    listener.pull(PullEvent(ref, PullStatus.DONE, "IfNotPresent", image_id="13bd015cbdeb6276", size=5423423,
                            layers=3, seconds=0.84))
    listener.pull(PullEvent(ref, PullStatus.FAILED, "IfNotPresent", seconds=0.1, error="not found: x"))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["event"], e["level"]) for e in events] == [
        ("pull-started", "info"), ("pull-done", "info"), ("pull-failed", "error")]
    assert events[1]["size"] == 5423423 and events[1]["id"] == "13bd015cbdeb" and events[1]["seconds"] == 0.8


PROBED = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: docker.io/library/httpd:2.4
      livenessProbe: {httpGet: {path: /, port: 80}}
      readinessProbe: {tcpSocket: {port: 80}}
    - name: side
      image: docker.io/library/alpine:latest
      livenessProbe: {exec: {command: ["true"]}}
---
apiVersion: v1
kind: Pod
metadata: {name: only-exec}
spec:
  containers:
    - name: main
      image: docker.io/library/alpine:latest
      readinessProbe: {exec: {command: ["true"]}}
"""
HELPER = "127.0.0.1:5000/tools/busybox:1"


def test_the_probe_helpers_image_is_needed_as_the_pods_own_images_are(tmp_path):
    """httpGet and tcpSocket probes are made from a helper container: its image is pulled as the
    kubelet pulls its pause image (IfNotPresent), with the users that need it; exec probes need none."""
    from podspec.loader import load
    from podspec.reconcile.pulls import PullAction, decide, needs

    path = tmp_path / "pods.yaml"
    path.write_text(PROBED)
    desired = load([str(path)])
    found = {n.reference: n for n in needs(desired, ObservedState(), HELPER)}
    assert found[HELPER].policy is PullPolicy.IF_NOT_PRESENT
    assert found[HELPER].users == ("the probe helper of web/app (liveness, readiness probe)",)
    assert decide(found[HELPER], pulling=True) is PullAction.PULL
    assert decide(found[HELPER], pulling=False) is PullAction.ANNOUNCE  # diff, apply --dry-run: said, not pulled
    here = ObservedState(images=(ObservedImage("sha256:1", (HELPER,)),))
    assert not {n.reference: n for n in needs(desired, here, HELPER)}[HELPER].pull  # present: no pull, no call
    assert HELPER not in {n.reference for n in needs(desired, ObservedState())}  # not asked for
    path.write_text(PROBED.split("---")[1])
    assert HELPER not in {n.reference for n in needs(load([str(path)]), ObservedState(), HELPER)}  # exec only


def test_an_unpullable_probe_helper_image_says_how_to_provide_it():
    from podspec.reconcile.pulls import missing_error

    need = ImageNeed(HELPER, PullPolicy.IF_NOT_PRESENT, False, ("the probe helper of web/app (liveness probe)",))
    error = failures_error([(need, classify(HELPER, SAID[FailureKind.UNREACHABLE], R))])
    assert f"image {HELPER} (used by the probe helper of web/app (liveness probe)) is not on the host" in error.message
    assert "PODSPEC_PROBE_IMAGE" in error.hint and error.hint.endswith("nothing was changed")
    assert "PODSPEC_PROBE_IMAGE" in missing_error(need, "").hint
    pod_image = ImageNeed(HELPER, PullPolicy.IF_NOT_PRESENT, False, ("web/app",))
    assert "PODSPEC_PROBE_IMAGE" not in missing_error(pod_image, "").hint


def test_a_docker_hub_image_written_without_library_is_the_one_podman_names_under_library():
    # williampsena/podman-recipes pods/databases.yaml (corpus 3) writes `docker.io/mariadb:10.6` and
    # `docker.io/adminer`; Podman stores and lists them as docker.io/library/...: present, not pulled again.
    observed = ObservedState(images=(ObservedImage("d" * 64, ("docker.io/library/mariadb:10.6",), ()),
                                     ObservedImage("e" * 64, ("docker.io/library/adminer:latest",), ())))
    assert observed.image_id("docker.io/mariadb:10.6") == "d" * 64
    assert observed.image_id("index.docker.io/mariadb:10.6") == "d" * 64
    assert observed.image_id("docker.io/adminer") == "e" * 64
    assert observed.image_id("docker.io/someone/mariadb:10.6") is None  # a user's image is not library's
