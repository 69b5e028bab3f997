"""Manifest texts and CLI helpers shared by the integration tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from podspec.cli import app

SIDECAR = 'while true; do echo "Index Updated @$(date)" >> /usr/local/apache2/htdocs/index.html; sleep 10; done'
PROJECT = "itest"


def webserver(
    port: int,
    sidecar: str = SIDECAR,
    httpd_extra: str = "",
    name: str = "dynamic-webserver",
    volume: str = "webserver-data",
) -> str:
    """The tutorial's manifest (as manifests/webserver.yaml), with knobs for the tests."""
    return f"""\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {volume}
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  annotations:
    io.podman.annotations.init.container.type: always
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: apache-httpd-init
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "echo 'Static Website Init' > /usr/local/apache2/htdocs/index.html"]
      volumeMounts:
        - {{name: data, mountPath: /usr/local/apache2/htdocs}}
  containers:
    - name: apache-httpd
      image: docker.io/library/httpd:2.4
      ports:
        - {{containerPort: 80, hostPort: {port}}}
      volumeMounts:
        - {{name: data, mountPath: /usr/local/apache2/htdocs}}
{httpd_extra}
    - name: apache-httpd-index-updater
      image: docker.io/library/alpine:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", {json.dumps(sidecar)}]
      volumeMounts:
        - {{name: data, mountPath: /usr/local/apache2/htdocs}}
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: {volume}
"""


def sleeper(name: str, port: int | None = None) -> str:
    ports = f"\n      ports:\n        - {{containerPort: 80, hostPort: {port}}}" if port else ""
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]{ports}
"""


@dataclass
class Result:
    exit_code: int
    output: str  # stdout
    stderr: str


# kube play's volumes-from annotation (its own e2e test's shape): the reader mounts the writer's volumes.
VOLUMES_FROM = """\
apiVersion: v1
kind: Pod
metadata:
  name: share
  annotations:
    io.podman.annotations.volumes-from/reader: "writer:ro"
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: writer
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: [sh, -c, "echo shared > /data/note; sleep 3600"]
      volumeMounts: [{name: data, mountPath: /data}]
    - name: reader
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: [sleep, "3600"]
  volumes:
    - {name: data, persistentVolumeClaim: {claimName: shared-data}}
"""


def podspec(podman, *args: str, project: str = PROJECT) -> Result:
    """Run podspec in-process against the private Podman."""
    runner = CliRunner()
    command, rest = args[0], list(args[1:])
    extra = ["--url", podman.url]
    if command != "validate":
        extra += ["--project", project]
    result = runner.invoke(app, [command, *rest, *extra], catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def write(tmp_path: Path, text: str, name: str = "pods.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def ids(podman) -> dict[str, str]:
    """Container name -> ID, every container in the private Podman (infra included)."""
    out = podman.podman("ps", "-a", "--format", "{{.Names}} {{.ID}}").stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def infra_id(podman, pod: str) -> str:
    return podman.podman("pod", "inspect", pod, "--format", "{{.InfraContainerID}}").stdout.strip()
