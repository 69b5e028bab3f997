"""What real applications' files need beyond Pods and ClusterIP Services (issue 22), on the real
private Podman: in one applied state, a NodePort and a LoadBalancer Service serve the pods' page on
the host (the port differing from the targetPort, a named one), fieldRef spec.nodeName is the
host's name as Podman reports it, a port change replaces the balancer only, export round-trips;
over ssh://, hostPath DirectoryOrCreate / FileOrCreate made as kube play makes them (existing
paths untouched) and a LoadBalancer serving the page."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from podspec.cli import app
from podspec.loader import load
from tests.conftest import fetch
from tests.integration.sshd import sshd  # noqa: F401 - the fixture

PROJECT = "kubefields-test"

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: docker.io/library/httpd:2.4
        ports: [{containerPort: 80, name: http}]
        env:
        - name: MY_NODE_NAME
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
---
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 8080, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: edge}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 8081, targetPort: 80}]
"""


def run(podman, *args: str, project: str = PROJECT):
    extra = ["--url", podman.url, "--project", project] if args[0] in ("apply", "diff") else ["--url", podman.url]
    return CliRunner().invoke(app, [*args, *extra], catch_exceptions=False)


def ids(podman) -> dict[str, str]:
    out = podman.podman("ps", "-a", "--format", "{{.Names}} {{.ID}}").stdout.split("\n")
    return dict(line.split() for line in out if line.strip() and not line.split()[0].endswith("-infra"))


def test_published_services_serve_on_the_host_and_node_name_is_the_host(podman, tmp_path: Path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text(APP)
    node_port = next(s for s in load([str(manifest)]).services if s.name == "front").ports[0].node_port
    applied = run(podman, "apply", "--wait", "--timeout", "60", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "svclb-front" in applied.stdout and "svclb-edge" in applied.stdout

    # The page, through each published port: host port -> balancer -> Service name -> (proxy) -> httpd.
    assert "It works!" in fetch(f"http://127.0.0.1:{node_port}/", timeout=30)
    assert "It works!" in fetch("http://127.0.0.1:8081/", timeout=30)

    hostname = podman.podman("info", "--format", "{{.Host.Hostname}}").stdout.strip()
    assert hostname
    assert podman.podman("exec", "web-pod-httpd", "sh", "-c", "echo $MY_NODE_NAME").stdout.strip() == hostname

    assert run(podman, "diff", str(manifest)).exit_code == 0

    # Export: the Services with their type and nodePort, no balancer; the export is no change.
    exported = run(podman, "export", "--all", "-o", str(tmp_path / "export.yaml"))
    assert exported.exit_code == 0, exported.stderr
    text = (tmp_path / "export.yaml").read_text()
    assert "type: NodePort" in text and f"nodePort: {node_port}" in text and "type: LoadBalancer" in text
    assert "svclb" not in text
    again = run(podman, "diff", str(tmp_path / "export.yaml"))
    assert again.exit_code == 0, again.stdout + again.stderr

    # The NodePort's nodePort changes: its balancer is replaced, nothing else is recreated.
    before = ids(podman)
    manifest.write_text(APP.replace("ports: [{port: 8080, targetPort: http}]",
                                    "ports: [{port: 8080, targetPort: http, nodePort: 30999}]"))
    moved = run(podman, "apply", str(manifest))
    assert moved.exit_code == 0, moved.stdout + moved.stderr
    after = ids(podman)
    assert {n for n in after if after[n] != before.get(n)} == {"svclb-front-lb-30999"}
    assert {n for n in before if n not in after} == {f"svclb-front-lb-{node_port}"}
    assert "It works!" in fetch("http://127.0.0.1:30999/", timeout=30)


HOST_PATHS = """\
apiVersion: v1
kind: Pod
metadata: {{name: files, labels: {{app: files}}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: docker.io/library/httpd:2.4
  - name: app
    image: docker.io/library/busybox:latest
    command: [sh, -c, "echo written > /data/new && echo line >> /log/app.log && sleep 100000"]
    volumeMounts:
    - {{name: data, mountPath: /data}}
    - {{name: log, mountPath: /log/app.log}}
    - {{name: kept, mountPath: /kept}}
  volumes:
  - name: data
    hostPath: {{path: {root}/made/deep/data, type: DirectoryOrCreate}}
  - name: log
    hostPath: {{path: {root}/made/deep/app.log, type: FileOrCreate}}
  - name: kept
    hostPath: {{path: {root}/existing, type: DirectoryOrCreate}}
---
apiVersion: v1
kind: Service
metadata: {{name: files-lb}}
spec:
  type: LoadBalancer
  selector: {{app: files}}
  ports: [{{port: 18082, targetPort: 80}}]
"""


def test_host_paths_are_made_and_a_load_balancer_serves_over_ssh(podman, sshd, tmp_path: Path):  # noqa: F811
    import json
    import subprocess
    import sys

    from tests.integration.test_ssh import over_ssh

    root = tmp_path / "host"
    (root / "existing").mkdir(parents=True)
    (root / "existing").chmod(0o700)
    (root / "existing" / "mine").write_text("untouched")
    manifest = tmp_path / "files.yaml"
    manifest.write_text(HOST_PATHS.format(root=root))
    podspec = [str(Path(sys.executable).parent / "podspec")]
    env = sshd.env(PODSPEC_PROJECT="files")
    remote = over_ssh(sshd, podman)
    planned = subprocess.run([*podspec, "apply", "--dry-run", "-o", "json", "--policy", "privileged", str(manifest),
                              *remote], capture_output=True, text=True, env=env, timeout=300)
    assert planned.returncode == 2, planned.stderr
    actions = [(s["action"], s["target"]) for s in json.loads(planned.stdout)["plan"]]
    first = actions.index(("create_host_path", f"{root}/made/deep/data"))
    assert actions[first:first + 4] == [
        ("create_host_path", f"{root}/made/deep/data"), ("create_host_path", f"{root}/made/deep/app.log"),
        ("create_host_path", f"{root}/existing"), ("create_pod", "files")]
    assert not (root / "made").exists()

    applied = subprocess.run([*podspec, "apply", "--policy", "privileged", str(manifest), *remote],
                             capture_output=True, text=True, env=env, timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for made in (root / "made", root / "made" / "deep", root / "made" / "deep" / "data"):
        assert made.is_dir() and oct(made.stat().st_mode & 0o7777) == "0o755", made
    log = root / "made" / "deep" / "app.log"
    assert log.is_file() and oct(log.stat().st_mode & 0o7777) == "0o644"
    assert oct((root / "existing").stat().st_mode & 0o7777) == "0o700"
    assert (root / "existing" / "mine").read_text() == "untouched"
    # The container wrote through them.
    podman.podman("exec", "files-app", "cat", "/data/new")
    assert (root / "made" / "deep" / "data" / "new").read_text() == "written\n"
    assert log.read_text() == "line\n"
    assert "podspec-hostpath" not in podman.podman("ps", "-a", "--format", "{{.Names}}").stdout  # helpers gone
    # The LoadBalancer Service applied over ssh:// serves the page on the host.
    assert "It works!" in fetch("http://127.0.0.1:18082/", timeout=30)
