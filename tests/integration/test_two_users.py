"""Two ordinary users apply the same manifest directory at the same time, each to their own rootless
Podman (found at their default socket, $XDG_RUNTIME_DIR/podman/podman.sock): they share no lock and
do not wait for each other, and each gets their own pods.

Runs as root (it starts processes as the two users: scripts/rootless-setup.sh makes them), when
scripts/test-rootless.sh asks for it (PODSPEC_TEST_TWO_USERS=1; the root suite skips it), with
the host's Podman 4.3 that the users run rootless; marked root_only, and skipped on the podman5
engine (the users' Podman is the host's whichever engine the root tests use).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sandbox  # (tools/ is on sys.path: tests/conftest.py)

from tests.conftest import ROOT
from tests.integration.manifests import sleeper

pytestmark = [pytest.mark.root_only, pytest.mark.podman]

USERS = ("podspec-rl", "podspec-rl2")
VENV = ROOT / ".venv-rootless"
READY = "/tmp/ready"  # inside the container: the probe passes once it exists

PROBE = f"""\
      readinessProbe:
        exec: {{command: ["test", "-f", "{READY}"]}}
        periodSeconds: 1
"""


def _missing() -> str | None:
    if os.environ.get("PODSPEC_TEST_TWO_USERS") != "1":
        return "run by scripts/test-rootless.sh (PODSPEC_TEST_TWO_USERS=1), once, after it prepared the users"
    if os.environ.get("PODSPEC_TEST_ENGINE", "podman4") != "podman4":
        return "the users run the host's Podman 4.3 rootless; the podman5 engine cannot (see docs/rootless.md)"
    for user in USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"user {user} is missing: run scripts/rootless-setup.sh (as root) first"
    if not (VENV / "bin" / "podspec").exists():
        return ".venv-rootless is missing: run scripts/rootless-setup.sh (as root) first"
    return None


class User:
    def __init__(self, name: str, base: Path) -> None:
        entry = pwd.getpwnam(name)
        self.name, self.uid, self.home = name, entry.pw_uid, entry.pw_dir
        self.runtime = Path(f"/run/user/{self.uid}")
        self.state = base / name
        self.state.mkdir()
        os.chown(self.state, self.uid, entry.pw_gid)

    def env(self) -> dict[str, str]:
        return {"HOME": self.home, "USER": self.name, "PATH": "/usr/local/bin:/usr/bin:/bin",
                "XDG_RUNTIME_DIR": str(self.runtime), "PYTHONDONTWRITEBYTECODE": "1"}

    def command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.name, "--", "env", "-i", *[f"{k}={v}" for k, v in self.env().items()], *args]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), capture_output=True, text=True, cwd="/")
        assert not check or result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def sandbox(self, action: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(str(VENV / "bin" / "python"), str(ROOT / "tools" / "sandbox.py"), action, "--dir", str(self.state),
                        check=check)

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """The user's sandbox Podman (its storage and runtime directory), as the user."""
        env = self.env() | {"CONTAINERS_CONF": f"{self.state}/containers.conf",
                            "CONTAINERS_STORAGE_CONF": f"{self.state}/storage.conf",
                            "XDG_RUNTIME_DIR": str(sandbox.runtime_dir(self.state))}
        result = subprocess.run(["runuser", "-u", self.name, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()],
                                 "podman", *args], capture_output=True, text=True, cwd="/")
        assert not check or result.returncode == 0, (args, result.stderr)
        return result

    def podspec(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(str(VENV / "bin" / "podspec"), *args), cwd="/",
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def two_users(tmp_path):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="podspec-two-users-"))  # pytest's own is root's alone (0700)
    os.chmod(base, 0o755)
    users = [User(name, base) for name in USERS]
    links = []
    try:
        for user in users:
            url = user.sandbox("up").stdout.strip().splitlines()[-1]
            # Each user's default socket is their sandbox's service.
            link = user.runtime / "podman" / "podman.sock"
            user.run("mkdir", "-p", str(link.parent))
            user.run("ln", "-sfn", url[len("unix://"):], str(link))
            links.append(link)
        yield users
    finally:
        for user in users:
            user.sandbox("purge", check=False)
            user.sandbox("down", check=False)
            user.podman("system", "reset", "--force", check=False)
        for link in links:
            link.unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=True)


def test_two_users_apply_the_same_directory_at_once_each_to_their_own_podman(two_users):
    first, second = two_users
    shared = first.state.parent / "webapps"  # the project is the directory's name, the same for both
    shared.mkdir()
    (shared / "pods.yaml").write_text(sleeper("app") + PROBE)
    os.chmod(shared, 0o755)

    # The first user's apply holds the project's lock while it waits for the probe ...
    holding = first.podspec("apply", "--wait", "--timeout", "60", str(shared))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _running(first, "app-main"):
        time.sleep(0.2)
    assert _running(first, "app-main"), "the first user's pod did not start"
    # ... and the second user's apply of the same directory neither waits nor fails.
    other = second.podspec("apply", "--lock-timeout", "0", str(shared))
    out, err = other.communicate(timeout=60)
    assert other.returncode == 0, out + err
    assert "waiting for another podspec" not in err
    assert "Applied: 2 to create" in out  # the project network and the pod
    assert holding.poll() is None, "the first apply should still be waiting for its probe"
    first.podman("exec", "app-main", "touch", READY)
    out, err = holding.communicate(timeout=60)
    assert holding.returncode == 0, out + err
    assert "Ready" in out

    # Each has their own pod, in their own Podman.
    for user in two_users:
        assert user.podman("pod", "ps", "--format", "{{.Name}}").stdout.split() == ["app"]
        locks = user.runtime / "podspec" / "locks"
        assert any(p.name.startswith("webapps-") for p in locks.iterdir())
        assert locks.stat().st_uid == user.uid
    assert not Path("/run/podspec/locks").exists() or not any(
        p.name.startswith("webapps-") for p in Path("/run/podspec/locks").iterdir())


def _running(user: User, container: str) -> bool:
    out = user.podman("ps", "--format", "{{.Names}}").stdout.split()
    return container in out


def test_a_users_lock_directory_is_never_one_another_user_made(two_users):
    """Without a runtime directory of their own, a user's locks go to /tmp/podspec-UID, which must be theirs."""
    first, _ = two_users
    squat = Path(f"/tmp/podspec-{first.uid}")
    shutil.rmtree(squat, ignore_errors=True)
    squat.mkdir(mode=0o777)
    os.chmod(squat, 0o777)
    try:
        probe = first.run(str(VENV / "bin" / "python"), "-c",
                          f"import os, pathlib; from podspec.run import paths; paths.private_dir(pathlib.Path('{squat}'), os.geteuid())",
                          check=False)
        assert probe.returncode != 0 and "belongs to someone else or others may write to it" in probe.stderr
    finally:
        shutil.rmtree(squat, ignore_errors=True)
