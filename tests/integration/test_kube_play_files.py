"""A file written for `podman kube play`, with Kubernetes-example fields, applies as Podman runs it.

Against the private Podman: a pod named with capitals, `protocol: tcp`, `imagePullPolicy: missing`,
a label value with spaces, an extended resource, an HTTP probe with headers, a second probe that
differs, and an nfs volume (cluster storage: the pod's own named volume here). Every such value is a
warning on stderr; the pod serves its page through the published port; a second apply changes
nothing; the volume survives `podspec delete`; the export re-applies unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from podspec.cli import app
from tests.conftest import fetch, free_port

pytestmark = pytest.mark.podman

PROJECT = "kube-play-files"

MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: playPod
  labels: {role: "web front end"}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/library/httpd:2.4
      imagePullPolicy: missing
      ports:
        - {containerPort: 80, hostPort: PORT, protocol: tcp}
      livenessProbe:
        httpGet:
          path: /
          port: 80
          httpHeaders: [{name: X-Probe, value: podspec}]
        periodSeconds: 30
      readinessProbe:
        tcpSocket: {port: 80}
      resources:
        limits: {example.com/dongle: 1, memory: 64Mi}
      volumeMounts:
        - {name: site, mountPath: /usr/local/apache2/htdocs}
  volumes:
    - name: site
      nfs: {server: nfs.example.com, path: /exports/site}
"""


def run(podman, *args: str):
    extra = ["--project", PROJECT] if args[0] in ("apply", "diff", "delete") else []
    return CliRunner().invoke(app, [*args, "--url", podman.url, *extra], catch_exceptions=False)


