"""Secrets and ConfigMaps that live on the host (`podspec.io/host-secrets`), on the FakeEngine through
the CLI: read as they are, shown as such in the plan, never changed or removed, refused when absent."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.engine.fake import FakeEngine, FakeSecret
from podspec.loader import load
from tests.unit.fake_cli import cli_on_fake

IMAGE = "docker.io/library/busybox:latest"
runner = CliRunner()

POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations:
    podspec.io/host-secrets: db-password, nginx-conf
spec:
  containers:
    - name: main
      image: {IMAGE}
      imagePullPolicy: IfNotPresent
      volumeMounts:
        - {{name: creds, mountPath: /run/creds}}
        - {{name: conf, mountPath: /etc/nginx/conf.d}}
  volumes:
    - name: creds
      secret:
        secretName: db-password
        items: [{{key: password, path: password}}]
    - name: conf
      configMap:
        name: nginx-conf
        items: [{{key: default.conf, path: default.conf}}]
"""


@pytest.fixture
def engine(monkeypatch) -> FakeEngine:
    fake = cli_on_fake(monkeypatch, (IMAGE,))
    return fake


def hand_made(engine: FakeEngine, name: str, value: bytes) -> None:
    """What `podman secret create NAME FILE` makes: no labels."""
    engine.secrets[name] = FakeSecret(f"id-{name}", name, {}, value)


def values(engine) -> list[str]:
    """The Podman secrets that hold values (not the apply history's records, which are secrets too)."""
    return sorted(n for n in engine.secrets if not n.startswith("podspec-history-"))


def invoke(*args: str):
    return runner.invoke(app, [*args, "-p", "demo"])


