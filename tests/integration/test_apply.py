"""`podspec apply` against the private Podman: the tutorial end to end, one-container changes,
pod replacement, drift repair, prune, concurrency and SIGKILL convergence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.conftest import fetch, free_port
from tests.integration.manifests import SIDECAR, ids, infra_id, podspec, sleeper, webserver, write

HTTPD = "dynamic-webserver-apache-httpd"
UPDATER = "dynamic-webserver-apache-httpd-index-updater"
INIT = "dynamic-webserver-apache-httpd-init"


def page(port: int, until=lambda body: True) -> str:
    return fetch(f"http://127.0.0.1:{port}/", until=until)


def write_marker(podman, text: str = "kept") -> None:
    """Put a file into the named volume through the running httpd container."""
    podman.podman("exec", HTTPD, "sh", "-c", f"echo {text} > /usr/local/apache2/htdocs/marker.txt")


def test_tutorial_end_to_end(podman, tmp_path):
    port = free_port()
    manifest = write(tmp_path, webserver(port))
    first = podspec(podman, "apply", manifest)
    assert first.exit_code == 0, first.stderr
    assert "Applied: 3 to create" in first.output  # the volume, the project network, the pod

    body = page(port, until=lambda b: "Index Updated @" in b)
    lines = body.splitlines()
    assert lines[0] == "Static Website Init"
    assert lines[1].startswith("Index Updated @")

    before = ids(podman)
    second = podspec(podman, "apply", manifest)
    assert second.exit_code == 0
    assert "No changes: the host matches the manifests." in second.output
    assert "Nothing to do." in second.output
    assert ids(podman) == before

    # init type always: a pod stop/start runs the init container again, which rewrites the page.
    podman.podman("exec", HTTPD, "sh", "-c", "echo 'written before the restart' >> /usr/local/apache2/htdocs/index.html")
    assert "written before the restart" in page(port)
    podman.podman("pod", "stop", "-t", "1", "dynamic-webserver")
    podman.podman("pod", "start", "dynamic-webserver")
    body = page(port, until=lambda b: b.startswith("Static Website Init"))
    assert "written before the restart" not in body


def test_sidecar_change_recreates_only_the_sidecar(podman, tmp_path):
    port = free_port()
    assert podspec(podman, "apply", write(tmp_path, webserver(port))).exit_code == 0
    page(port)
    write_marker(podman, "written-before")
    before = ids(podman)
    infra = infra_id(podman, "dynamic-webserver")

    changed = write(tmp_path, webserver(port, sidecar=SIDECAR.replace("sleep 10", "sleep 5")))
    result = podspec(podman, "apply", changed)
    assert result.exit_code == 0, result.stderr
    assert "recreate this container only" in result.output
    assert "Applied: 0 to create, 1 to recreate, 0 to replace" in result.output

    after = ids(podman)
    assert after[UPDATER] != before[UPDATER]
    assert after[HTTPD] == before[HTTPD]
    assert after[INIT] == before[INIT]
    assert infra_id(podman, "dynamic-webserver") == infra
    assert fetch(f"http://127.0.0.1:{port}/marker.txt") == "written-before\n"
    assert podspec(podman, "diff", changed).exit_code == 0


def test_host_port_change_replaces_pod_and_keeps_volume(podman, tmp_path):
    port, new_port = free_port(), free_port()
    assert podspec(podman, "apply", write(tmp_path, webserver(port))).exit_code == 0
    page(port)
    write_marker(podman, "survives-replacement")
    infra = infra_id(podman, "dynamic-webserver")

    changed = write(tmp_path, webserver(new_port))
    result = podspec(podman, "apply", changed)
    assert result.exit_code == 0, result.stderr
    assert "replace the whole pod (volumes kept)" in result.output
    assert "ports are published by the pod's infra container" in result.output
    assert infra_id(podman, "dynamic-webserver") != infra
    assert fetch(f"http://127.0.0.1:{new_port}/marker.txt") == "survives-replacement\n"
    assert podspec(podman, "diff", changed).exit_code == 0


def test_drift_is_repaired(podman, tmp_path):
    port = free_port()
    manifest = write(tmp_path, webserver(port))
    assert podspec(podman, "apply", manifest).exit_code == 0
    page(port)

    podman.podman("rm", "-f", "-t", "0", UPDATER)
    result = podspec(podman, "apply", manifest)
    assert result.exit_code == 0
    assert f"create container {UPDATER}" in result.output
    assert podman.podman("container", "inspect", UPDATER, "--format", "{{.State.Status}}").stdout.strip() == "running"

    podman.podman("pod", "stop", "-t", "1", "dynamic-webserver")
    result = podspec(podman, "apply", manifest)
    assert result.exit_code == 0
    assert "start pod dynamic-webserver" in result.output
    page(port)
    assert podspec(podman, "diff", manifest).exit_code == 0


def test_prune_removes_dropped_pod_and_leaves_others_and_volumes(podman, tmp_path):
    port = free_port()
    both = write(tmp_path, webserver(port) + "---\n" + sleeper("extra"))
    assert podspec(podman, "apply", both).exit_code == 0
    podman.podman("pod", "create", "--name", "handmade")
    podman.podman("volume", "create", "hand-volume")

    only_web = write(tmp_path, webserver(port))
    plain = podspec(podman, "apply", only_web)
    assert plain.exit_code == 0
    assert "extra" in podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()

    pruned = podspec(podman, "apply", "--prune", only_web)
    assert pruned.exit_code == 0, pruned.stderr
    assert "- pod extra: remove (no longer in the manifests (--prune))" in pruned.output
    pods = set(podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split())
    assert pods == {"dynamic-webserver", "handmade"}
    volumes = set(podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split())
    assert {"webserver-data", "hand-volume"} <= volumes


def test_two_applies_at_once_make_one_set_of_objects(podman, tmp_path):
    port = free_port()
    manifest = write(tmp_path, webserver(port) + "---\n" + sleeper("second"))
    command = [sys.executable, "-m", "podspec", "apply", manifest, "--url", podman.url, "--project", "itest"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    texts = sorted(out for out, _ in outputs)
    # One of them made everything; the other waited for the lock, then found nothing to do.
    assert sum("Applied: 4 to create" in t for t in texts) == 1  # volume, network, two pods
    assert sum("Nothing to do." in t for t in texts) == 1
    assert any("waiting for another podspec" in err for _, err in outputs)
    pods = podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert sorted(pods) == ["dynamic-webserver", "second"]
    names = podman.podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert len(names) == len(set(names)) == 6  # 2 infra + init + httpd + sidecar + sleeper


def test_apply_killed_midway_converges_on_rerun(podman, tmp_path):
    ports = [free_port() for _ in range(4)]
    text = "---\n".join(sleeper(f"pod{i}", port) for i, port in enumerate(ports))
    manifest = write(tmp_path, text + "---\n" + webserver(free_port()))
    command = [sys.executable, "-m", "podspec", "apply", manifest, "--url", podman.url, "--project", "itest"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "create container pod1-main: done" in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    assert podspec(podman, "diff", manifest).exit_code == 2  # half-applied

    rerun = podspec(podman, "apply", manifest)
    assert rerun.exit_code == 0, rerun.stderr
    assert podspec(podman, "diff", manifest).exit_code == 0
    pods = podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert sorted(pods) == ["dynamic-webserver", "pod0", "pod1", "pod2", "pod3"]
    names = podman.podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert len(names) == len(set(names))


def test_missing_image_fails_before_any_change(podman, tmp_path):
    manifest = write(tmp_path, sleeper("first") + "---\n" + sleeper("second").replace(
        "docker.io/library/busybox:latest", "docker.io/library/nosuchimage:1.0"))
    result = podspec(podman, "apply", manifest)
    assert result.exit_code == 1
    assert "image docker.io/library/nosuchimage:1.0 (used by second/main) is not on the host and cannot be pulled" in result.stderr
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""


def test_dry_run_changes_nothing(podman, tmp_path):
    manifest = write(tmp_path, webserver(free_port()))
    result = podspec(podman, "apply", "--dry-run", manifest)
    assert result.exit_code == 2
    assert "Plan: 8 steps" in result.output and "+ network podspec-itest: create" in result.output
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""
    assert podman.podman("volume", "ls", "-q").stdout.strip() == ""
    assert podman.podman("network", "ls", "--format", "{{.Name}}").stdout.split() == ["podman"]


def test_conflict_with_hand_made_pod_stops_apply_unless_adopt(podman, tmp_path):
    port = free_port()
    podman.podman("pod", "create", "--name", "dynamic-webserver")
    manifest = write(tmp_path, webserver(port))
    refused = podspec(podman, "apply", manifest)
    assert refused.exit_code == 1
    assert "pod dynamic-webserver: a pod with this name exists and podspec did not create it" in refused.stderr
    assert "--adopt" in refused.stderr
    # nothing changed: no volume; the only new object is the history record of the refused apply
    assert podman.podman("volume", "ls", "-q").stdout.split() == []
    [record] = podman.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert record.startswith("podspec-history-")

    adopted = podspec(podman, "apply", "--adopt", manifest)
    assert adopted.exit_code == 0, adopted.stderr
    assert page(port).startswith("Static Website Init")


def test_delete_keeps_volumes_unless_asked(podman, tmp_path):
    port = free_port()
    manifest = write(tmp_path, webserver(port))
    assert podspec(podman, "apply", manifest).exit_code == 0
    page(port)
    write_marker(podman)
    podman.podman("pod", "create", "--name", "handmade")

    result = podspec(podman, "delete", manifest)
    assert result.exit_code == 0, result.stderr
    assert set(podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()) == {"handmade"}
    assert "webserver-data" in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()

    # the data is still there for the next apply
    assert podspec(podman, "apply", manifest).exit_code == 0
    assert fetch(f"http://127.0.0.1:{port}/marker.txt") == "kept\n"

    assert podspec(podman, "delete", "--volumes", manifest).exit_code == 0
    assert "webserver-data" not in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()


def test_status_lists_pods_and_drift(podman, tmp_path):
    manifest = write(tmp_path, webserver(free_port()))
    assert podspec(podman, "apply", manifest).exit_code == 0
    podman.podman("stop", "-t", "0", UPDATER)
    result = podspec(podman, "status")
    assert result.exit_code == 0
    assert "pod dynamic-webserver  project=itest" in result.output
    assert f"drift: container {UPDATER} is exited" in result.output


def test_wait_waits_for_every_probe(podman, tmp_path):
    probe = """      readinessProbe:
        exec:
          command: ["sh", "-c", "test -f /usr/local/apache2/htdocs/index.html"]
        periodSeconds: 1
      livenessProbe:
        httpGet: {path: /, port: 80}
        periodSeconds: 1
      startupProbe:
        tcpSocket: {port: 80}
        periodSeconds: 1