def test_a_kube_play_file_applies_as_podman_runs_it(podman, tmp_path: Path):
    port = free_port()
    manifest = tmp_path / "play.yaml"
    manifest.write_text(MANIFEST.replace("PORT", str(port)))

    applied = run(podman, "apply", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    for said in ("name 'playPod' is taken by Podman but refused by a Kubernetes API server",
                 "label value 'web front end' is taken by Podman",
                 "imagePullPolicy 'missing' is taken by Podman", "protocol 'tcp' is taken by Podman",
                 "resource example.com/dongle is ignored on a single Podman host",
                 "nfs is cluster storage: on a single Podman host this volume is the Podman named volume playPod-site"):
        assert said in applied.stderr, said

    web = json.loads(podman.podman("container", "inspect", "playPod-web").stdout)[0]
    assert not (web["Config"].get("Healthcheck") or {}).get("Test")  # httpGet: made from outside, no curl inside
    pod = json.loads(podman.podman("pod", "inspect", "playPod").stdout)
    pod = pod[0] if isinstance(pod, list) else pod  # Podman 4.3 gives one object, 5 a list
    assert pod["Labels"]["role"] == "web front end"
    site = next(m for m in web["Mounts"] if m["Destination"] == "/usr/local/apache2/htdocs")
    assert site["Name"] == "playPod-site"
    podman.podman("exec", "playPod-web", "sh", "-c", "echo from-the-volume > /usr/local/apache2/htdocs/index.html")
    assert fetch(f"http://127.0.0.1:{port}/", until=lambda body: "from-the-volume" in body) == "from-the-volume\n"

    ids = podman.podman("ps", "-a", "--format", "{{.ID}}").stdout.split()
    again = run(podman, "apply", str(manifest))
    assert again.exit_code == 0 and "Nothing to do" in again.stdout, again.stdout
    assert podman.podman("ps", "-a", "--format", "{{.ID}}").stdout.split() == ids

    exported = run(podman, "export", "playPod", "-o", str(tmp_path / "export.yaml"))
    assert exported.exit_code == 0, exported.stderr
    text = (tmp_path / "export.yaml").read_text()
    assert "httpHeaders:" in text and "X-Probe" in text and "claimName: playPod-site" in text
    diff = run(podman, "diff", str(tmp_path / "export.yaml"))
    assert diff.exit_code == 0, diff.stdout + diff.stderr

    deleted = run(podman, "delete", str(manifest))
    assert deleted.exit_code == 0, deleted.stdout + deleted.stderr
    assert podman.podman("pod", "exists", "playPod", check=False).returncode == 1
    assert "playPod-site" in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()


SIDECAR = """\
apiVersion: v1
kind: Pod
metadata:
  name: sidecars
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: prepare
      image: docker.io/library/busybox:latest
      command: [sh, -c, "echo prepared > /work/log"]
      volumeMounts: [{name: work, mountPath: /work}]
    - name: shipper
      image: docker.io/library/busybox:latest
      restartPolicy: Always
      command: [sh, -c, "echo shipping >> /work/log; sleep 100000"]
      volumeMounts: [{name: work, mountPath: /work}]
  containers:
    - name: app
      image: docker.io/library/busybox:latest
      command: [sh, -c, "sleep 100000"]
      volumeMounts: [{name: work, mountPath: /work}]
  volumes:
    - name: work
      emptyDir: {}
"""


def test_a_sidecar_init_container_runs_beside_the_app(podman, tmp_path: Path):
    manifest = tmp_path / "sidecars.yaml"
    manifest.write_text(SIDECAR)
    applied = run(podman, "apply", "--wait", "--timeout", "60", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "init container shipper is a sidecar (restartPolicy: Always)" in applied.stderr
    for name in ("sidecars-shipper", "sidecars-app"):
        assert podman.podman("inspect", name, "--format", "{{.State.Status}}").stdout.strip() == "running"
    log = podman.podman("exec", "sidecars-app", "cat", "/work/log").stdout.split()
    assert log == ["prepared", "shipping"]  # the init container ran first
    assert run(podman, "diff", str(manifest)).exit_code == 0


POD_RESOURCES = """\
apiVersion: v1
kind: Pod
metadata:
  name: budget
spec:
  terminationGracePeriodSeconds: 1
  resources:
    limits: {cpu: 500m, memory: 200Mi}
    requests: {cpu: 250m, memory: 100Mi}
  containers:
    - name: a
      image: docker.io/library/busybox:latest
      command: [sleep, "100000"]
    - name: b
      image: docker.io/library/busybox:latest
      command: [sleep, "100000"]
"""


def test_pod_level_resources_limit_the_pods_cgroup_and_export_back(podman, tmp_path: Path):
    manifest = tmp_path / "budget.yaml"
    manifest.write_text(POD_RESOURCES)
    applied = run(podman, "apply", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    pod = json.loads(podman.podman("pod", "inspect", "budget").stdout)
    pod = pod[0] if isinstance(pod, list) else pod
    assert (pod["memory_limit"], pod["cpu_quota"], pod["cpu_period"]) == (200 * 2**20, 50000, 100000)
    cgroup = Path("/sys/fs/cgroup/memory") / pod["CgroupPath"].lstrip("/") / "memory.limit_in_bytes"
    if cgroup.exists():  # cgroup v1 with cgroupfs, as on these machines
        assert cgroup.read_text().strip() == str(200 * 2**20)
    assert run(podman, "diff", str(manifest)).exit_code == 0

    exported = run(podman, "export", "budget", "-o", str(tmp_path / "export.yaml"))
    assert exported.exit_code == 0, exported.stderr
    spec = yaml.safe_load((tmp_path / "export.yaml").read_text())["spec"]
    assert spec["resources"] == {"limits": {"cpu": "500m", "memory": "200Mi"}, "requests": {"cpu": "250m", "memory": "100Mi"}}
    assert run(podman, "diff", str(tmp_path / "export.yaml")).exit_code == 0


DOWNWARD = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: s3cr3t-dw}
---
apiVersion: v1
kind: Pod
metadata:
  name: dapi
  labels: {zone: {zone}, app: dapi}
  annotations: {builder: team-a}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: client
      image: docker.io/library/busybox:latest
      command: [sleep, "100000"]
      resources:
        limits: {memory: 64Mi}
      volumeMounts:
        - {name: podinfo, mountPath: /etc/podinfo}
        - {name: all-in-one, mountPath: /projected, readOnly: true}
  volumes:
    - name: podinfo
      downwardAPI:
        items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
          - {path: name, fieldRef: {fieldPath: metadata.name}}
          - path: mem_limit
            resourceFieldRef: {containerName: client, resource: limits.memory, divisor: 1Mi}
    - name: all-in-one
      projected:
        sources:
          - configMap: {name: settings, items: [{key: mode, path: config/mode}]}
          - secret: {name: creds}
          - downwardAPI: {items: [{path: zone, fieldRef: {fieldPath: "metadata.labels['zone']"}}]}
          - serviceAccountToken: {path: token, expirationSeconds: 3600}
"""


@pytest.fixture
def secrets_cleared(podman):
    """The sandbox's purge leaves Podman secrets (the files of these volumes): remove them after."""
    yield podman
    podman.podman("secret", "rm", "--all", check=False)


def test_downward_api_and_projected_volumes_show_the_pods_fields_and_sources(secrets_cleared, tmp_path: Path):
    podman = secrets_cleared
    manifest = tmp_path / "dapi.yaml"
    manifest.write_text(DOWNWARD.replace("{zone}", "east"))
    applied = run(podman, "apply", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "serviceAccountToken is ignored on a single Podman host" in applied.stderr

    def cat(path: str) -> str:
        return podman.podman("exec", "dapi-client", "cat", path).stdout

    assert cat("/etc/podinfo/labels") == 'app="dapi"\nzone="east"'
    assert cat("/etc/podinfo/annotations") == 'builder="team-a"'
    assert cat("/etc/podinfo/name") == "dapi"
    assert cat("/etc/podinfo/mem_limit") == "64"
    assert cat("/projected/config/mode") == "fast" and cat("/projected/token") == "s3cr3t-dw"
    assert cat("/projected/zone") == "east"
    assert run(podman, "diff", str(manifest)).exit_code == 0

    exported = run(podman, "export", "dapi", "-o", str(tmp_path / "export.yaml"))
    assert exported.exit_code == 0, exported.stderr
    text = (tmp_path / "export.yaml").read_text()
    assert "s3cr3t-dw" not in text and "downwardAPI:" in text and "projected:" in text
    (tmp_path / "sources.yaml").write_text(DOWNWARD.split("---\napiVersion: v1\nkind: Pod")[0])
    again = run(podman, "diff", str(tmp_path / "export.yaml"), str(tmp_path / "sources.yaml"))
    assert again.exit_code == 0, text + again.stdout + again.stderr

    # A label the files show changes (a pod's labels: the pod is replaced), and the files follow.
    manifest.write_text(DOWNWARD.replace("{zone}", "west"))
    changed = run(podman, "apply", str(manifest))
    assert changed.exit_code == 0, changed.stdout + changed.stderr
    assert "1 to replace" in changed.stdout
    assert cat("/projected/zone") == "west" and cat("/etc/podinfo/labels") == 'app="dapi"\nzone="west"'
    assert run(podman, "diff", str(manifest)).exit_code == 0


# Shaped after williampsena/podman-recipes pods/databases.yaml (corpus 3): Docker Hub images written
# `docker.io/NAME`, which Podman stores and lists as docker.io/library/NAME.
HUB_SHORT = """\
apiVersion: v1
kind: Pod
metadata:
  name: hubshort
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/httpd:2.4
      ports:
        - {containerPort: 80, hostPort: PORT}
    - name: tool
      image: docker.io/busybox
      command: [sh, -c, "sleep 100000"]
"""


def test_docker_hub_images_written_without_library_are_the_local_ones(podman, tmp_path: Path):
    port = free_port()
    manifest = tmp_path / "hub.yaml"
    manifest.write_text(HUB_SHORT.replace("PORT", str(port)))

    applied = run(podman, "apply", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "is not on the host" not in applied.stderr
    # httpd:2.4 (IfNotPresent) is present: no pull at all; busybox (latest: Always) cannot be pulled
    # here (the registry is blocked), and the present one is used with a warning.
    assert "pull docker.io/httpd:2.4" not in applied.stdout + applied.stderr
    assert fetch(f"http://127.0.0.1:{port}/") == "<html><body><h1>It works!</h1></body></html>\n"
    local = json.loads(podman.podman("image", "inspect", "docker.io/library/busybox:latest").stdout)[0]["Id"]
    tool = json.loads(podman.podman("container", "inspect", "hubshort-tool").stdout)[0]
    assert tool["Image"] == local

    again = run(podman, "apply", str(manifest))
    assert again.exit_code == 0 and "Nothing to do" in again.stdout, again.stdout + again.stderr


# Shaped after stefan-langenmaier/pi-deployments dns/dns.yml (corpus 3): hostPath volumes of no type
# that name directories of the author's host.
ABSENT_HOST_PATH = """\
apiVersion: v1
kind: Pod
metadata:
  name: absentpath
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: service
      image: docker.io/library/busybox:latest
      command: [sh, -c, "sleep 100000"]
      volumeMounts:
        - {name: config, mountPath: /config}
  volumes:
    - name: config
      hostPath:
        path: HOSTPATH
"""


def test_a_host_path_that_is_not_there_is_named_with_how_to_fix_it(podman, tmp_path: Path):
    absent = tmp_path / "home" / "pi" / "dyndns-config"
    manifest = tmp_path / "dns.yaml"
    manifest.write_text(ABSENT_HOST_PATH.replace("HOSTPATH", str(absent)))

    applied = run(podman, "apply", "--policy", "privileged", str(manifest))
    assert applied.exit_code == 1
    assert f"statfs {absent}: no such file or directory" in applied.stderr
    assert ("a hostPath volume's path does not exist on the host: create it there, or set the volume's hostPath "
            "type to DirectoryOrCreate or FileOrCreate") in applied.stderr
    assert podman.podman("container", "exists", "absentpath-service", check=False).returncode == 1

    absent.mkdir(parents=True)  # as the hint says: the next apply converges
    again = run(podman, "apply", "--policy", "privileged", str(manifest))
    assert again.exit_code == 0, again.stdout + again.stderr
    assert podman.podman("container", "exists", "absentpath-service", check=False).returncode == 0
