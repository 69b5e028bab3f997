"""The security policy against the private Podman: a refused apply (or diff) exits 1 and leaves the
host untouched (no pod, container or volume, checked with the podman CLI); lifting the policy on
purpose (--policy privileged, an exact --allow-host-path, --allow-host-port) applies the same manifest."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from podspec.cli import app
from tests.conftest import free_port
from tests.integration.manifests import podspec, write

PRIVILEGED_POD = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: tools-data
---
apiVersion: v1
kind: Pod
metadata:
  name: tools
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      securityContext:
        privileged: true
      volumeMounts:
        - {name: root, mountPath: /host, readOnly: true}
        - {name: data, mountPath: /data}
  volumes:
    - name: root
      hostPath:
        path: /
    - name: data
      persistentVolumeClaim:
        claimName: tools-data
"""

REFUSED = [
    "FILE:18:9: spec.containers[0].securityContext.privileged: baseline: privileged containers are not allowed "
    "(use --policy privileged for this manifest, or remove privileged: true)",
    "FILE:25:9: spec.volumes[0].hostPath.path: baseline: hostPath volume / is not allowed (--allow-host-path / "
    "allows exactly that path and paths below it; or use a persistentVolumeClaim)",
    "error: 2 problems in the manifests; fix the fields named above; nothing was changed on the host",
]


def host_objects(podman) -> dict[str, list[str]]:
    """Every pod, container (infra included) and volume of the private Podman, by name."""
    def names(*args: str) -> list[str]:
        return sorted(podman.podman(*args).stdout.split())

    return {
        "pods": names("pod", "ps", "--format", "{{.Name}}"),
        "containers": names("ps", "-a", "--format", "{{.Names}}"),
        # apply records itself in a history volume (reconcile/history.py): bookkeeping, not an object of the manifests
        "volumes": [v for v in names("volume", "ls", "--format", "{{.Name}}") if not v.startswith("podspec-history.")],
        "networks": [n for n in names("network", "ls", "--format", "{{.Name}}") if n != "podman"],
    }


EMPTY = {"pods": [], "containers": [], "volumes": [], "networks": []}


def podspec_env(podman, env: dict[str, str], *args: str):
    """podspec in-process against the private Podman, with these environment variables set."""
    return CliRunner().invoke(app, [*args, "--url", podman.url, "--project", "itest"], env=env, catch_exceptions=False)


def test_refused_apply_leaves_the_host_untouched_and_privileged_applies_it(podman, tmp_path):
    manifest = write(tmp_path, PRIVILEGED_POD)
    images = podman.podman("images", "-q").stdout
    assert host_objects(podman) == EMPTY

    for command in ("apply", "diff"):
        refused = podspec(podman, command, manifest)
        assert refused.exit_code == 1
        assert refused.output == ""
        assert refused.stderr.splitlines() == [line.replace("FILE", manifest) for line in REFUSED]
        assert host_objects(podman) == EMPTY
    assert podman.podman("images", "-q").stdout == images

    applied = podspec(podman, "apply", "--policy", "privileged", manifest)
    assert applied.exit_code == 0, applied.stderr
    assert host_objects(podman)["pods"] == ["tools"]
    assert "tools-main" in host_objects(podman)["containers"]
    assert host_objects(podman)["volumes"] == ["podspec-names.itest", "tools-data"]  # and the project's names record
    assert host_objects(podman)["networks"] == ["podspec-itest"]
    inspect = json.loads(podman.podman("inspect", "tools-main").stdout)[0]
    assert inspect["HostConfig"]["Privileged"] is True
    assert inspect["State"]["Running"] is True
    # The environment lifts it the same way; a flag would win over it.
    assert podspec_env(podman, {"PODSPEC_POLICY": "privileged"}, "diff", manifest).exit_code == 0
    assert podspec_env(podman, {"PODSPEC_POLICY": "privileged"}, "diff", "--policy", "baseline", manifest).exit_code == 1


def test_host_path_applies_only_with_its_exact_allow_entry(podman, tmp_path):
    data = tmp_path / "srv" / "data"
    data.mkdir(parents=True)
    (data / "hello.txt").write_text("from the host\n")
    manifest = write(tmp_path, f"""\
apiVersion: v1
kind: Pod
metadata:
  name: reader
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      volumeMounts:
        - {{name: data, mountPath: /data, readOnly: true}}
  volumes:
    - name: data
      hostPath:
        path: {data}/../data
""")
    sibling = podspec(podman, "apply", "--allow-host-path", f"{tmp_path}/srv/dat", manifest)
    assert sibling.exit_code == 1
    assert sibling.stderr.splitlines()[0] == (
        f"{manifest}:17:9: spec.volumes[0].hostPath.path: baseline: hostPath volume {data}/../data is not allowed "
        f"(--allow-host-path {data} allows exactly that path and paths below it; or use a persistentVolumeClaim)"
    )
    assert host_objects(podman) == EMPTY

    applied = podspec(podman, "apply", "--allow-host-path", str(data), manifest)
    assert applied.exit_code == 0, applied.stderr
    assert podman.podman("exec", "reader-main", "cat", "/data/hello.txt").stdout == "from the host\n"


RESTRICTED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: locked
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: main
      image: docker.io/library/httpd:2.4
      imagePullPolicy: IfNotPresent
      command: ["httpd", "-f", "-p", "8080", "-h", "/usr/local/apache2/htdocs"]
      ports:
        - {containerPort: 8080, hostPort: %(port)d}
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
"""


def test_restricted_host_port_needs_its_allow_entry(podman, tmp_path):
    port = free_port()
    manifest = write(tmp_path, RESTRICTED_POD % {"port": port})
    refused = podspec(podman, "apply", "--policy", "restricted", manifest)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0] == (
        f"{manifest}:17:33: spec.containers[0].ports[0].hostPort: restricted: host port {port} is not allowed "
        f"(--allow-host-port {port} allows exactly this port; or use --policy baseline)"
    )
    assert host_objects(podman) == EMPTY

    # With the port allowed the policy passes and apply plans the pod. (--dry-run: creating a container that
    # drops ALL capabilities fails in the engine today, which sends "CAP_ALL" to Podman; not the policy's doing.)
    planned = podspec(podman, "apply", "--dry-run", "--policy", "restricted", "--allow-host-port", str(port), manifest)
    assert planned.exit_code == 2, planned.stderr
    assert "+ pod locked: create" in planned.output
    assert host_objects(podman) == EMPTY
