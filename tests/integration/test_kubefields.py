"""What real applications' files need beyond Pods and ClusterIP Services (issue 22), on the real
private Podman: fieldRef spec.nodeName is the host's name as Podman reports it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from podspec.cli import app

PROJECT = "kubefields-test"

NODE = """\
apiVersion: v1
kind: Pod
metadata: {name: node-env}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: docker.io/library/busybox:latest
    command: [sleep, "100000"]
    env:
    - name: MY_NODE_NAME
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
"""


def run(podman, *args: str, project: str = PROJECT):
    extra = ["--url", podman.url, "--project", project] if args[0] in ("apply", "diff") else ["--url", podman.url]
    return CliRunner().invoke(app, [*args, *extra], catch_exceptions=False)


def test_node_name_is_the_hostname_podman_reports(podman, tmp_path: Path):
    manifest = tmp_path / "node.yaml"
    manifest.write_text(NODE)
    applied = run(podman, "apply", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    hostname = podman.podman("info", "--format", "{{.Host.Hostname}}").stdout.strip()
    assert hostname
    assert podman.podman("exec", "node-env-app", "sh", "-c", "echo $MY_NODE_NAME").stdout.strip() == hostname
    again = run(podman, "diff", str(manifest))
    assert again.exit_code == 0, again.stdout
