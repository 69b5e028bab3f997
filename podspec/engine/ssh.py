"""ssh:// services: one OpenSSH client per command, forwarding a local socket to the remote one.

    ssh -N -L LOCAL.sock:/run/podman/podman.sock user@host

The system's `ssh` is used (not a Python SSH library, and not podman-py's tunnel, which turns host
key checking off and waits five minutes when ssh fails), so whatever the user's SSH already does
applies: ~/.ssh/config host aliases, ProxyJump, agents, known_hosts. Host keys are checked strictly:
an unknown or changed host key is an error, never accepted silently. `BatchMode` means ssh never
asks for a password or a passphrase: a pipeline has no one to answer.

Once the forward is up, REST calls go to the local socket through the one HTTP client
(httpclient.py) with its connections kept alive, one per thread (a connection through the forward
is a channel in the one SSH session: no new handshake). Keeping them alive matters: opening and
closing a channel per call costs about 40 ms (ssh's small packets wait on delayed
acknowledgements), a call on an open one about a millisecond. Failures are told apart by ssh's own
messages and become PodmanUnavailable errors that say what failed, on which host, and how to fix it.

`$PODSPEC_SSH_CONFIG` names an ssh_config file used instead of the user's (`ssh -F`), for CI jobs
and tests that keep their known_hosts and keys in a directory of their own.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from podspec.engine.httpclient import HttpClient
from podspec.engine.transport import Reply, TransportError
from podspec.errors import PodmanUnavailable

CONNECT_TIMEOUT = 15  # seconds: TCP connect and the SSH handshake


@dataclass(frozen=True)
class SshTarget:
    user: str | None
    host: str
    port: int | None
    socket: str

    @property
    def where(self) -> str:
        """user@host:port, for messages."""
        return (f"{self.user}@" if self.user else "") + self.host + (f":{self.port}" if self.port else "")


def ssh_args(target: SshTarget) -> str:
    """The ssh command line a person would type to reach the target."""
    return (f"-p {target.port} " if target.port else "") + (f"{target.user}@" if target.user else "") + target.host


def parse(url: str) -> SshTarget:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "ssh" or not parts.hostname or port == -1 or not parts.path or parts.path == "/":
        raise PodmanUnavailable(
            f"cannot read the ssh:// URL {url!r}",
            "write it as ssh://user@host[:port]/path/to/podman.sock, e.g. ssh://root@host/run/podman/podman.sock",
        )
    return SshTarget(unquote(parts.username) if parts.username else None, parts.hostname, port, unquote(parts.path))


def ssh_command(target: SshTarget, local: str, identity: str | None, env: Mapping[str, str]) -> list[str]:
    """The tunnel: `ssh -N -L LOCAL:REMOTE_SOCKET host`."""
    return _ssh_options(target, identity, env, "-N") + ["-L", f"{local}:{target.socket}", "--", target.host]


def remote_command(target: SshTarget, identity: str | None, env: Mapping[str, str], argv: Sequence[str]) -> list[str]:
    """One command run on the target host by the same ssh (same options, keys and host-key checks).
    ssh hands the remote side one string for the login shell: every word is quoted for it, so a
    word from a manifest stays one word whatever it holds."""
    import shlex

    return _ssh_options(target, identity, env) + ["--", target.host, " ".join(shlex.quote(word) for word in argv)]


def _ssh_options(target: SshTarget, identity: str | None, env: Mapping[str, str], *extra: str) -> list[str]:
    command = [
        "ssh", *extra, "-T",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "ExitOnForwardFailure=yes",
        "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
        "-o", "ServerAliveInterval=15",
    ]
    if env.get("PODSPEC_SSH_CONFIG"):
        command += ["-F", env["PODSPEC_SSH_CONFIG"]]
    if identity:
        command += ["-i", str(Path(identity).expanduser()), "-o", "IdentitiesOnly=yes"]
    if target.port:
        command += ["-p", str(target.port)]
    if target.user:
        command += ["-l", target.user]
    return command


# (words in ssh's message, what failed, how to fix it); {where}, {host}, {port}, {identity} are filled in
_FAILURES = (
    ("connection refused", "nothing accepts SSH connections at {where} (connection refused)",
     "check the host and port in the URL, and that sshd runs there"),
    ("could not resolve hostname", "cannot resolve the host name of {where}", "check the host in the URL"),
    ("connection timed out", "no answer from {where} within {timeout}s (connection timed out)",
     "check the host, the port and any firewall in between"),
    ("no route to host", "no route to {where}", "check the host and the network"),
    ("remote host identification has changed", "the SSH host key of {where} has CHANGED since it was recorded",
     "if the host was reinstalled, remove the old key (ssh-keygen -R '{known}') and add the new one "
     "after checking its fingerprint; otherwise someone may be intercepting the connection"),
    ("host key verification failed", "the SSH host key of {where} is not known, so podspec cannot trust it",
     "record it in known_hosts after checking its fingerprint: ssh-keyscan {keyscan} >> ~/.ssh/known_hosts "
     "(or run `ssh {ssh_args}` once and answer yes)"),
    ("permission denied", "{where} refused the SSH login ({identity})",
     "pass the key that is in the user's authorized_keys there with --identity (or set the identity of the "
     "connection), or load it into ssh-agent; podspec never asks for passwords"),
    ("bad permissions", "ssh refuses the identity file {identity_file}: its permissions are too open",
     "chmod 600 {identity_file}"),
    ("invalid format", "ssh cannot read the identity file {identity_file} (not a private key)",
     "check the path given with --identity or in the connection"),
)


def explain(stderr: str, target: SshTarget, identity: str | None) -> PodmanUnavailable:
    """ssh's failure as podspec's error: what failed, on which host, how to fix it."""
    text = stderr.strip()
    lowered = text.lower()
    known = f"[{target.host}]:{target.port}" if target.port and target.port != 22 else target.host
    fill = {
        "where": target.where,
        "host": target.host,
        "known": known,
        "keyscan": (f"-p {target.port} " if target.port else "") + target.host,
        "identity": f"identity {identity}" if identity else "no identity given, so ssh offered its default keys",
        "identity_file": identity or "(none)",
        "timeout": CONNECT_TIMEOUT,
        "ssh_args": ssh_args(target),
    }
    for words, what, how in _FAILURES:
        if words in lowered:
            last = text.splitlines()[-1] if text else ""
            return PodmanUnavailable(f"{what.format(**fill)}: ssh said: {last}", how.format(**fill))
    return PodmanUnavailable(
        f"ssh to {target.where} failed: {text or 'no message'}",
        f"check that `ssh {ssh_args(target)}` works from this machine",
    )


class Tunnel:
    """One `ssh -N -L` process and its private directory (the local socket, ssh's messages)."""

    def __init__(self, url: str, identity: str | None, env: Mapping[str, str]) -> None:
        self.target = parse(url)
        self.identity = identity
        self.env = dict(env)
        if shutil.which("ssh") is None:
            raise PodmanUnavailable(f"cannot reach {self.target.where}: the ssh client is not installed here",
                                    "install OpenSSH's client (apt-get install openssh-client)")
        if identity and not Path(identity).expanduser().is_file():
            raise PodmanUnavailable(f"cannot reach {self.target.where}: the identity file {identity} does not exist",
                                    "check the path given with --identity or in the connection")
        self.dir = tempfile.mkdtemp(prefix="podspec-ssh-")
        self.local = os.path.join(self.dir, "podman.sock")
        self.log = open(os.path.join(self.dir, "ssh.log"), "w+b")  # kept open for the tunnel's life
        self.process = subprocess.Popen(
            ssh_command(self.target, self.local, identity, env),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
        )
        with _open_mutex:
            _open.add(self)

    def close(self) -> None:
        with _open_mutex:
            if self not in _open:
                return  # closed already
            _open.discard(self)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# Every tunnel of this process not closed yet: whatever still holds one at exit (an engine nobody
# closed, a prestarted tunnel never taken, the sync agent's event stream), its ssh ends with podspec.
_open: set[Tunnel] = set()
_open_mutex = threading.Lock()


def _close_all() -> None:
    with _open_mutex:
        tunnels = list(_open)
    for tunnel in tunnels:
        tunnel.close()


atexit.register(_close_all)

# Tunnels started ahead (prestart), by (url, identity): the SSH handshake runs while podspec reads
# the manifests; the transport takes its tunnel from here.
_early: dict[tuple[str, str | None], Tunnel] = {}
_early_mutex = threading.Lock()


def prestart(url: str, identity: str | None, env: Mapping[str, str]) -> None:
    """Start the tunnel to `url` now, for the engine that connects later. Says nothing when it cannot
    start: the engine's own attempt then reports why."""
    try:
        tunnel = Tunnel(url, identity, env)
    except PodmanUnavailable:
        return
    with _early_mutex:
        previous = _early.pop((url, identity), None)
        _early[(url, identity)] = tunnel
    if previous is not None:
        previous.close()


def _take(url: str, identity: str | None) -> Tunnel | None:
    with _early_mutex:
        return _early.pop((url, identity), None)


class SshTransport:
    """REST over an ssh -L forward of the remote Podman socket (see the module's text)."""

    def __init__(self, url: str, identity: str | None, timeout: float, env: Mapping[str, str] | None = None) -> None:
        self._tunnel = _take(url, identity) or Tunnel(url, identity, os.environ if env is None else env)
        self.target = self._tunnel.target
        self.identity = identity
        self._process = self._tunnel.process
        self._log = self._tunnel.log
        self._local = HttpClient(self._tunnel.local, timeout, keep_alive=True)
        try:
            self._wait_for(self._tunnel.local)
            self._check_far_side()
        except BaseException:
            self.close()
            raise

    def _ssh_said(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _wait_for(self, local: str) -> None:
        deadline = time.monotonic() + CONNECT_TIMEOUT + 5
        while not os.path.exists(local):
            if self._process.poll() is not None:
                raise explain(self._ssh_said(), self.target, self.identity)
            if time.monotonic() > deadline:
                raise PodmanUnavailable(f"ssh to {self.target.where} did not set up the tunnel within "
                                        f"{CONNECT_TIMEOUT + 5}s", f"check that `ssh {ssh_args(self.target)}` works")
            time.sleep(0.01)

    def _ping(self) -> str:
        """"" when the service answers /_ping, else what went wrong. ssh binds the local socket a
        moment before it listens on it: a refused connection is tried again for a second."""
        deadline = time.monotonic() + 1.0
        while True:
            try:
                reply = self._local.request("get", "/_ping", timeout=CONNECT_TIMEOUT)
                return "" if reply.status_code == 200 else f"HTTP {reply.status_code}"
            except TransportError as exc:
                if "refused" not in str(exc) or time.monotonic() > deadline:
                    return str(exc)
                time.sleep(0.01)

    def _check_far_side(self) -> None:
        """The remote socket is only opened when the first call comes: ask for /_ping."""
        problem = self._ping()
        if not problem:
            return
        said = self._ssh_said()
        for _ in range(50):  # ssh reports the failed channel just after it drops the connection
            if "open failed" in said or self._process.poll() is not None:
                break
            time.sleep(0.01)
            said = self._ssh_said()
        if "open failed" in said or "connect failed" in said:
            reason = said.strip().splitlines()[-1]
            raise PodmanUnavailable(
                f"no Podman service answers at {self.target.socket} on {self.target.where} ({reason})",
                "start it there (`systemctl enable --now podman.socket`, or `podman system service --time=0 "
                f"unix://{self.target.socket} &`), or fix the socket path in the URL",
            )
        raise PodmanUnavailable(
            f"Podman at {self.target.socket} on {self.target.where} did not answer over SSH: {problem}",
            "check that the socket path in the URL is Podman's API socket",
        )

    def _over_ssh(self, exc: TransportError) -> TransportError:
        """A failed call's error, saying whether the SSH connection itself ended (and what ssh said)."""
        if self._process.poll() is not None:
            return TransportError(f"the SSH connection to {self.target.where} ended: "
                                  f"{self._ssh_said().strip() or 'no message'}")
        return TransportError(f"{exc} (over SSH to {self.target.where})")

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply:
        try:
            return self._local.request(method, path, params=params, body=body, timeout=timeout)
        except TransportError as exc:
            raise self._over_ssh(exc) from None

    def stream(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[bytes]:
        """A streamed GET (Podman's events, for `podspec sync --self-heal`) over the same tunnel,
        on a connection of its own to the forwarded socket."""
        try:
            yield from HttpClient(self._tunnel.local, CONNECT_TIMEOUT).stream(path, params)
        except TransportError as exc:
            raise self._over_ssh(exc) from None

    def call_stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float | None = None,
                    compat: bool = False) -> Iterator[tuple[int, bytes]]:
        """A streaming call (a pull's progress) on a connection of its own through the forward."""
        try:
            yield from self._local.call_stream(
                method, path, params=params, headers=headers, timeout=timeout, compat=compat)
        except TransportError as exc:
            raise self._over_ssh(exc) from None

    def resolved_paths(self, paths: Sequence[str]) -> dict[str, str | None]:
        """Each path on the target host with its symbolic links resolved, as locally
        os.path.realpath does (`realpath -m`: what does not exist is kept as written); every path
        None when the host cannot tell (no GNU realpath there, a forced command, a timeout)."""
        from podspec.engine.proc import run_bounded

        unknown: dict[str, str | None] = {p: None for p in paths}
        if not paths:
            return unknown
        argv = remote_command(self.target, self.identity, self._tunnel.env, ["realpath", "-m", "-z", "--", *paths])
        try:
            done = run_bounded(argv, CONNECT_TIMEOUT + 5)
        except (OSError, subprocess.TimeoutExpired):
            return unknown
        found = done.stdout.split(b"\0")
        if done.returncode != 0 or found[-1:] != [b""] or len(found) - 1 != len(paths):
            return unknown
        resolved = [item.decode(errors="surrogateescape") for item in found[:-1]]
        if not all(r.startswith("/") for r in resolved):
            return unknown
        return dict(zip(paths, resolved, strict=True))

    def close(self) -> None:
        self._local.close()
        self._tunnel.close()
