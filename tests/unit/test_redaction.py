"""Issue 27: a value that may be secret (a Secret's data, an env var, a probe header, a
secret-looking ConfigMap key, label or annotation) is never quoted by a message, in any output of
validate (text, json, markdown, GitHub annotations)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from podspec.cli import app

SECRET = "hunter2-Zq9"
NUMBER = "424242"

CASES = {
    "Secret stringData as a number": f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData:
  password: {NUMBER}
""",
    "Secret stringData as a mapping": f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData:
  password: {{{SECRET}: x}}
""",
    "Secret data with a bad YAML tag": f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db}}
data:
  password: !!int {SECRET}
""",
    "env value as a number": f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  containers:
    - name: app
      image: alpine
      env:
        - {{name: DATABASE_URL, value: {NUMBER}}}
""",
    "env entry that is a string": f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  containers:
    - name: app
      image: alpine
      env:
        - "PASSWORD={SECRET}"
""",
    "env in a Deployment with a bad tag": f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: app
          image: alpine
          env:
            - {{name: TOKEN, value: !!float {SECRET}}}
""",
    "probe header": f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  containers:
    - name: app
      image: alpine
      livenessProbe:
        httpGet:
          path: /
          port: 80
          httpHeaders:
            - {{name: Authorization, value: {NUMBER}}}
""",
    "secret-looking ConfigMap key": f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: cfg}}
data:
  API_KEY: {NUMBER}
""",
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("output", ["text", "json", "markdown", "github"])
def test_a_secret_value_is_named_by_its_type_never_quoted(tmp_path, case, output):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(CASES[case])
    result = CliRunner().invoke(app, ["validate", str(manifest), "-o", output])
    shown = result.stdout + result.stderr
    assert result.exit_code == 1, shown
    assert "bad.yaml" in shown  # the problem is reported, and where
    assert SECRET not in shown and NUMBER not in shown, shown


def test_other_values_are_still_quoted(tmp_path):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  restartPolicy: Sometimes\n"
                        "  containers: [{name: app, image: alpine}]\n")
    result = CliRunner().invoke(app, ["validate", str(manifest)])
    assert '"Sometimes"' in result.stdout + result.stderr


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("output", ["text", "json", "markdown", "github"])
def test_no_check_quotes_a_secret_value_not_only_the_schemas(tmp_path, strict, output):
    """Any check of the loader (here the portability warning on a label value a Kubernetes API
    server refuses) goes through the one scrub: a value that may be secret is not quoted, as a
    warning or (--strict) an error."""
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
                        f"  labels: {{API_KEY: '{SECRET} with spaces', tier: 'front end'}}\n"
                        "spec:\n  containers: [{name: app, image: alpine}]\n")
    result = CliRunner().invoke(app, ["validate", str(manifest), "-o", output, *(["--strict"] if strict else [])])
    shown = result.stdout + result.stderr
    assert result.exit_code == (1 if strict else 0), shown
    assert "metadata.labels.API_KEY" in shown and SECRET not in shown, shown
    assert "front end" in shown  # a value under a plain key is still quoted
