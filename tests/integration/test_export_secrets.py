"""export hides secret-looking env values unless asked (design: redacted in every output)."""

from __future__ import annotations

from typer.testing import CliRunner

from podspec.cli import app
from tests.integration.manifests import podspec, write

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: withsecret
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      env:
        - {name: DB_PASSWORD, value: hunter2}
        - {name: MODE, value: fast}
"""


def test_export_redacts_secret_values_unless_show_secrets(podman, tmp_path):
    assert podspec(podman, "apply", write(tmp_path, POD)).exit_code == 0
    runner = CliRunner()
    hidden = runner.invoke(app, ["export", "withsecret", "--url", podman.url])
    assert hidden.exit_code == 0, hidden.stderr
    assert "hunter2" not in hidden.stdout
    assert "value: (redacted)" in hidden.stdout and "value: fast" in hidden.stdout
    assert "warning: 1 secret-looking value(s) (env values, probe headers) written as (redacted); pass --show-secrets" in hidden.stderr

    shown = runner.invoke(app, ["export", "withsecret", "--show-secrets", "--url", podman.url])
    assert shown.exit_code == 0
    assert "value: hunter2" in shown.stdout
    assert "secret-looking" not in shown.stderr
