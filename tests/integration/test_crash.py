"""Crash safety against the private Podman (both engines): `podspec apply` and `podspec rollback`
SIGKILLed part way through a real plan (synchronised on the executor's progress line, never a
sleep) leave a host that the next apply or rollback converges: the right pods and containers, the
pages served, the volume's data intact, the dead command's lock taken over at once (same client,
holder gone: run/hostlock.py), and a history that reads in order (the killed command recorded
nothing; the next one's record says what runs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import fetch, free_port
from tests.integration.manifests import podspec, write
from tests.integration.test_rollback import address, deployment, server

pytestmark = pytest.mark.podman

PROJECT = "crash"


def killed(podman, *args: str, at: str) -> list[str]:
    """Run `podspec ARGS` as its own process and SIGKILL it as soon as it prints a line with `at`."""
    command = [sys.executable, "-m", "podspec", *args, "--url", podman.url, "--project", PROJECT]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if at in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    return seen


def pods(podman) -> list[str]:
    return sorted(podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split())


def serving(podman, port: int, page: str, copies: list[str]) -> None:
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: page in body)
    for pod in copies:
        fetch(f"http://{address(podman, pod)}:8080/", until=lambda body: page in body)


def test_apply_and_rollback_killed_part_way_converge_on_the_next_run(podman, tmp_path):
    """One host state carried through both kills (about 60 s: two surged rollouts of two copies,
    each removal of an old copy waiting its stop timeout, on a loaded machine)."""
    port = free_port()

    def manifests(page: str) -> str:
        return write(tmp_path, server("front", page, port, claim="crash-data") + "---\n" + deployment(page))

    one = manifests("one")
    first = podspec(podman, "apply", one, "--wait", "--timeout", "60", "--revision", "one", project=PROJECT)
    assert first.exit_code == 0, first.stderr
    podman.podman("exec", "front-web", "sh", "-c", "echo kept > /data/kept")
    serving(podman, port, "one", ["web-pod", "web-pod-1"])

    # 1. apply killed once the first new copy has started beside the old one, before it is ready
    two = manifests("two")
    seen = killed(podman, "apply", two, "--revision", "two", at="start pod web-pod-b: done")
    assert pods(podman) == ["front", "web-pod", "web-pod-1", "web-pod-b"], "".join(seen)
    assert podspec(podman, "diff", two, project=PROJECT).exit_code == 2
    after = podspec(podman, "apply", two, "--wait", "--timeout", "60", "--revision", "two", project=PROJECT)
    assert after.exit_code == 0, after.stderr
    assert "took over the lock of project 'crash'" in after.stderr  # the dead apply's lock did not block
    assert pods(podman) == ["front", "web-pod-1-b", "web-pod-b"]  # exactly `replicas` copies: none leaked
    serving(podman, port, "two", ["web-pod-b", "web-pod-1-b"])
    assert podman.podman("exec", "front-web", "cat", "/data/kept").stdout.strip() == "kept"
    assert podspec(podman, "diff", two, project=PROJECT).exit_code == 0
    records = history(podman)
    assert [(r["seq"], r["revision"], r["outcome"]) for r in records] == [(2, "two", "applied"), (1, "one", "applied")]

    # 2. rollback killed once the first copy of the old version has started beside the new one
    seen = killed(podman, "rollback", at="start pod web-pod: done")
    assert "web-pod" in pods(podman) and "web-pod-b" in pods(podman), "".join(seen)
    back = podspec(podman, "rollback", "--wait", "--timeout", "60", project=PROJECT)
    assert back.exit_code == 0, back.stderr
    assert "took over the lock of project 'crash'" in back.stderr
    assert pods(podman) == ["front", "web-pod", "web-pod-1"]
    serving(podman, port, "one", ["web-pod", "web-pod-1"])
    assert podman.podman("exec", "front-web", "cat", "/data/kept").stdout.strip() == "kept"
    records = history(podman)
    assert [(r["seq"], r["revision"], r["outcome"]) for r in records][:2] == [(3, "one", "rolled-back"), (2, "two", "applied")]
    assert podspec(podman, "diff", two, project=PROJECT).exit_code == 2  # the manifests' change is pending again
    assert podspec(podman, "diff", manifests("one"), project=PROJECT).exit_code == 0  # and what runs is revision one
    status = json.loads(podspec(podman, "status", "-o", "json", project=PROJECT).output)
    assert {p["name"]: p.get("revision") for p in status["pods"]} == {"front": "one", "web-pod": "one", "web-pod-1": "one"}
    assert "podspec_lock_crash" not in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()


def history(podman) -> list[dict]:
    listed = podspec(podman, "history", "-o", "json", project=PROJECT)
    assert listed.exit_code == 0, listed.stderr
    return json.loads(listed.output)["records"]
