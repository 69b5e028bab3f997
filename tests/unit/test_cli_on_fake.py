"""The CLI against the FakeEngine: flags reach the workflow, results become the documented output and
exit codes (0 none, 2 changes pending, 1 error), and nothing but typer's own test runner is used."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.engine.fake import FakeEngine
from podspec.plan import StepKind
from tests.unit.fake_cli import cli_on_fake

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
POD = "dynamic-webserver"
TUTORIAL = "manifests/webserver.yaml"
runner = CliRunner()


@pytest.fixture
def engine(monkeypatch) -> FakeEngine:
    fake = cli_on_fake(monkeypatch, IMAGES)
    return fake


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_diff_then_apply_then_diff_exit_codes(engine):
    assert invoke("diff", TUTORIAL, "-p", "demo").exit_code == 2
    dry = invoke("apply", "--dry-run", TUTORIAL, "-p", "demo")
    assert dry.exit_code == 2 and "Plan: 8 steps" in dry.stdout
    applied = invoke("apply", TUTORIAL, "-p", "demo")
    assert applied.exit_code == 0, applied.stderr
    assert "Applied: 3 to create" in applied.stdout
    assert f"[7/8] start pod {POD}: done" in applied.stdout
    again = invoke("apply", TUTORIAL, "-p", "demo")
    assert again.exit_code == 0 and again.stdout.rstrip().endswith("Nothing to do.")
    assert invoke("diff", TUTORIAL, "-p", "demo").exit_code == 0


def test_apply_json_shape(engine):
    result = invoke("apply", TUTORIAL, "-p", "demo", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert sorted(data) == ["diff", "history", "plan", "project", "result", "revision", "version", "warnings"]
    assert data["result"] == {"status": "applied", "steps_done": 8}
    assert data["plan"][0] == {"action": "create_volume", "resource": "volume:webserver-data",
                               "target": "webserver-data", "lane": None, "cause": "not on the host"}


def test_a_failed_step_exits_1_saying_what_was_and_was_not_done(engine):
    engine.fail(StepKind.START_POD, POD, "cannot listen on the TCP port: address already in use")
    result = invoke("apply", TUTORIAL, "-p", "demo")
    assert result.exit_code == 1
    assert "error: step 7/8 failed: start pod dynamic-webserver" in result.stderr
    assert "done: 6 step(s); not done: create volume podspec-names.demo" in result.stderr
    assert "another process or pod holds that host port" in result.stderr
    data = json.loads(invoke("apply", TUTORIAL, "-p", "demo", "-o", "json").stdout)
    assert data["result"]["status"] == "applied"  # the next run converges: only the start was left


def test_status_and_delete(engine):
    invoke("apply", TUTORIAL, "-p", "demo")
    data = json.loads(invoke("status", "-o", "json").stdout)
    assert [(p["name"], p["project"], p["drift"]) for p in data["pods"]] == [(POD, "demo", [])]
    deleted = invoke("delete", TUTORIAL, "-p", "demo")
    assert deleted.exit_code == 0
    assert "Volumes kept: webserver-data (pass --volumes to remove them)." in deleted.stdout
    assert invoke("status").stdout.strip() == "No pods managed by podspec."


def test_export_writes_the_file_it_is_given(engine, tmp_path):
    invoke("apply", TUTORIAL, "-p", "demo")
    target = tmp_path / "out.yaml"
    result = invoke("export", POD, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {target}: 1 pod(s), 1 volume claim(s)" in result.stderr
    assert "kind: Pod" in target.read_text()


def test_export_o_json_is_a_clear_usage_error(engine):
    result = invoke("export", POD, "-o", "json")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: -o names the file to write; for JSON output pass --format json")
    assert engine.calls == []


def test_errors_in_json_mode_are_json(engine):
    result = invoke("apply", TUTORIAL, "-p", "demo", "--prune-volumes", "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["type"] == "UsageError"


CLUSTER_ONLY = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  nodeSelector: {disktype: ssd}
  containers:
    - name: app
      image: docker.io/library/busybox:latest
"""


def test_cluster_only_fields_are_warnings_and_strict_makes_them_errors(engine, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(CLUSTER_ONLY)
    shown = invoke("diff", str(manifest), "-p", "demo")
    assert shown.exit_code == 2
    assert f"warning: {manifest}:5:3: metadata.namespace:" in shown.stderr
    assert f"warning: {manifest}:7:3: spec.nodeSelector:" in shown.stderr
    data = json.loads(invoke("apply", str(manifest), "-p", "demo", "-o", "json").stdout)
    assert [(w["line"], w["path"]) for w in data["warnings"]] == [(5, "metadata.namespace"), (7, "spec.nodeSelector")]
    assert data["diff"]["warnings"] == data["warnings"]
    engine.calls.clear()
    strict = invoke("apply", "--strict", str(manifest), "-p", "demo")
    assert strict.exit_code == 1
    assert f"{manifest}:7:3: spec.nodeSelector:" in strict.stderr
    assert engine.changes() == [], "nothing is changed when the manifests are refused"
    valid = invoke("validate", str(manifest))
    assert valid.exit_code == 0 and "warning:" in valid.stderr
    assert invoke("validate", "--strict", str(manifest)).exit_code == 1


USES_SETTINGS = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: docker.io/library/httpd:2.4
    envFrom:
    - configMapRef: {name: settings}
"""


def test_validate_checks_a_file_alone_and_diff_needs_the_configmap_it_reads(engine, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(USES_SETTINGS)
    valid = invoke("validate", str(manifest))
    assert valid.exit_code == 0, valid.stderr
    assert (f"warning: {manifest}:10:22: spec.containers[0].envFrom[0].configMapRef.name: ConfigMap settings is not "
            "defined in these manifests: diff and apply need its document among the manifests they read") in valid.stderr
    assert invoke("validate", "--strict", str(manifest)).exit_code == 1
    engine.calls.clear()
    for command in ("diff", "apply"):
        refused = invoke(command, str(manifest), "-p", "demo")
        assert refused.exit_code == 1
        assert f"{manifest}:10:22: spec.containers[0].envFrom[0].configMapRef.name: ConfigMap settings is not defined " \
               "in the manifests" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert engine.changes() == [], "nothing is changed when the manifests are refused"
    settings = tmp_path / "settings.yaml"
    settings.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {MODE: fast}\n")
    assert invoke("diff", str(manifest), str(settings), "-p", "demo").exit_code == 2
    assert invoke("apply", str(tmp_path), "-p", "demo").exit_code == 0
