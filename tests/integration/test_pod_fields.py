"""Issue 12's Pod fields reach Podman, and an export of such a pod re-applies with no changes.

Against the private Podman: dnsConfig, shareProcessNamespace, seLinuxOptions, lifecycle.stopSignal,
a readinessProbe (an exec probe: also the container's Podman health check; `apply --wait` waits for it), a probe on a named
port, `mountPath: /data:z`, and an emptyDir of medium Memory (a tmpfs of its sizeLimit).

Not shown here: seLinuxOptions in `podman inspect` (this host runs without SELinux, and Podman drops
label options there, as `podman kube play` does; podspec keeps them in its record, so export gives
them back), and hostUsers: false (userns=auto needs subordinate ID ranges for the user
`containers` in /etc/subuid, which these machines do not have).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.loader import load
from tests.unit.test_kubernetes_schema import kubernetes_problems

pytestmark = pytest.mark.podman

PROJECT = "fields-test"

FIELDS = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: fields-data
---
apiVersion: v1
kind: Pod
metadata:
  name: fields
  namespace: ignored-here
spec:
  terminationGracePeriodSeconds: 1
  shareProcessNamespace: true
  dnsPolicy: None
  dnsConfig:
    nameservers: [10.53.0.1]
    searches: [corp.example]
    options:
      - {name: ndots, value: "2"}
      - {name: edns0}
  securityContext:
    seLinuxOptions: {type: container_t}
  containers:
    - name: web
      image: docker.io/library/httpd:2.4
      ports:
        - {containerPort: 80, name: http}
      readinessProbe:
        exec: {command: [cat, /usr/local/apache2/htdocs/index.html]}
        periodSeconds: 1
      lifecycle: {stopSignal: SIGQUIT}
      volumeMounts:
        - {name: cache, mountPath: /cache}
        - {name: data, mountPath: "/data:z"}
    - name: side
      image: busybox
      command: [sh, -c, "sleep 100000"]
      securityContext:
        seLinuxOptions: {level: "s0:c1,c2"}
  volumes:
    - name: cache
      emptyDir: {medium: Memory, sizeLimit: 16Mi}
    - name: data
      persistentVolumeClaim: {claimName: fields-data}
"""

NAMED_PORT = """\
apiVersion: v1
kind: Pod
metadata:
  name: named-port
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/library/httpd:2.4
      ports:
        - {containerPort: 80, name: http}
      readinessProbe:
        tcpSocket: {port: http}
        periodSeconds: 1
"""


def run(podman, *args: str, project: str = PROJECT):
    extra = ["--url", podman.url, "--project", project] if args[0] in ("apply", "diff") else ["--url", podman.url]
    return CliRunner().invoke(app, [*args, *extra], catch_exceptions=False)


def inspect(podman, *what: str) -> dict:
    found = json.loads(podman.podman(*what).stdout)
    return found[0] if isinstance(found, list) else found  # Podman 4.3's pod inspect gives one object


