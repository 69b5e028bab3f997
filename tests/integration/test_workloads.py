"""Deployments and Jobs against the private Podman: the pod template becomes one pod named as
`podman kube play` names it (<name>-pod), and further replicas <name>-pod-1, ...; replicas 0
removes them and keeps their volumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import fetch, free_port
from tests.integration.manifests import podspec, write
from tests.integration.sync_helpers import wait_until

pytestmark = pytest.mark.podman


def deployment(port: int, replicas: int = 1) -> str:
    # The shape of the Deployment examples in the Kubernetes documentation, with a claim.
    return f"""\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: web-data
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  strategy: {{type: Recreate}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: docker.io/library/httpd:2.4
          ports:
            - {{containerPort: 80, hostPort: {port}}}
          volumeMounts:
            - {{name: data, mountPath: /usr/local/apache2/htdocs}}
      volumes:
        - name: data
          persistentVolumeClaim: {{claimName: web-data}}
"""


def test_a_deployment_applies_and_scaling_to_zero_and_back_keeps_its_volume(podman, tmp_path):
    port = free_port()
    path = write(tmp_path, deployment(port))
    result = podspec(podman, "apply", path)
    assert result.exit_code == 0, result.stderr
    assert "strategy" in open(path).read() and "spec.strategy" not in result.stderr  # honoured (reconcile/rollout.py)
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == ["web-pod"]
    assert "It works!" in fetch(f"http://127.0.0.1:{port}/")
    podman.podman("exec", "web-pod-httpd", "sh", "-c", "echo kept > /usr/local/apache2/htdocs/kept.txt")

    write(tmp_path, deployment(port, replicas=0))
    data = json.loads(podspec(podman, "diff", "-o", "json", path).output)
    assert [(p["name"], p["action"], p["cause"]) for p in data["pods"]] == [
        ("web-pod", "remove", "Deployment web has replicas: 0")
    ]
    result = podspec(podman, "apply", path)
    assert result.exit_code == 0, result.stderr
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == []
    assert "web-data" in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert podspec(podman, "diff", path).exit_code == 0  # absent, as asked

    write(tmp_path, deployment(port, replicas=1))
    result = podspec(podman, "apply", path)
    assert result.exit_code == 0, result.stderr
    assert fetch(f"http://127.0.0.1:{port}/kept.txt").strip() == "kept"
    assert podspec(podman, "diff", path).exit_code == 0


def test_replicas_with_a_host_port_are_refused_with_a_pointer_to_kubernetes(podman, tmp_path):
    path = write(tmp_path, deployment(free_port(), replicas=3))
    result = podspec(podman, "apply", path)
    assert result.exit_code == 1
    assert "spec.replicas: 3 replicas with hostPort" in result.stderr
    assert "copies on one Podman host would take the same host port" in result.stderr
    assert "run this Deployment on Kubernetes" in result.stderr
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == []


REPLICAS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: workers
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: workers}}
  template:
    metadata:
      labels: {{app: workers}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: worker
          image: docker.io/library/busybox:latest
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "echo $POD >> /shared/seen; sleep 100000"]
          env:
            - name: POD
              valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
          volumeMounts:
            - {{name: shared, mountPath: /shared}}
      volumes:
        - name: shared
          persistentVolumeClaim: {{claimName: workers-shared}}
"""


def test_replicas_without_host_ports_run_as_copies_and_scale_down_keeps_the_volume(podman, tmp_path):
    path = write(tmp_path, REPLICAS.format(replicas=3))
    applied = podspec(podman, "apply", path)
    assert applied.exit_code == 0, applied.output + applied.stderr
    pods = sorted(podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split())
    assert pods == ["workers-pod", "workers-pod-1", "workers-pod-2"]
    for pod in pods:  # each copy knows its own name, and all share the claim
        assert f"POD={pod}" in podman.podman("exec", f"{pod}-worker", "env").stdout
    seen = podman.podman("exec", "workers-pod-worker", "cat", "/shared/seen").stdout.split()
    assert sorted(seen) == pods
    assert podspec(podman, "diff", path).exit_code == 0

    first = podman.podman("pod", "inspect", "workers-pod", "--format", "{{.ID}}").stdout.strip()
    path = write(tmp_path, REPLICAS.format(replicas=1))
    scaled = podspec(podman, "apply", path)
    assert scaled.exit_code == 0, scaled.output + scaled.stderr
    assert "Deployment workers has replicas: 1" in scaled.output
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == ["workers-pod"]
    assert podman.podman("pod", "inspect", "workers-pod", "--format", "{{.ID}}").stdout.strip() == first  # untouched
    assert "workers-shared" in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert podspec(podman, "diff", path).exit_code == 0


JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  backoffLimit: 4
  template:
    spec:
      restartPolicy: {policy}
      terminationGracePeriodSeconds: 1
      containers:
        - name: step
          image: docker.io/library/busybox:latest
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "echo migrated"]
"""


def finished(podman, name: str) -> dict | None:
    """The container's inspect once it has ended (Podman 5 may say "stopped"), else None."""
    inspect = json.loads(podman.podman("inspect", name).stdout)[0]
    return inspect if inspect["State"]["Status"] in ("exited", "stopped") else None


