"""A real OpenSSH server (Debian's openssh-server) on a loopback port, in front of the private Podman.

The `sshd` fixture (session) makes a host key and a client key for the test, writes an sshd_config
that allows root to log in with that key only (no passwords, no PAM) and to forward unix sockets,
and runs `/usr/sbin/sshd -D -f CONFIG -p PORT` on 127.0.0.1. The client side is an ssh_config
(`PODSPEC_SSH_CONFIG`) whose known_hosts holds the test's host key, so nothing in the machine's
~/.ssh is read or written.

Run it inside a private network namespace (scripts/test.sh under `unshare --net`), like the other
integration tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    dir: Path
    port: int
    client_key: Path  # authorized for root
    other_key: Path  # a valid key the server does not accept
    known_hosts: Path
    ssh_config: Path  # points at known_hosts; used through $PODSPEC_SSH_CONFIG
    empty_config: Path  # knows no host key

    def url(self, socket_path: str | Path) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{socket_path}"

    def tunnels(self) -> set[int]:
        """The ssh clients connected to this server now: podspec's `ssh -N` tunnels (not sshd)."""
        found = subprocess.run(["pgrep", "-f", "--", f"^ssh -N .* -p {self.port} "], capture_output=True, text=True)
        assert found.returncode in (0, 1), found.stderr  # 1: none; anything else is pgrep refusing the call
        return {int(pid) for pid in found.stdout.split()}

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("CONTAINER_HOST", None)
        env["PODSPEC_SSH_CONFIG"] = str(self.ssh_config)
        env.update(extra)
        return env


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited ({process.returncode}): {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{port} within {timeout}s: {log.read_text()}")


def start(base: Path) -> tuple[Sshd, subprocess.Popen]:
    if not Path(SSHD).exists() or shutil.which("ssh") is None:
        pytest.fail("openssh-server and openssh-client are not installed: run scripts/bootstrap.sh")
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    host_key, client_key, other_key = base / "host_ed25519", base / "client_ed25519", base / "other_ed25519"
    _keygen(host_key, "podspec-test-host")
    _keygen(client_key, "podspec-test-client")
    _keygen(other_key, "podspec-test-other")
    (base / "authorized_keys").write_text((base / "client_ed25519.pub").read_text())
    port = _free_port()
    config = base / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\n"
        f"PidFile {base / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "AllowStreamLocalForwarding yes\n"
        "AllowTcpForwarding local\n"  # also gates unix-socket forwards (the permitted opens)

        "X11Forwarding no\n"
        "MaxSessions 100\n"
        "MaxStartups 100\n"
        "LogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    log = base / "sshd.log"
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config), "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
    )
    _wait_listening(port, process, log)
    public = (base / "host_ed25519.pub").read_text().split()
    known_hosts = base / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
    ssh_config = base / "ssh_config"
    ssh_config.write_text(f"Host *\n  UserKnownHostsFile {known_hosts}\n  GlobalKnownHostsFile /dev/null\n")
    empty_config = base / "ssh_config_no_hosts"
    (base / "known_hosts_empty").write_text("")
    empty_config.write_text(f"Host *\n  UserKnownHostsFile {base / 'known_hosts_empty'}\n  GlobalKnownHostsFile /dev/null\n")
    return Sshd(base, port, client_key, other_key, known_hosts, ssh_config, empty_config), process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server, process = start(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        stop(process)
