"""`podspec validate`: summary and exit 0, every problem on stderr and exit 1, -o json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_valid_manifests_summary():
    # every-field.yaml mounts hostPath /etc/example, which the default policy (baseline) allows only on request.
    result = runner.invoke(app, [
        "validate", "--allow-host-path", "/etc/example",
        "tests/fixtures/valid/anchors.yaml", "tests/fixtures/valid/every-field.yaml",
    ])
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 files, 2 pods, 1 volume claim: valid\n"


def test_singular_summary():
    result = runner.invoke(app, ["validate", "tests/fixtures/valid/tutorial-generate-kube.yaml"])
    assert (result.exit_code, result.stdout) == (0, "1 file, 1 pod, 0 volume claims: valid\n")


def test_invalid_lists_every_problem_on_stderr():
    result = runner.invoke(app, ["validate", "tests/fixtures/invalid/unknown-field.yaml", "tests/fixtures/invalid/kind.yaml"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'tests/fixtures/invalid/kind.yaml:2:7: kind: unsupported kind "StatefulSet" (write it as a Deployment with replicas: 1 (one host keeps one copy), its volumeClaimTemplates as PersistentVolumeClaims and its serviceName as a Service; supported kinds: Pod, PersistentVolumeClaim, ConfigMap, Secret, Service, Deployment, Job)',
        'tests/fixtures/invalid/unknown-field.yaml:9:7: spec.containers[0].imagee: unknown field "imagee" (did you mean image?)',
        'tests/fixtures/invalid/unknown-field.yaml:10:7: spec.containers[0].portz: unknown field "portz" (did you mean ports?)',
        "error: 3 problems in the manifests; fix the fields named above; nothing was changed on the host",
    ]


def test_json_output_of_problems():
    result = runner.invoke(app, ["validate", "-o", "json", "tests/fixtures/invalid/api-version.yaml"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "file": "tests/fixtures/invalid/api-version.yaml", "line": 1, "column": 13, "path": "apiVersion",
        "message": 'unsupported apiVersion "v14l"', "hint": "supported apiVersions: v1",
    }]


def test_json_output_when_valid_is_an_empty_list():
    result = runner.invoke(app, ["validate", "--output", "json", "manifests/webserver.yaml"])
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


def test_stdin():
    text = (ROOT / "tests/fixtures/valid/tutorial-generate-kube.yaml").read_text()
    result = runner.invoke(app, ["validate", "-"], input=text)
    assert (result.exit_code, result.stdout) == (0, "1 file, 1 pod, 0 volume claims: valid\n")
    result = runner.invoke(app, ["validate", "-"], input=text.replace("containerPort: 80", "containerPort: 0"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "<stdin>:39:22: spec.containers[0].ports[0].containerPort: number 0 is below the minimum 1"
    )


@pytest.mark.parametrize("name", ["nul.yaml", "latin1.yaml", "alias-bomb.yaml", "malformed.yaml", "empty.yaml"])
def test_no_traceback_for_input_that_is_not_a_manifest(name):
    result = runner.invoke(app, ["validate", f"tests/fixtures/invalid/{name}"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"tests/fixtures/invalid/{name}")


def test_missing_file():
    result = runner.invoke(app, ["validate", "nope.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "nope.yaml: no such file or directory"


def test_needs_a_path():
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2  # usage error from the command line parser


def test_one_run_lists_schema_build_and_semantic_problems_together():
    result = runner.invoke(app, ["validate", "-o", "json", "tests/fixtures/invalid/one-pass.yaml"])
    assert result.exit_code == 1
    assert [(p["line"], p["column"], p["path"]) for p in json.loads(result.stdout)] == [
        (9, 7, "spec.containers[0].image"),
        (10, 7, "spec.containers[0].imagee"),
        (20, 11, "spec.hostAliases[0].ip"),
        (28, 7, "spec.containers[1].name"),
        (41, 11, "spec.containers[0].ports[0].hostPort"),
        (44, 19, "spec.containers[0].resources.limits.memory"),
        (46, 11, "spec.containers[0].volumeMounts[0].name"),
    ]


def test_redacted_placeholder_is_refused():
    result = runner.invoke(app, ["validate", "-o", "json", "tests/fixtures/invalid/redacted-env.yaml"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0] == {
        "file": "tests/fixtures/invalid/redacted-env.yaml", "line": 13, "column": 18,
        "path": "spec.containers[0].env[1].value",
        "message": "env DB_PASSWORD holds the placeholder (redacted) written by `podspec export`; "
                   "put the real value in (or export again with --show-secrets)",
        "hint": "",
    }


def test_policy_and_manifest_problems_come_in_one_report(tmp_path):
    from typer.testing import CliRunner

    from podspec.cli import app

    path = tmp_path / "two.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n    - {name: c, imagee: busybox}\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: root}\nspec:\n  containers:\n"
        "    - name: c\n      image: busybox:1\n      securityContext: {privileged: true}\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f'{path}:6:17: spec.containers[0].imagee: unknown field "imagee" (did you mean image?)' in result.stderr
    assert f"{path}:15:25: spec.containers[0].securityContext.privileged: baseline: privileged containers are not allowed" in result.stderr
