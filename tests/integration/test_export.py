"""`podspec export` against the private Podman: both round trips, and `podman kube generate` as input.

1. manifest -> apply -> export -> load gives the same model back (exact ==).
2. the tutorial's pod built by hand with the podman CLI -> export -> validate -> remove everything ->
   apply the export on the empty host -> the same page is served and `podspec diff` exits 0.
3. `podman kube generate` of such a pod loads and applies unchanged on an empty host.
Every export written here also passes the Kubernetes schema (strict, offline).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import yaml
from typer.testing import CliRunner

from podspec.cli import app
from podspec.loader import load
from tests.conftest import fetch, free_port
from tests.integration.manifests import SIDECAR, webserver
from tests.unit.test_kubernetes_schema import kubernetes_problems

PROJECT = "export-test"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "tutorial-generate-kube.yaml"
INIT = 'echo "Static Website Init" > /usr/local/apache2/htdocs/index.html'

# A second pod using most fields podspec applies, written in the order export writes them
# (environment by name, ports by container port, mounts by path: Podman does not keep an order).
RICH = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: rich-data
---
apiVersion: v1
kind: Pod
metadata:
  name: rich
  labels: {app: rich, tier: web}
  annotations:
    io.podman.annotations.init.container.type: always
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  hostname: richhost
  hostAliases:
    - {ip: 10.1.2.3, hostnames: [db.local, cache.local]}
  initContainers:
    - name: init
      image: busybox
      command: [sh, -c, "echo rich > /data/index.html"]
      volumeMounts:
        - {name: data, mountPath: /data}
  containers:
    - name: web
      image: docker.io/library/httpd:2.4
      imagePullPolicy: Never
      args: [httpd, -f, -p, "80", -h, /data]
      workingDir: /tmp
      env:
        - {name: EMPTY, value: ""}
        - {name: GREETING, value: hello}
      ports:
        - {containerPort: 53, hostPort: %(udp)d, protocol: UDP}
        - {containerPort: 80, hostPort: %(tcp)d, hostIP: 127.0.0.1}
        - {containerPort: 8443}
      volumeMounts:
        - {name: data, mountPath: /data}
        - {name: host, mountPath: /host, readOnly: true}
        - {name: scratch, mountPath: /scratch}
      resources:
        limits: {cpu: 500m, memory: 64Mi}
        requests: {cpu: 250m, memory: 32Mi}
      securityContext:
        capabilities: {add: [NET_ADMIN], drop: [MKNOD, NET_RAW]}
        runAsUser: 0
        runAsGroup: 0
        allowPrivilegeEscalation: false
      livenessProbe:
        exec: {command: [cat, /data/index.html]}
        periodSeconds: 30
        failureThreshold: 2
    - name: side
      image: alpine
      command: [sh]
      args: [-c, "sleep 100000"]
      stdin: true
      tty: true
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: rich-data}
    - name: host
      hostPath: {path: %(host)s, type: Directory}
    - name: scratch
      emptyDir: {}
"""


def run(podman, *args: str):
    """podspec in-process against the private Podman (project given where the command takes one)."""
    extra = [] if args[0] == "validate" else ["--url", podman.url]
    if args[0] in ("apply", "diff", "delete"):
        extra += ["--project", PROJECT]
    return CliRunner().invoke(app, [*args, *extra], catch_exceptions=False)


def export_to(podman, path: Path, *pods: str) -> str:
    result = run(podman, "export", *pods, "-o", str(path))
    assert result.exit_code == 0, result.stderr
    text = path.read_text()
    assert kubernetes_problems(text) == []
    return text


def build_tutorial_pod_by_hand(podman, port: int) -> None:
    """The tutorial's init-pattern pod, with the podman CLI (short stop timeouts for the tests).

    The pod is created with the port and the volume (the tutorial's first part), so its containers
    inherit the volume; the init container is added with --init-ctr=always, then httpd and the sidecar.
    """
    p = podman.podman
    p("volume", "create", "webserver-data")
    p("pod", "create", "-p", f"{port}:80", "--name", "dynamic-webserver",
      "--volume", "webserver-data:/usr/local/apache2/htdocs:z")
    p("create", "--stop-timeout", "1", "--name", "apache-httpd-init", "--init-ctr=always", "--pod", "dynamic-webserver",
      "busybox", "sh", "-c", INIT)
    p("create", "--stop-timeout", "1", "--name", "apache-httpd", "--pod", "dynamic-webserver", "httpd:2.4")
    p("create", "--stop-timeout", "1", "--name", "apache-httpd-index-updater", "--pod", "dynamic-webserver",
      "alpine", "sh", "-c", SIDECAR)
    p("pod", "start", "dynamic-webserver")


def tutorial_page(port: int) -> list[str]:
    """The page once the init container wrote it and the sidecar appended to it."""
    page = fetch(f"http://127.0.0.1:{port}/", until=lambda body: "Index Updated @" in body)
    lines = page.splitlines()
    assert lines[0] == "Static Website Init"
    assert lines[1].startswith("Index Updated @")
    return [lines[0], lines[1].split("@")[0]]


# ------------------------------------------------------------------------------ round trip 1