def test_host_secrets_are_read_as_they_are_and_never_touched(engine, tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(POD)
    hand_made(engine, "db-password", b"from-the-host")
    hand_made(engine, "nginx-conf", b"server {}")

    diff = invoke("diff", str(path))
    assert diff.exit_code == 2, diff.stderr
    assert "= secret db-password: kept on the host (Secret db-password kept on the host, read by pod app; " \
           "podspec never changes or removes it)" in diff.stdout
    assert "= secret nginx-conf: kept on the host (ConfigMap nginx-conf" in diff.stdout
    as_json = json.loads(invoke("diff", "-o", "json", str(path)).stdout)
    assert [(s["name"], s["action"]) for s in as_json["secrets"]] == [("db-password", "host"), ("nginx-conf", "host")]

    applied = invoke("apply", str(path))
    assert applied.exit_code == 0, applied.stderr
    body = engine.containers["app-main"].body
    assert sorted((f["Source"], f["Target"]) for f in body["secrets"]) == [
        ("db-password", "/run/creds/password"), ("nginx-conf", "/etc/nginx/conf.d/default.conf")]
    # Used as they are: same data, no labels added, nothing else made.
    assert engine.secrets["db-password"].data == b"from-the-host" and engine.secrets["db-password"].labels == {}
    assert values(engine) == ["db-password", "nginx-conf"]

    again = invoke("diff", str(path))
    assert again.exit_code == 0 and "No changes" in again.stdout and "= secret db-password: kept on the host" in again.stdout

    assert invoke("delete", str(path)).exit_code == 0
    assert "app-main" not in engine.containers
    assert values(engine) == ["db-password", "nginx-conf"]  # never removed


def test_a_missing_host_secret_stops_apply_before_any_change(engine, tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(POD)
    hand_made(engine, "nginx-conf", b"server {}")
    result = invoke("apply", str(path))
    assert result.exit_code == 1
    text = result.stdout + result.stderr
    assert "Secret db-password is to be kept on the host (podspec.io/host-secrets of pod app), and there is no " \
           "Podman secret of that name: create it with `podman secret create db-password FILE`" in text
    assert engine.containers == {} and values(engine) == ["nginx-conf"]


def test_a_document_in_the_manifests_wins_over_the_host(engine, tmp_path):
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db-password}\nstringData: {password: from-git}\n---\n"
    path = tmp_path / "app.yaml"
    path.write_text(secret + POD)
    hand_made(engine, "nginx-conf", b"server {}")
    assert invoke("apply", str(path)).exit_code == 0
    sources = {f["Target"]: f["Source"] for f in engine.containers["app-main"].body["secrets"]}
    made = engine.secrets[sources["/run/creds/password"]]
    assert made.data == b"from-git" and made.labels["io.podspec.managed-by"] == "podspec"


def test_validate_needs_no_host_secret_and_checks_the_annotation(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(POD)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "warning" not in result.stderr, result.stderr
    path.write_text(POD.replace("db-password, nginx-conf", "db-password, -bad name!"))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and "'-bad' is not a Podman secret name" in result.stderr


@pytest.mark.parametrize(("change", "said"), [
    ("""        items: [{key: password, path: password}]\n""", "must name the file that holds its value"),
])
def test_a_volume_of_a_host_secret_names_its_file(tmp_path, change, said):
    path = tmp_path / "app.yaml"
    path.write_text(POD.replace(change, ""))
    with pytest.raises(Exception) as caught:
        load([str(path)])
    assert said in str(caught.value) and "items: [{key: db-password, path: FILE}]" in str(caught.value)


def test_env_from_a_host_secret_reads_its_whole_value_and_env_from_every_key_is_refused(tmp_path):
    env = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations: {{podspec.io/host-secrets: db-password}}
spec:
  containers:
    - name: main
      image: {IMAGE}
      env:
        - name: DB_PASSWORD
          valueFrom: {{secretKeyRef: {{name: db-password, key: anything}}}}
"""
    path = tmp_path / "app.yaml"
    path.write_text(env)
    [pod] = load([str(path)]).pods
    [var] = pod.containers[0].env
    assert var.ref is not None and var.ref.host and var.ref.source == "db-password"
    path.write_text(env.replace("""      env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db-password, key: anything}}""", """      envFrom:
        - secretRef: {name: db-password}"""))
    with pytest.raises(Exception) as caught:
        load([str(path)])
    assert "envFrom reads every key of Secret db-password, which lives on the host as one Podman secret" in str(caught.value)


def test_without_the_annotation_a_missing_secret_is_still_an_error(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(POD.replace("    podspec.io/host-secrets: db-password, nginx-conf\n", "    other: x\n"))
    with pytest.raises(Exception) as caught:
        load([str(path)])
    assert "Secret db-password is not defined in the manifests" in str(caught.value)


def test_a_host_secret_made_again_recreates_exactly_its_readers(engine, tmp_path):
    """podspec cannot read its value, but a secret made again has a new ID: that is a change."""
    path = tmp_path / "app.yaml"
    path.write_text(POD + f"""\
---
apiVersion: v1
kind: Pod
metadata:
  name: bystander
spec:
  containers:
    - name: main
      image: {IMAGE}
      imagePullPolicy: IfNotPresent
""")
    hand_made(engine, "db-password", b"one")
    hand_made(engine, "nginx-conf", b"server {}")
    assert invoke("apply", str(path)).exit_code == 0
    before = {name: c.id for name, c in engine.containers.items()}
    assert invoke("diff", str(path)).exit_code == 0

    engine.secrets["db-password"] = FakeSecret("id-db-password-2", "db-password", {}, b"two")
    diff = invoke("diff", str(path))
    assert diff.exit_code == 2 and "container app-main: recreate this container only (secret db-password changed)" in diff.stdout, diff.stdout
    assert invoke("apply", str(path)).exit_code == 0
    after = {name: c.id for name, c in engine.containers.items()}
    assert after["app-main"] != before["app-main"]
    assert {k: v for k, v in after.items() if k != "app-main"} == {k: v for k, v in before.items() if k != "app-main"}
    assert invoke("diff", str(path)).exit_code == 0