def test_the_fields_reach_podman_and_the_export_reapplies_with_no_changes(podman, tmp_path: Path):
    manifest = tmp_path / "fields.yaml"
    manifest.write_text(FIELDS)
    desired = load([str(manifest)])
    assert [w.path for w in desired.warnings] == ["metadata.namespace"]  # accepted, reported, not applied

    applied = run(podman, "apply", "--wait", "--timeout", "60", str(manifest))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "Ready" in applied.stdout

    pod = inspect(podman, "pod", "inspect", "fields")
    assert "pid" in pod["SharedNamespaces"]
    infra = pod["InfraConfig"]
    assert (infra["DNSServer"], infra["DNSSearch"], infra["DNSOption"]) == (["10.53.0.1"], ["corp.example"],
                                                                             ["ndots:2", "edns0"])
    resolv = podman.podman("exec", "fields-web", "cat", "/etc/resolv.conf").stdout
    assert "search corp.example" in resolv and "ndots:2" in resolv
    nameservers = [line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver")]
    # Podman 4.3 writes the pod's servers; Podman 5, on a network with DNS (the project's), writes its
    # aardvark-dns (the network's gateway) and gives it the pod's servers to ask upstream (DNSServer above)
    gateway = inspect(podman, "network", "inspect", f"podspec-{PROJECT}")["subnets"][0]["gateway"]
    assert nameservers == ["10.53.0.1"] or (podman.engine == "podman5" and nameservers == [gateway]), resolv

    web = inspect(podman, "container", "inspect", "fields-web")
    assert web["Config"]["StopSignal"] in (3, "SIGQUIT", "3")
    assert web["Config"]["Healthcheck"]["Test"] == ["CMD", "cat", "/usr/local/apache2/htdocs/index.html"]
    assert web["HostConfig"]["PidMode"].startswith("container:")  # the pod's shared PID namespace
    tmpfs = (web["HostConfig"].get("Tmpfs") or {}).get("/cache", "")
    assert f"size={16 * 2**20}" in tmpfs
    data = next(m for m in web["Mounts"] if m["Destination"] == "/data")
    assert (data["Name"], data["Mode"]) == ("fields-data", "z")
    assert "fields_cache" not in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout  # a tmpfs, no volume
    df = podman.podman("exec", "fields-web", "df", "/cache").stdout
    assert "tmpfs" in df and "16384" in df

    # Nothing changed: the same manifest again is no change.
    again = run(podman, "diff", str(manifest))
    assert again.exit_code == 0, again.stdout

    # Export: loads back into the same pod, is valid Kubernetes, and re-applies with no changes.
    exported = run(podman, "export", "fields", "-o", str(tmp_path / "export.yaml"))
    assert exported.exit_code == 0, exported.stderr
    text = (tmp_path / "export.yaml").read_text()
    assert load([str(tmp_path / "export.yaml")]).pods == desired.pods
    for written in ("shareProcessNamespace: true", "nameservers:", "stopSignal: SIGQUIT", "readinessProbe:",
                    "medium: Memory", "sizeLimit: 16Mi", "/data:z", "type: container_t", "level: s0:c1,c2"):
        assert written in text, written
    # `:z` after a mountPath is Podman's syntax; Kubernetes takes it as part of the path, and its
    # schema accepts it: the export stays valid there.
    assert kubernetes_problems(text) == []
    diff = run(podman, "diff", str(tmp_path / "export.yaml"))
    assert diff.exit_code == 0, diff.stdout + diff.stderr


def test_a_probe_on_a_named_port_checks_that_port(podman, tmp_path: Path):
    manifest = tmp_path / "named.yaml"
    manifest.write_text(NAMED_PORT)
    applied = run(podman, "apply", "--wait", "--timeout", "30", str(manifest), project="named-port-test")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "passes its probes" in applied.stdout  # port 80, connected to from the pod's network namespace
    web = inspect(podman, "container", "inspect", "named-port-web")
    assert not (web["Config"].get("Healthcheck") or {}).get("Test")  # made from outside: no tool of the image
    assert run(podman, "diff", str(manifest), project="named-port-test").exit_code == 0


def test_podman_kube_generate_of_such_a_pod_loads_and_applies_unchanged(podman, tmp_path: Path):
    p = podman.podman
    p("pod", "create", "--name", "gk", "--share", "ipc,net,uts,pid", "--dns", "10.53.0.1", "--dns-search", "corp.example",
      "--dns-option", "ndots:2")
    p("create", "--pod", "gk", "--name", "gk-web", "--stop-signal", "SIGQUIT", "--stop-timeout", "1",
      "-v", "gkdata:/data:z", "--security-opt", "label=type:container_t", "docker.io/library/httpd:2.4")
    generated = tmp_path / "generated.yaml"
    generated.write_text(p("kube", "generate", "gk").stdout)
    p("pod", "rm", "-f", "gk")
    p("volume", "rm", "gkdata")

    pod = load([str(generated)]).pods[0]
    assert pod.share_process_namespace and pod.dns_nameservers == ("10.53.0.1",) and pod.dns_options == ("ndots:2",)
    assert pod.containers[0].security.se_linux_options == ("type:container_t",)
    applied = run(podman, "apply", str(generated), project="generated-test")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "pid" in inspect(podman, "pod", "inspect", "gk")["SharedNamespaces"]
    assert inspect(podman, "pod", "inspect", "gk")["InfraConfig"]["DNSServer"] == ["10.53.0.1"]
    assert run(podman, "diff", str(generated), project="generated-test").exit_code == 0
