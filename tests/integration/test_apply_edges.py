"""apply's edges against the private Podman: a failing step, `once` init containers, and the
private `podman system service` podspec starts when no service is given."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from podspec.engine import connection
from podspec.engine.podman import PodmanEngine
from tests.conftest import fetch, free_port
from tests.integration.manifests import ids, podspec, webserver, write
from tests.integration.podman_tcp import podman_tcp  # noqa: F401 - the fixture


def test_a_host_port_another_process_holds_is_named_before_any_change(podman, tmp_path):
    """Issue 22: a port taken by any process of the host is a conflict before the first step (it
    used to be Podman's "internal libpod error" at the last one, after five steps changed the host)."""
    port = free_port()
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", port))
    blocker.listen()
    manifest = write(tmp_path, webserver(port))
    try:
        refused = podspec(podman, "apply", manifest)
    finally:
        blocker.close()
    assert refused.exit_code == 1
    assert f"pod dynamic-webserver: host port {port}/tcp is in use by another process on the host" in refused.stderr
    assert "nothing was changed" in refused.stderr and "Traceback" not in refused.stderr
    assert podman.podman("ps", "-aq").stdout.strip() == ""
    assert podman.podman("volume", "ls", "-q", "--filter", "name=webserver-data").stdout.strip() == ""

    rerun = podspec(podman, "apply", manifest)
    assert rerun.exit_code == 0, rerun.stderr
    assert fetch(f"http://127.0.0.1:{port}/").startswith("Static Website Init")


FAILS_TO_START = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: failing-data}
---
apiVersion: v1
kind: Pod
metadata: {name: failing}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["/data/run.sh"]
      volumeMounts: [{name: data, mountPath: /data}]
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: failing-data}
"""


def test_failing_step_stops_with_podman_error_and_rerun_converges(podman, tmp_path):
    """The last step fails at Podman (the command is not in the volume yet); once it is, the same
    manifest applied again converges from what the first run left."""
    manifest = write(tmp_path, FAILS_TO_START)
    failed = podspec(podman, "apply", manifest)
    assert failed.exit_code == 1
    assert "error: step 5/6 failed: start pod failing: Podman refused to start pod failing" in failed.stderr
    assert "done: 4 step(s); not done: create volume podspec-names.itest" in failed.stderr
    assert "Traceback" not in failed.stderr

    mountpoint = podman.podman("volume", "inspect", "failing-data", "--format", "{{.Mountpoint}}").stdout.strip()
    script = Path(mountpoint) / "run.sh"
    script.write_text("#!/bin/sh\nexec sleep 100000\n")
    script.chmod(0o755)
    rerun = podspec(podman, "apply", manifest)
    assert rerun.exit_code == 0, rerun.stderr
    assert "start container failing-app: done" in rerun.output  # the pod's infra runs already
    assert podman.podman("inspect", "failing-app", "--format", "{{.State.Running}}").stdout.strip() == "true"
    assert podspec(podman, "diff", manifest).exit_code == 0


def test_once_init_container_runs_at_first_start_only(podman, tmp_path):
    port = free_port()
    text = webserver(port).replace("io.podman.annotations.init.container.type: always", "io.podman.annotations.init.container.type: once")
    manifest = write(tmp_path, text)
    assert podspec(podman, "apply", manifest).exit_code == 0
    assert fetch(f"http://127.0.0.1:{port}/").startswith("Static Website Init")
    # Podman removes a `once` init container after its run; that is not drift.
    assert "dynamic-webserver-apache-httpd-init" not in ids(podman)
    again = podspec(podman, "apply", manifest)
    assert again.exit_code == 0 and "Nothing to do." in again.output

    podman.podman("exec", "dynamic-webserver-apache-httpd", "sh", "-c", "echo rewritten > /usr/local/apache2/htdocs/index.html")
    podman.podman("pod", "stop", "-t", "1", "dynamic-webserver")
    podman.podman("pod", "start", "dynamic-webserver")
    assert fetch(f"http://127.0.0.1:{port}/").startswith("rewritten")


def test_private_service_started_for_the_command_when_none_answers(podman, tmp_path, monkeypatch):
    # No --url, no $CONTAINER_HOST, no default socket: podspec starts `podman system service`
    # itself, with the environment it was given (here: the private storage), and stops it after.
    monkeypatch.setattr(connection, "default_sockets", lambda env: [str(tmp_path / "absent.sock")])
    env = podman.env()
    podman.podman("volume", "create", "seen-through-private-service")
    endpoint = connection.resolve(None, None, env)
    assert endpoint.how == "a private podman service started for this command"
    assert endpoint.tried == [f"unix://{tmp_path / 'absent.sock'} (no answer)"]
    engine = PodmanEngine(endpoint)
    try:
        names = [v.name for v in engine.observe().volumes]
    finally:
        engine.close()
    assert "seen-through-private-service" in names
    assert endpoint.process is None
    assert not connection.ping_unix(endpoint.url[len("unix://"):])


def test_bad_manifests_stop_the_private_service_their_early_read_started(podman, tmp_path, monkeypatch):
    # diff and apply connect and read on a thread while the manifests load (run/reading.py); when
    # the manifests are refused, a private service that thread started is still stopped.
    import time

    from podspec.errors import ManifestError
    from podspec.run.apply import DiffRequest, diff
    from podspec.run.manifests import Manifests

    monkeypatch.setattr(connection, "default_sockets", lambda env: [str(tmp_path / "absent.sock")])
    env = podman.env()
    opened: list[PodmanEngine] = []

    def connect() -> PodmanEngine:
        engine = PodmanEngine(connection.resolve(None, None, env))
        opened.append(engine)
        return engine

    bad = write(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n", "bad.yaml")
    with pytest.raises(ManifestError):
        diff(DiffRequest(Manifests((bad,)), "edges"), connect)
    deadline = time.monotonic() + 60
    while not (opened and opened[0].endpoint.process is None) and time.monotonic() < deadline:
        time.sleep(0.1)
    [engine] = opened
    assert engine.endpoint.how == "a private podman service started for this command"
    assert engine.endpoint.process is None, "the service was stopped when the read ended"
    assert not connection.ping_unix(engine.url[len("unix://"):])


RESTRICTED = """\
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
    sysctls:
      - {name: net.ipv4.tcp_syncookies, value: "1"}
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
"""


def test_restricted_pod_runs_as_asked(podman, tmp_path):
    manifest = write(tmp_path, RESTRICTED)
    result = podspec(podman, "apply", "--policy", "restricted", manifest)
    assert result.exit_code == 0, result.stderr
    inside = podman.podman("exec", "locked-main", "sh", "-c", "id -u; grep CapEff /proc/self/status; cat /proc/sys/net/ipv4/tcp_syncookies").stdout.split("\n")
    assert inside[0] == "1000"
    assert inside[1].split() == ["CapEff:", "0000000000000000"]
    assert inside[2] == "1"
    assert podspec(podman, "diff", "--policy", "restricted", manifest).exit_code == 0


SCRATCH = """\
apiVersion: v1
kind: Pod
metadata:
  name: scratchpod
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: writer
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "echo shared > /scratch/note; sleep 100000"]
      volumeMounts: [{name: scratch, mountPath: /scratch}]
    - name: reader
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
    - name: scratch
      emptyDir: {}
