"""Rootless Podman, run by an ordinary user (scripts/test-rootless.sh runs these as one, in .ci/run):
each rootless limit refused before any change, with its message; which Podman podspec talks to; the
user's default socket and the private service in the user's runtime directory; the apply lock in the
user's own directory; hostUsers: false as a private user namespace.

Every test here is marked `rootless`: it is skipped when the tests run as root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.engine import connection
from podspec.engine.podman import PodmanEngine
from podspec.run import lock
from tests.integration.manifests import podspec, sleeper, write

pytestmark = pytest.mark.rootless

ROOT = Path(__file__).resolve().parents[2]


def nothing_on_the_host(podman) -> None:
    """No pod, container or volume; the history's record of a refused apply (issue 13) aside."""
    assert podman.podman("ps", "-a", "--format", "{{.Names}}").stdout.split() == []
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == []
    volumes = podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert [v for v in volumes if not v.startswith("podspec-history.")] == []


def pod_with(spec: str = "", container: str = "", name: str = "limited") -> str:
    return f"""\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}-data
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
{spec}  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      volumeMounts:
        - {{name: data, mountPath: /data}}
{container}  volumes:
    - name: data
      persistentVolumeClaim: {{claimName: {name}-data}}
"""


UNREADABLE = "/root"  # root's home: mode 0700, not the user's

LIMITS = {
    # limit: (manifest, the problem's text, what to do instead)
    "host port below the unprivileged start": (
        pod_with(container="      ports:\n        - {containerPort: 80, hostPort: 80}\n"),
        "host port 80 cannot be published: it is below 1024 (net.ipv4.ip_unprivileged_port_start is 1024 on this host)",
        "use a hostPort of 1024 or above (e.g. 8080)",
    ),
    "LoadBalancer Service port below the unprivileged start": (
        pod_with().replace("kind: Pod\nmetadata:\n  name: limited\n", "kind: Pod\nmetadata:\n  name: limited\n  labels: {app: l}\n")
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: edge}\nspec:\n  type: LoadBalancer\n"
          "  selector: {app: l}\n  ports: [{port: 80}]\n",
        "host port 80 cannot be published: it is below 1024 (net.ipv4.ip_unprivileged_port_start is 1024 on this host)",
        "use a hostPort of 1024 or above (e.g. 8080)",
    ),
    "hostNetwork port": (
        pod_with(spec="  hostNetwork: true\n", container="      ports:\n        - {containerPort: 80}\n"),
        "with hostNetwork the container binds port 80 on the host itself, as the user, and cannot below 1024",
        "drop hostNetwork and publish the port with a hostPort of 1024 or above",
    ),
    "hostPath the user cannot read": (
        pod_with(container="        - {name: secret, mountPath: /secret}\n").replace(
            "  volumes:\n", f"  volumes:\n    - name: secret\n      hostPath: {{path: {UNREADABLE}}}\n"),
        f"hostPath {UNREADABLE} cannot be mounted: the user Podman runs as (uid {os.geteuid()}) cannot read it",
        "give that user read access",
    ),
    "resources the user's cgroups cannot limit": (
        pod_with(container="      resources:\n        limits: {memory: 64Mi}\n"),
        "memory requests and limits would be ignored",
        "remove the memory requests and limits",
    ),
    "capability a rootless container cannot get": (
        pod_with(container="      securityContext:\n        capabilities: {add: [SYS_TIME]}\n"),
        "a rootless container cannot hold capability SYS_TIME: the clock is the host's",
        "remove SYS_TIME from capabilities.add",
    ),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_each_rootless_limit_is_refused_before_any_change(podman, tmp_path, limit):
    manifest, message, instead = LIMITS[limit]
    if limit.startswith("resources") and "memory" in podman.podman("info", "--format", "{{.Host.CgroupControllers}}").stdout:
        pytest.skip("this host delegates the memory controller to the user: limits work rootless here")
    path = write(tmp_path, manifest)
    for command in (["diff"], ["apply"], ["apply", "--dry-run"]):
        result = podspec(podman, *command, path, "--policy", "privileged")
        assert result.exit_code == 1, (command, result.output, result.stderr)
        problem = next(line for line in result.stderr.splitlines() if message in line)
        assert re.match(rf"{re.escape(path)}:\d+:\d+: spec\.", problem), problem
        assert f"rootless (uid {os.geteuid()}) Podman: {message}" in problem
        assert instead in problem and "or apply these manifests with root Podman" in problem
        assert "nothing was changed on the host" in result.stderr
        nothing_on_the_host(podman)


def test_the_same_pod_without_the_limit_applies(podman, tmp_path):
    manifest = pod_with(container="      ports:\n        - {containerPort: 80, hostPort: 18080}\n")
    result = podspec(podman, "apply", write(tmp_path, manifest))
    assert result.exit_code == 0, result.stderr
    assert podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == ["limited"]


