"""The apply lock lives on the host: two clients reaching one Podman through different URLs (its
unix socket and ssh://) never apply the same project at once; a lock left by a client that died
is taken over when its lease ends, and the output says so."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from tests.integration.sshd import Sshd, sshd  # noqa: F401 - the fixture
from tests.integration.test_ssh import PODSPEC, over_ssh

pytestmark = pytest.mark.podman

# Ready about three seconds after it starts: `apply --wait` holds the lock that long.
SLOW = """\
apiVersion: v1
kind: Pod
metadata:
  name: slow
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "sleep 3; touch /tmp/ready; exec sleep 100000"]
      readinessProbe:
        exec: {command: ["test", "-f", "/tmp/ready"]}
        periodSeconds: 1
"""


def lock_volumes(podman) -> list[str]:
    return [v for v in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split() if v.startswith("podspec_lock_")]


def test_two_clients_over_unix_and_ssh_one_waits(podman, sshd: Sshd, tmp_path):  # noqa: F811
    manifest = tmp_path / "slow.yaml"
    manifest.write_text(SLOW)
    env = sshd.env(PODSPEC_PROJECT="locked")
    first = subprocess.Popen([PODSPEC, "apply", str(manifest), "--url", podman.url, "--wait", "--timeout", "60"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while lock_volumes(podman) != ["podspec_lock_locked"]:
        assert first.poll() is None and time.monotonic() < deadline, "the first apply never took the lock"
        time.sleep(0.05)
    holder = json.loads(podman.podman("volume", "inspect", "podspec_lock_locked").stdout)[0]["Labels"]
    assert holder["io.podspec.lock"] == "locked"
    assert holder["io.podspec.lock.pid"] == str(first.pid)

    # The second has something to do (one more pod; an apply with nothing to do takes no lock, as
    # diff): it waits for the first, then reads the host again under the lock.
    more = tmp_path / "more.yaml"
    more.write_text(SLOW + "---\n" + SLOW.replace("name: slow", "name: slow-too"))
    second = subprocess.run([PODSPEC, "apply", str(more), *over_ssh(sshd, podman)],
                            env=env, capture_output=True, text=True, timeout=120)
    first_out, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert "Applied: 2 to create" in first_out  # the project network and the pod
    assert second.returncode == 0, second.stderr
    assert f"waiting for {holder['io.podspec.lock.holder']}, which is applying project 'locked'" in second.stderr
    assert "Applied: 1 to create" in second.stdout  # only slow-too: it read the host after the first one finished
    assert lock_volumes(podman) == []


def test_a_lock_of_a_client_that_died_elsewhere_is_taken_over_when_its_lease_ends(podman, sshd: Sshd, tmp_path):  # noqa: F811
    manifest = tmp_path / "slow.yaml"
    manifest.write_text(SLOW.replace("sleep 3; ", ""))
    env = sshd.env(PODSPEC_PROJECT="orphan")

    def left_behind(expires: int) -> None:  # as a client on another machine, killed mid-apply, leaves it
        podman.podman("volume", "rm", "--force", "podspec_lock_orphan")
        podman.podman("volume", "create", "--label", "io.podspec.managed-by=podspec", "--label", "io.podspec.lock=orphan",
                      "--label", "io.podspec.lock.holder=podspec apply on runner-9 (pid 4242)",
                      "--label", "io.podspec.lock.client=another-machine", "--label", "io.podspec.lock.token=t0",
                      "--label", f"io.podspec.lock.expires={expires}", "podspec_lock_orphan")

    left_behind(int(time.time()) + 600)  # its lease still runs

    refused = subprocess.run([PODSPEC, "apply", str(manifest), *over_ssh(sshd, podman), "--lock-timeout", "0"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "is being changed by podspec apply on runner-9 (pid 4242); gave up after 0s" in refused.stderr
    until = re.search(r"taken over when its lease ends, in (\d+)s", refused.stderr)
    assert until is not None and 580 <= int(until.group(1)) <= 600, refused.stderr  # 600 s from its making, rounded
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""

    left_behind(int(time.time()) - 5)  # its lease ran out

    taken = subprocess.run([PODSPEC, "apply", str(manifest), "--url", podman.url, "--lock-timeout", "30"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert taken.returncode == 0, taken.stderr
    assert "took over the lock of project 'orphan'" in taken.stderr
    assert "from podspec apply on runner-9 (pid 4242): its lease ran out" in taken.stderr
    assert lock_volumes(podman) == []


def test_the_lock_does_not_show_in_diff_status_or_prune(podman, sshd: Sshd, tmp_path):  # noqa: F811
    manifest = tmp_path / "slow.yaml"
    manifest.write_text(SLOW.replace("sleep 3; ", ""))
    env = sshd.env(PODSPEC_PROJECT="quiet")
    podman.podman("volume", "create", "--label", "io.podspec.managed-by=podspec", "--label", "io.podspec.lock=other",
                  "podspec_lock_other")
    assert subprocess.run([PODSPEC, "apply", str(manifest), "--url", podman.url], env=env).returncode == 0
    diff = subprocess.run([PODSPEC, "diff", str(manifest), "--url", podman.url, "--prune", "--prune-volumes"],
                          env=env, capture_output=True, text=True)
    assert diff.returncode == 0, diff.stdout
    assert lock_volumes(podman) == ["podspec_lock_other"]
