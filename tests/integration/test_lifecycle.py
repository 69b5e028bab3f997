"""Issue 23 against a real Podman: `podspec stop` / `start`, the boot unit after a simulated reboot,
and the boot units' `systemd-analyze verify`."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sandbox  # (tools/ is on sys.path: tests/conftest.py)
from typer.testing import CliRunner

from podspec.cli import app
from tests.conftest import fetch, free_port
from tests.integration.manifests import webserver
from tests.integration.sshd import Sshd, sshd  # noqa: F401 - the fixture
from tests.integration.test_ssh import over_ssh

UNITS = Path(__file__).resolve().parents[2] / "packaging" / "systemd"
BOOT_UNITS = (UNITS / "podspec-boot.service", UNITS / "user" / "podspec-boot.service")
POD = "dynamic-webserver"
HTTPD = f"{POD}-apache-httpd"
PODSPEC = str(Path(sys.executable).parent / "podspec")


def run(podman, *args: str):
    extra = ["--project", "life"] if args[0] in ("apply", "diff", "delete") else []
    return CliRunner().invoke(app, [*args, "--url", podman.url, *extra], catch_exceptions=False)


def page(port: int, until=lambda body: True, timeout: float = 30) -> str:
    return fetch(f"http://127.0.0.1:{port}/", timeout=timeout, until=until)


def states(podman) -> dict[str, str]:
    listed = json.loads(podman.podman("ps", "-a", "--format", "json").stdout)
    return {c["Names"][0]: c["State"] for c in listed}


def test_stop_keeps_the_pod_stopped_through_apply_and_start_brings_it_back(podman, tmp_path):
    port = free_port()
    manifest = tmp_path / "web.yaml"
    manifest.write_text(webserver(port))
    assert run(podman, "apply", str(manifest)).exit_code == 0
    assert "Static Website Init" in page(port)

    stopped = run(podman, "stop", POD)
    assert stopped.exit_code == 0, stopped.stdout + stopped.stderr
    assert states(podman)[HTTPD] in ("exited", "stopped")
    again = run(podman, "apply", str(manifest))
    assert again.exit_code == 0 and "Nothing to do." in again.stdout, again.stdout
    assert run(podman, "diff", str(manifest)).exit_code == 0
    assert states(podman)[HTTPD] in ("exited", "stopped")
    status = json.loads(run(podman, "status", "-o", "json").stdout)
    assert status["pods"][0]["stopped"] and status["pods"][0]["drift"] == []

    podman.podman("volume", "create", "--label", "x=y", "unrelated")  # other volumes are left alone
    started = run(podman, "start", POD, "--timeout", "60")
    assert started.exit_code == 0, started.stdout + started.stderr
    assert "Ready: dynamic-webserver." in started.stdout
    assert "Static Website Init" in page(port)
    names = podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert "podspec-stopped.dynamic-webserver" not in names and "unrelated" in names
    # Stopped behind podspec's back: drift again, repaired by apply.
    podman.podman("pod", "stop", "-t", "1", POD)
    assert run(podman, "diff", str(manifest)).exit_code == 2


def test_a_simulated_reboot_then_the_boot_units_command_serves_the_page_again(podman, tmp_path):
    """Every container stopped, the Podman service restarted, then the unit's ExecStart: the
    tutorial's page comes back, rewritten by its init container (type always), which ran again."""
    port = free_port()
    manifest = tmp_path / "web.yaml"
    manifest.write_text(webserver(port))
    assert run(podman, "apply", str(manifest)).exit_code == 0
    podman.podman("exec", HTTPD, "sh", "-c", "echo before-the-reboot > /usr/local/apache2/htdocs/index.html")
    assert "before-the-reboot" in page(port)

    # The reboot: every container stops, the service goes away and comes back.
    podman.podman("stop", "--all", "-t", "1")
    sandbox.stop_service(podman.state)
    sandbox.start_service(podman.state)
    assert set(states(podman).values()) <= {"exited", "stopped"}

    rebooted = time.monotonic()
    argv, env = unit_command(BOOT_UNITS[0], podman.url)
    done = subprocess.run(argv, env={**os.environ, **podman.env(), **env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    body = page(port, until=lambda b: "Static Website Init" in b)
    served = time.monotonic() - rebooted
    assert body.startswith("Static Website Init") and "before-the-reboot" not in body
    print(f"\nsimulated reboot -> tutorial page served: {served:.1f}s (podspec start --all: {done.stdout.strip()!r})")
    assert "Started: dynamic-webserver" in done.stdout


def unit_command(unit: Path, url: str) -> tuple[list[str], dict[str, str]]:
    """The unit's ExecStart as systemd would split it (this checkout's podspec), with its
    Environment=, CONTAINER_HOST pointed at the test's Podman."""
    argv: list[str] = []
    env: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        if line.startswith("ExecStart="):
            argv = shlex.split(line[len("ExecStart="):])
        elif line.startswith("Environment="):
            for item in shlex.split(line[len("Environment="):]):
                key, _, value = item.partition("=")
                env[key] = value
    assert argv[0] == "/usr/local/bin/podspec" and argv[1:3] == ["start", "--all"], argv
    assert "CONTAINER_HOST" in env
    env["CONTAINER_HOST"] = url
    return [PODSPEC, *argv[1:]], env


@pytest.mark.parametrize("unit", BOOT_UNITS, ids=["system", "user"])
def test_the_boot_units_pass_systemd_analyze_verify(tmp_path, unit):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: scripts/bootstrap.sh installs Debian's systemd package")
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/usr/local/bin/podspec", PODSPEC))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    scope = ["--user"] if "user" in unit.parts else []
    done = subprocess.run(["systemd-analyze", "verify", *scope, "--man=no", str(copy)], capture_output=True, text=True,
                          check=False, timeout=60, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert done.returncode == 0 and "podspec" not in done.stderr, done.stderr
    broken = tmp_path / "broken.service"
    broken.write_text(copy.read_text().replace("ExecStart=" + PODSPEC, "ExecStart=/nonexistent/podspec"))
    failed = subprocess.run(["systemd-analyze", "verify", *scope, "--man=no", str(broken)], capture_output=True, text=True,
                            check=False, timeout=60, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert "not executable" in failed.stderr or failed.returncode != 0  # the check can fail
    # The command line the unit runs is one podspec accepts.
    argv, _ = unit_command(unit, "unix:///nonexistent.sock")
    assert subprocess.run([*argv, "--help"], capture_output=True, check=False, timeout=60).returncode == 0


def test_stop_and_start_over_ssh_with_a_readiness_probe(podman, sshd: Sshd, tmp_path):  # noqa: F811
    """Over ssh://: the marks, the steps and the readiness wait (an httpGet probe, made from the
    pod's network namespace through the REST API) all travel through the tunnel."""
    port = free_port()
    probe = "      readinessProbe:\n        httpGet: {path: /, port: 80}\n        periodSeconds: 1"
    manifest = tmp_path / "web.yaml"
    manifest.write_text(webserver(port, httpd_extra=probe))
    env = sshd.env(PODSPEC_PROJECT="life")
    remote = over_ssh(sshd, podman)
    applied = subprocess.run([PODSPEC, "apply", "--wait", "--timeout", "60", str(manifest), *remote], env=env,
                             capture_output=True, text=True, timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    stopped = subprocess.run([PODSPEC, "stop", "--project", "life", "-o", "json", *remote], env=env,
                             capture_output=True, text=True, timeout=300)
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)["pods"] == [POD]
    assert states(podman)[HTTPD] in ("exited", "stopped")
    started = subprocess.run([PODSPEC, "start", POD, "--timeout", "60", "-o", "json", *remote], env=env,
                             capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["ready"] == [POD]
    assert "Static Website Init" in page(port)


LIVE_EXEC = """\
apiVersion: v1
kind: Pod
metadata:
  name: live
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      livenessProbe:
        exec: {command: ["test", "-f", "/tmp/alive"]}
        periodSeconds: 30
        failureThreshold: 2
"""


def test_podmans_own_health_check_restarts_on_a_failing_exec_liveness_probe(podman, tmp_path):
    """Where Podman's health checks run (its systemd timers; here `podman healthcheck run`, as a
    timer runs it), an exec liveness probe restarts the container with no podspec process running
    (--health-on-failure=restart)."""
    manifest = tmp_path / "live.yaml"
    manifest.write_text(LIVE_EXEC)
    assert run(podman, "apply", str(manifest)).exit_code == 0
    inspect = lambda what: podman.podman("inspect", "--format", what, "live-main").stdout.strip()
    assert inspect("{{.Config.HealthcheckOnFailureAction}}") == "restart"
    before = inspect("{{.State.StartedAt}}")
    for _ in range(2):  # failureThreshold
        assert podman.podman("healthcheck", "run", "live-main", check=False).returncode != 0
    deadline = time.monotonic() + 30
    while inspect("{{.State.StartedAt}}") == before:
        assert time.monotonic() < deadline, "Podman did not restart the container"
        time.sleep(0.1)
    assert inspect("{{.State.Status}}") == "running"