"""


def test_empty_dir_is_the_pods_own_labelled_volume_and_goes_with_it(podman, tmp_path):
    import time

    # A volume with the emptyDir's would-be name that podspec did not make is never used.
    podman.podman("volume", "create", "scratchpod_scratch")
    manifest = write(tmp_path, SCRATCH)
    refused = podspec(podman, "apply", manifest)
    assert refused.exit_code == 1
    assert "volume scratchpod_scratch: pod scratchpod needs this volume for an emptyDir" in refused.stderr
    podman.podman("volume", "rm", "scratchpod_scratch")

    assert podspec(podman, "apply", manifest).exit_code == 0
    labels = podman.podman("volume", "inspect", "scratchpod_scratch", "--format", "{{json .Labels}}").stdout
    assert '"io.podspec.empty-dir":"scratchpod"' in labels
    for _ in range(50):
        seen = podman.podman("exec", "scratchpod-reader", "cat", "/scratch/note", check=False)
        if seen.returncode == 0:
            break
        time.sleep(0.1)
    assert seen.stdout == "shared\n"  # one emptyDir, shared by the pod's containers
    assert podspec(podman, "diff", manifest).exit_code == 0

    assert podspec(podman, "delete", manifest).exit_code == 0
    assert "scratchpod_scratch" not in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()


def test_run_as_non_root_is_enforced_before_any_change(podman, tmp_path):
    # The stand-in busybox image sets no USER: it runs as root, so runAsNonRoot cannot hold.
    text = RESTRICTED.replace("    runAsUser: 1000\n", "")
    manifest = write(tmp_path, text)
    for command in (("apply",), ("apply", "--dry-run"), ("diff",)):
        result = podspec(podman, *command, "--policy", "restricted", manifest)
        assert result.exit_code == 1, (command, result.output)
        assert ("locked/main: runAsNonRoot is true, but image docker.io/library/busybox:latest runs as root "
                "(it sets no USER)") in result.stderr
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""


def test_dry_run_and_diff_say_what_apply_would_pull_or_refuse(podman, tmp_path):
    from tests.integration.manifests import sleeper

    absent = sleeper("later").replace("docker.io/library/busybox:latest", "docker.io/library/notyet:1.0")
    result = podspec(podman, "apply", "--dry-run", write(tmp_path, absent))
    assert result.exit_code == 2
    assert "warning: image docker.io/library/notyet:1.0 is not on the host; apply will pull it" in result.stderr
    never = absent.replace("imagePullPolicy: IfNotPresent", "imagePullPolicy: Never")
    for command in (("diff",), ("apply", "--dry-run")):
        refused = podspec(podman, *command, write(tmp_path, never))
        assert refused.exit_code == 1
        assert "image docker.io/library/notyet:1.0 (used by later/main) is not on the host and imagePullPolicy is Never" in refused.stderr


def test_a_tcp_service_sees_what_the_unix_socket_applied(podman, podman_tcp, tmp_path):  # noqa: F811
    # tcp:// goes through the same HTTP client as unix:// and ssh://: same answers as the local socket.
    from typer.testing import CliRunner

    from podspec.cli import app
    from tests.integration.manifests import sleeper

    manifest = write(tmp_path, sleeper("overtcp"))
    assert podspec(podman, "apply", manifest).exit_code == 0  # over the unix socket
    result = CliRunner().invoke(app, ["diff", manifest, "--url", podman_tcp, "--project", "itest"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "pod overtcp: up to date" in result.stdout


def test_sub_path_on_a_named_volume_is_refused_where_podman_would_ignore_it(podman, tmp_path):
    from podspec.engine.podman import connect
    from podspec.reconcile.podman_rules import version_tuple

    with connect(podman.url) as engine:
        version = engine.version()
    head, httpd = webserver(free_port()).split("    - name: apache-httpd\n", 1)
    text = head + "    - name: apache-httpd\n" + httpd.replace(
        "mountPath: /usr/local/apache2/htdocs}", "mountPath: /usr/local/apache2/htdocs, subPath: site}", 1)
    assert "subPath: site" in text
    result = podspec(podman, "apply", write(tmp_path, text))
    if version_tuple(version) >= (5, 0):
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 1
    assert ("dynamic-webserver/apache-httpd mounts data with subPath 'site': subPath on a persistentVolumeClaim "
            f"or emptyDir mount needs Podman 5.0 or newer (this host runs {version}, which would ignore it)") in result.stderr
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""


def _pod_labels(podman, name: str) -> dict[str, str]:
    import json

    return json.loads(podman.podman("pod", "inspect", name, "--format", "{{json .Labels}}").stdout)


def test_an_empty_pod_podman_left_of_this_project_is_replaced_and_anyone_elses_is_not(podman, tmp_path):
    """Podman can leave a pod with no infra container and no container (a removal racing a start):
    the container list podspec reads the pods from does not show it, and creating the pod again ran
    into its name at every apply, and at every repair of the agent. One that podspec created for
    this project and source is removed and the pod created; one anyone else made is left alone and named."""
    port = free_port()
    manifest = write(tmp_path, webserver(port))
    assert podspec(podman, "apply", manifest).exit_code == 0
    labels = _pod_labels(podman, "dynamic-webserver")
    podman.podman("pod", "rm", "-f", "-t", "0", "dynamic-webserver")
    podman.podman("pod", "create", "--infra=false", *[a for k, v in labels.items() for a in ("--label", f"{k}={v}")],
                  "dynamic-webserver")

    applied = podspec(podman, "apply", manifest)
    assert applied.exit_code == 0, applied.stderr
    assert fetch(f"http://127.0.0.1:{port}/").startswith("Static Website Init")
    assert podman.podman("pod", "inspect", "dynamic-webserver", "--format", "{{.NumContainers}}").stdout.strip() != "0"

    podman.podman("pod", "rm", "-f", "-t", "0", "dynamic-webserver")
    podman.podman("pod", "create", "--infra=false", "--label", "team=ops", "dynamic-webserver")
    refused = podspec(podman, "apply", manifest)
    assert refused.exit_code == 1 and "Traceback" not in refused.stderr
    assert "create pod dynamic-webserver" in refused.stderr and "exists" in refused.stderr, refused.stderr
    assert _pod_labels(podman, "dynamic-webserver") == {"team": "ops"}, "another's pod is never touched"
    podman.podman("pod", "rm", "dynamic-webserver")