"""
    manifest = write(tmp_path, webserver(free_port(), httpd_extra=probe.rstrip("\n")))
    result = podspec(podman, "apply", "--wait", "--timeout", "30", manifest)
    assert result.exit_code == 0, result.stderr + result.output
    assert "Ready: every container runs and passes its probes." in result.output
    assert "Restarted" not in result.output
    health = podman.podman("healthcheck", "run", HTTPD, check=False)  # the exec probe is Podman's health check too
    assert health.returncode == 0, health.stdout + health.stderr
    # The probe helper (in the pod's network namespace) is gone with the command.
    names = podman.podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert not [n for n in names if n.startswith("podspec-probe-")], names


def test_adopted_volume_keeps_its_data_and_stays_adopted(podman, tmp_path):
    port = free_port()
    podman.podman("volume", "create", "webserver-data")
    podman.podman("run", "--rm", "-v", "webserver-data:/data", "busybox", "sh", "-c", "echo precious > /data/marker.txt")
    manifest = write(tmp_path, webserver(port))

    refused = podspec(podman, "apply", manifest)
    assert refused.exit_code == 1
    assert "volume webserver-data: a volume with this name exists, made by someone else (not podspec)" in refused.stderr

    adopted = podspec(podman, "apply", "--adopt", manifest)
    assert adopted.exit_code == 0, adopted.stderr
    assert "= volume webserver-data: adopt (made by someone else (not podspec); used as it is, its data kept)" in adopted.output
    assert fetch(f"http://127.0.0.1:{port}/marker.txt") == "precious\n"
    # The volume still lacks podspec's labels (Podman cannot add them), but the project now uses it.
    again = podspec(podman, "apply", manifest)
    assert again.exit_code == 0 and "Nothing to do." in again.output
    assert podspec(podman, "delete", "--volumes", manifest).exit_code == 0
    assert "webserver-data" in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()


def test_wait_on_an_unchanged_host_still_checks_readiness(podman, tmp_path):
    manifest = write(tmp_path, webserver(free_port()))
    assert podspec(podman, "apply", manifest).exit_code == 0
    podman.podman("stop", "-t", "0", "dynamic-webserver-apache-httpd-index-updater")
    # The stopped sidecar is drift: apply starts it, then --wait confirms every container runs.
    result = podspec(podman, "apply", "--wait", "--timeout", "20", manifest)
    assert result.exit_code == 0, result.stderr
    assert "Ready: every container runs." in result.output
    again = podspec(podman, "apply", "--wait", "--timeout", "20", manifest)
    assert again.exit_code == 0
    assert "Nothing to do." in again.output and "Ready: every container runs." in again.output


def test_wait_accepts_finished_jobs_and_shows_why_a_probe_fails(podman, tmp_path):
    job = """\
apiVersion: v1
kind: Pod
metadata:
  name: job
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: once
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["true"]
"""
    done = podspec(podman, "apply", "--wait", "--timeout", "20", write(tmp_path, job, "job.yaml"))
    assert done.exit_code == 0, done.stderr
    assert "Ready: every container runs." in done.output

    # The stand-in httpd image has no curl: the probe is made from outside the container, and the
    # server's own answer (a 404) is what fails it (the path / passes: test_wait_waits_for_every_probe).
    probe = "      readinessProbe:\n        httpGet: {path: /missing, port: 80}\n        periodSeconds: 1"
    manifest = write(tmp_path, webserver(free_port(), httpd_extra=probe))
    result = podspec(podman, "apply", "--wait", "--timeout", "4", manifest)
    assert result.exit_code == 1
    assert ("not ready after 4s: dynamic-webserver-apache-httpd: readiness probe (httpGet :80/missing) failed: "
            in result.stderr), result.stderr
    assert "server returned error: HTTP/1.1 404 Not Found" in result.stderr