def test_apply_then_export_gives_the_same_model_back(podman, tmp_path):
    port, tcp, udp = free_port(), free_port(), free_port()
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "webserver.yaml").write_text(webserver(port).replace("name: data", "name: data-pvc"))
    (manifests / "rich.yaml").write_text(RICH % {"tcp": tcp, "udp": udp, "host": str(tmp_path)})
    original = load([str(manifests)])
    # The rich pod asks for what the baseline policy refuses: allow exactly that, on purpose.
    allow = ("--allow-capability", "NET_ADMIN", "--allow-host-path", str(tmp_path))
    applied = run(podman, "apply", str(manifests), *allow)
    assert applied.exit_code == 0, applied.stderr

    exported_path = tmp_path / "export.yaml"
    text = export_to(podman, exported_path, "dynamic-webserver", "rich")
    exported = load([str(exported_path)])
    assert exported.pods == original.pods
    assert exported.claims == original.claims
    # ... and the host already matches the export.
    diff = run(podman, "diff", str(exported_path), *allow)
    assert diff.exit_code == 0, diff.stdout + diff.stderr

    # Clean: nothing of Podman's bookkeeping, podspec's labels or the image's defaults.
    for word in ("status", "creationTimestamp", "io.podspec", "io.kubernetes", "resources: {}", "PATH=", "TERM",
                 "container=podman", "HOSTNAME"):
        assert word not in text, word
    assert [d["kind"] for d in yaml.safe_load_all(text)] == ["PersistentVolumeClaim"] * 2 + ["Pod"] * 2


def test_export_all_json_and_unknown_pods(podman, tmp_path):
    port = free_port()
    manifest = tmp_path / "webserver.yaml"
    manifest.write_text(webserver(port))
    assert run(podman, "apply", str(manifest)).exit_code == 0

    listed = run(podman, "export", "--all", "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["kind"] == "List"
    assert [(i["kind"], i["metadata"]["name"]) for i in data["items"]] == [
        ("PersistentVolumeClaim", "webserver-data"), ("Pod", "dynamic-webserver"),
    ]
    # Deterministic: the same host exports the same text.
    first, second = run(podman, "export", "dynamic-webserver"), run(podman, "export", "dynamic-webserver")
    assert first.stdout == second.stdout and first.stdout.startswith("---\napiVersion: v1\n")

    unknown = run(podman, "export", "dynamic-webserver", "no-such-pod")
    assert unknown.exit_code == 1
    assert "no pod named 'no-such-pod'" in unknown.stderr
    assert "dynamic-webserver" in unknown.stderr  # the pods that do exist
    assert unknown.stdout == ""
    assert run(podman, "export").exit_code == 1


# ------------------------------------------------------------------------------ round trip 2


def test_tutorial_pod_by_hand_exports_and_reapplies_on_an_empty_host(podman, tmp_path):
    port = free_port()
    build_tutorial_pod_by_hand(podman, port)
    by_hand = tutorial_page(port)

    path = tmp_path / "dynamic-webserver.yaml"
    text = export_to(podman, path, "dynamic-webserver")
    docs = list(yaml.safe_load_all(text))
    assert docs[0] == {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "webserver-data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    pod = docs[1]
    assert pod["metadata"] == {"name": "dynamic-webserver",
                               "annotations": {"io.podman.annotations.init.container.type": "always"}}
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["apache-httpd-init"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["apache-httpd", "apache-httpd-index-updater"]
    assert pod["spec"]["containers"][0] == {
        "name": "apache-httpd", "image": "docker.io/library/httpd:2.4",
        "ports": [{"containerPort": 80, "hostPort": port}],
        "volumeMounts": [{"name": "webserver-data-pvc", "mountPath": "/usr/local/apache2/htdocs"}],
    }
    validated = run(podman, "validate", str(path))
    assert validated.exit_code == 0, validated.stderr

    podman.purge()  # the empty host: no pods, containers or volumes
    assert podman.podman("volume", "ls", "-q").stdout.strip() == ""
    applied = run(podman, "apply", str(path))
    assert applied.exit_code == 0, applied.stderr
    assert tutorial_page(port) == by_hand
    diff = run(podman, "diff", str(path))
    assert diff.exit_code == 0, diff.stdout + diff.stderr


# ------------------------------------------------------------------------ kube generate input


def test_podman_kube_generate_output_loads_and_applies_unchanged(podman, tmp_path):
    port = free_port()
    build_tutorial_pod_by_hand(podman, port)
    tutorial_page(port)
    generated = podman.podman("kube", "generate", "dynamic-webserver").stdout
    path = tmp_path / "generated.yaml"
    path.write_text(generated)
    assert "creationTimestamp" in generated and "io.kubernetes.cri-o" in generated  # really Podman's own
    assert kubernetes_problems(generated) == []
    assert run(podman, "validate", str(path)).exit_code == 0

    podman.purge()
    applied = run(podman, "apply", str(path))
    assert applied.exit_code == 0, applied.stderr
    # Podman 4.3 does not write the init type: the init container ran once, at the first start.
    page = fetch(f"http://127.0.0.1:{port}/", until=lambda body: "Index Updated @" in body)
    assert page.splitlines()[0] == "Static Website Init"
    diff = run(podman, "diff", str(path))
    assert diff.exit_code == 0, diff.stdout + diff.stderr

    # Exporting what podspec made from it: the same model, but for two things Podman itself forgets
    # or defaults: the `once` init container is gone after it ran, and the hostname Podman 4.3 wrote
    # is the pod's name, which is the default (on Kubernetes too); Podman 5 writes no hostname.
    exported_path = tmp_path / "export.yaml"
    export_to(podman, exported_path, "dynamic-webserver")
    [generated_pod] = load([str(path)]).pods
    [exported_pod] = load([str(exported_path)]).pods
    assert generated_pod.hostname in ("dynamic-webserver", "") and len(generated_pod.init_containers) == 1
    assert exported_pod == replace(generated_pod, hostname="", init_containers=())


def test_the_tutorial_generate_fixture_loads():
    state = load([str(FIXTURE)])
    [pod] = state.pods
    assert pod.name == "dynamic-webserver"
    assert [c.name for c in pod.init_containers] == ["apache-httpd-init"]
    assert kubernetes_problems(FIXTURE.read_text()) == []