def test_a_load_balancer_service_serves_the_page_on_the_host(podman, tmp_path):
    """Rootless: the host port reaches the balancer through rootlessport, the balancer the pod by the
    Service's name on the project network."""
    from tests.conftest import fetch

    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: page, labels: {app: page}}\nspec:\n"
        "  terminationGracePeriodSeconds: 1\n  containers:\n  - {name: httpd, image: docker.io/library/httpd:2.4}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: edge}\nspec:\n  type: LoadBalancer\n"
        "  selector: {app: page}\n  ports: [{port: 18081, targetPort: 80}]\n")
    result = podspec(podman, "apply", write(tmp_path, manifest))
    assert result.exit_code == 0, result.stderr
    assert "It works!" in fetch("http://127.0.0.1:18081/", timeout=30)


def test_the_limit_is_real_podman_itself_refuses_the_port(podman):
    """What podspec refuses up front is what rootless Podman fails on half-way (the pod exists by then)."""
    made = podman.podman("pod", "create", "--name", "by-hand", "-p", "80:80", check=False)
    started = podman.podman("pod", "start", "by-hand", check=False) if made.returncode == 0 else made
    assert started.returncode != 0
    assert "cannot expose privileged port 80" in started.stderr, started.stderr


def info(podman, *args: str):
    return CliRunner().invoke(app, ["info", "--url", podman.url, *args], catch_exceptions=False)


def test_info_says_rootless_and_the_users_uid(podman):
    text = info(podman)
    assert text.exit_code == 0, text.stderr
    assert f"rootless (uid {os.geteuid()})" in text.stdout
    assert "host ports it can publish: from 1024" in text.stdout
    data = json.loads(info(podman, "-o", "json").stdout)
    assert data["podman"]["rootless"] is True and data["podman"]["uid"] == os.geteuid()
    assert data["podman"]["chosen_by"] == "--url"
    assert data["lock_dir"] == str(Path(os.environ["XDG_RUNTIME_DIR"]) / "podspec" / "locks")


def test_the_users_default_socket_is_found(podman, tmp_path):
    """No --url, no $CONTAINER_HOST: podspec finds $XDG_RUNTIME_DIR/podman/podman.sock, rootless Podman's
    own default (here the sandbox's service, linked there), and says so."""
    runtime = tmp_path / "xdg"
    (runtime / "podman").mkdir(parents=True)
    (runtime / "podman" / "podman.sock").symlink_to(podman.url[len("unix://"):])
    env = {**podman.env(), "XDG_RUNTIME_DIR": str(runtime)}
    found = connection.resolve(None, None, env)
    assert (found.url, found.how) == (f"unix://{runtime}/podman/podman.sock", "the default socket")
    shown = subprocess.run([str(Path(sys.executable).parent / "podspec"), "info", "-o", "json"], env=env, cwd=tmp_path,
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["podman"]["chosen_by"] == "the default socket" and data["podman"]["rootless"] is True
    assert data["lock_dir"] == str(runtime / "podspec" / "locks")


def test_the_private_service_lives_in_the_users_runtime_directory(podman, tmp_path, monkeypatch):
    monkeypatch.setattr(connection, "default_sockets", lambda env: [str(tmp_path / "absent.sock")])
    short = Path(tempfile.mkdtemp(prefix="rl-"))  # pytest's paths are too deep for a socket's
    runtime = short / "podspec"
    endpoint = connection.resolve(None, None, podman.env(), runtime=runtime)
    engine = PodmanEngine(endpoint)
    try:
        assert endpoint.how == "a private podman service started for this command"
        assert Path(endpoint.url[len("unix://"):]).parent.parent == runtime
        assert engine.host().rootless and engine.host().uid == os.geteuid()
    finally:
        engine.close()
    assert list(runtime.iterdir()) == []  # removed with the service
    shutil.rmtree(short)


def test_the_apply_lock_is_in_the_users_own_directory(podman, tmp_path):
    assert podspec(podman, "apply", write(tmp_path, sleeper("locked"))).exit_code == 0
    locks = Path(os.environ["XDG_RUNTIME_DIR"]) / "podspec" / "locks"
    assert lock.lock_dir() == locks
    assert any(p.name.startswith("itest-") for p in locks.iterdir())
    assert locks.stat().st_uid == os.geteuid() and locks.stat().st_mode & 0o077 == 0


def test_host_users_false_is_refused_on_podman_4_before_any_change(podman, tmp_path):
    """kube play gives such a pod a user namespace (userns=auto) on 4.3, rootless too (container root
    is then a subordinate ID, not the user); Podman 4.3's API does not (the pod cannot start), so
    podspec refuses it there, before any change, and says what instead."""
    private = sleeper("private").replace("spec:\n", "spec:\n  hostUsers: false\n", 1)
    result = podspec(podman, "apply", write(tmp_path, private))
    assert result.exit_code == 1
    assert ("private: hostUsers: false (a private user namespace) through Podman's API needs Podman 5.0 or newer "
            "(this host runs 4.3.1); podman kube play gives it one on this version") in result.stderr
    nothing_on_the_host(podman)
    # What kube play does with it here, rootless: container root is not the user.
    played = podman.podman("kube", "play", write(tmp_path, private, "play.yaml"))
    assert played.returncode == 0
    uid_map = podman.podman("exec", "private-main", "cat", "/proc/self/uid_map").stdout.split()
    assert uid_map[0] == "0" and uid_map[1] != str(os.geteuid())