def test_a_job_runs_once_and_a_finished_job_is_not_drift(podman, tmp_path):
    path = write(tmp_path, JOB.format(policy="Never"))
    result = podspec(podman, "apply", "--wait", path)
    assert result.exit_code == 0, result.stderr
    assert "spec.backoffLimit: backoffLimit is ignored on a single Podman host" in result.stderr
    # --wait returns once the job's container runs (or has ended); it ends by itself, boundedly
    inspect = wait_until(lambda: finished(podman, "migrate-pod-step"), 30, "the job's container ended")
    assert inspect["State"]["ExitCode"] == 0
    assert inspect["HostConfig"]["RestartPolicy"]["Name"] == "no"
    assert podman.podman("logs", "migrate-pod-step").stdout.strip() == "migrated"
    assert podspec(podman, "diff", path).exit_code == 0



CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "FilBot3-nextcloud-podman-kube"


def test_a_deployment_from_the_corpus_applies_and_keeps_its_volume_through_replicas_0(podman, tmp_path):
    """separate-pods/ of FilBot3/nextcloud-podman-kube as published: a Deployment (mariadb, a claim,
    /etc/localtime from the host, env from a ConfigMap beside it). mariadb is a stand-in here: busybox
    that sleeps (nothing is pulled)."""
    made = podman.podman("create", "--name", "stand-in", "docker.io/library/busybox:latest", "true").stdout.strip()
    podman.podman("commit", "--change", 'CMD ["sleep", "100000"]', made, "docker.io/library/mariadb:latest")
    podman.podman("rm", made)
    files = tmp_path / "separate-pods"
    files.mkdir()
    for source in CORPUS.glob("*.yaml"):
        (files / source.name).write_text(source.read_text())
    deployment = files / "separate-pods__mariadb-deployment.yaml"
    flags = ("--allow-host-path", "/etc/localtime")

    result = podspec(podman, "apply", *flags, str(files))
    assert result.exit_code == 0, result.stderr
    pod, container = "mariadd-deployment-pod", "mariadd-deployment-pod-mariadb-container"
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == [pod]
    env = podman.podman("exec", container, "env").stdout
    assert "MYSQL_DATABASE=nextcloud" in env and "MYSQL_PASSWORD=supersecertpassword" in env  # from the ConfigMap
    assert "supersecertpassword" not in result.output  # a secret-looking name: redacted in every output
    podman.podman("exec", container, "sh", "-c", "echo kept > /var/lib/mysql/kept")

    deployment.write_text(deployment.read_text().replace("replicas: 1", "replicas: 0"))
    result = podspec(podman, "apply", *flags, str(files))
    assert result.exit_code == 0, result.stderr
    assert "Deployment mariadd-deployment has replicas: 0" in result.output
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == []
    assert "mariadb-pvc" in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()

    deployment.write_text(deployment.read_text().replace("replicas: 0", "replicas: 1"))
    result = podspec(podman, "apply", *flags, str(files))
    assert result.exit_code == 0, result.stderr
    assert podman.podman("exec", container, "cat", "/var/lib/mysql/kept").stdout.strip() == "kept"
    assert podspec(podman, "diff", *flags, str(files)).exit_code == 0
