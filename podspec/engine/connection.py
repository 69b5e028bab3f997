"""Finding a Podman service: --url, --connection, $CONTAINER_HOST, the default socket, else a
private `podman system service` started for the length of the command; and opening the transport
to the one found (open_transport: the factory, outside the transports it makes)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlsplit

from podspec.errors import PodmanUnavailable

if TYPE_CHECKING:
    from podspec.engine.transport import Transport

SERVICE_START_TIMEOUT = 20.0
LOOKUP_TIMEOUT = 10.0  # seconds: `podman system connection list`


@dataclass
class Endpoint:
    """Where the Podman service is, what chose it, and what podspec started to reach it."""

    url: str
    how: str  # what chose it, for messages
    identity: str | None = None
    process: subprocess.Popen | None = None  # the service podspec started, if any
    tmpdir: str | None = None
    tried: list[str] = field(default_factory=list)
    storage: str = ""  # for services podspec knows to serve local storage: which (see lock_key)
    ssh_config: str = ""  # $PODSPEC_SSH_CONFIG as the caller's environment gave it (ssh:// only)

    @property
    def lock_key(self) -> str:
        """What one apply per project per host locks on: the storage a local service serves (the
        default socket and a private service on the same storage are the same host), else the
        socket's real path, else the URL (ssh://, tcp://: the lock is on this client only)."""
        if self.storage:
            return f"storage:{self.storage}"
        path = _unix_path(self.url)
        if path is not None:
            return "unix:" + os.path.realpath(path)
        return self.url

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def _unix_path(url: str) -> str | None:
    return url[len("unix://"):] if url.startswith("unix://") else None


def ping_unix(path: str, timeout: float = 2.0) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            return b" 200 " in s.recv(200)
    except OSError:
        return False


def local_storage(env: Mapping[str, str]) -> str:
    """Which storage a service started with this environment (or the system's default one) serves."""
    conf = env.get("CONTAINERS_STORAGE_CONF")
    return f"{os.path.realpath(conf) if conf else 'default'}:uid={os.geteuid()}"


def default_sockets(env: Mapping[str, str]) -> list[str]:
    """Root's system socket (for root), then the user's own: $XDG_RUNTIME_DIR/podman/podman.sock,
    else /run/user/UID/podman/podman.sock (where `systemctl --user enable --now podman.socket` puts
    it), as rootless Podman itself looks."""
    paths = []
    if os.geteuid() == 0:
        paths.append("/run/podman/podman.sock")
    runtime = env.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.geteuid()}" if os.geteuid() != 0 else "")
    if runtime:
        paths.append(f"{runtime}/podman/podman.sock")
    return paths


def _named_connection(name: str, env: Mapping[str, str]) -> tuple[str, str | None]:
    """The URL and identity of a named connection, as `podman system connection list` tells them
    (podman knows every file they may be kept in); on a machine without podman (a CI runner that
    only talks to remote hosts), from the user's own connection files (_connection_in_files)."""
    if shutil.which("podman") is None:
        return _connection_in_files(name, env)
    local_env = {k: v for k, v in env.items() if k not in ("CONTAINER_HOST", "CONTAINER_CONNECTION")}
    try:
        result = subprocess.run(
            ["podman", "system", "connection", "list", "--format", "json"],
            capture_output=True, text=True, env=local_env, timeout=LOOKUP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:  # run() has killed and reaped it: no child is left
        raise PodmanUnavailable(f"`podman system connection list` did not answer within {LOOKUP_TIMEOUT:g}s",
                                "check that `podman system connection list` works here, or pass --url") from None
    try:
        entries = json.loads(result.stdout or "[]")
    except ValueError:
        entries = []
    for entry in entries or []:
        if entry.get("Name") == name:
            return entry.get("URI") or entry.get("Uri"), entry.get("Identity") or None
    known = ", ".join(sorted(e.get("Name", "?") for e in entries or [])) or "none"
    raise PodmanUnavailable(
        f"no Podman connection named {name!r} (known: {known})",
        "add it with `podman system connection add`, or pass --url",
    )


def _connection_in_files(name: str, env: Mapping[str, str]) -> tuple[str, str | None]:
    """A named connection read by podman-py's PodmanConfig from the files `podman system connection
    add` writes for this user: $XDG_CONFIG_HOME/containers/podman-connections.json (Podman 5) and
    containers.conf's [engine.service_destinations] (Podman 4); the JSON file wins, as in Podman."""
    from podman.domain.config import PodmanConfig  # only here: it imports requests (~100 ms)

    home = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    found: dict[str, Mapping[str, str]] = {}
    for file in ("containers.conf", "podman-connections.json"):  # the later one wins
        path = Path(home) / "containers" / file
        if not path.is_file():
            continue
        try:
            services = PodmanConfig(str(path)).services
        except Exception as exc:  # podman-py raises what its JSON and TOML readers raise
            raise PodmanUnavailable(f"cannot read Podman's connections in {path}: {exc}",
                                    "fix the file, or pass --url") from None
        found.update({key: service.attrs for key, service in services.items()})
    if name in found:
        attrs = found[name]
        uri = attrs.get("URI") or attrs.get("uri")
        if uri:
            return uri, attrs.get("Identity") or attrs.get("identity") or None
    known = ", ".join(sorted(found)) or "none"
    raise PodmanUnavailable(
        f"no Podman connection named {name!r} in {Path(home) / 'containers'} (podman is not installed here; "
        f"known: {known})",
        "pass --url, or add the connection there with `podman system connection add` on a machine with podman",
    )


SCHEMES = ("unix://", "ssh://", "tcp://")


def _checked(url: str, how: str) -> str:
    if not url.startswith(SCHEMES):
        raise PodmanUnavailable(
            f"unsupported Podman URL {url!r} (from {how})",
            "use unix:///path/to/podman.sock, ssh://user@host[:port]/run/podman/podman.sock or tcp://host:port",
        )
    return url


def resolve(url: str | None, connection: str | None, env: Mapping[str, str], identity: str | None = None,
            runtime: Path | None = None) -> Endpoint:
    """Choose the service to talk to; start a private one when none is given or answering (in
    `runtime`, this user's runtime directory, when given; else under the temporary directory).

    The SSH identity of an ssh:// service: `identity` (--identity), else the connection's own, else
    $CONTAINER_SSHKEY (as podman reads it), else whatever ssh offers by itself (agent, ~/.ssh)."""
    ssh_config = env.get("PODSPEC_SSH_CONFIG", "")
    if url:
        return Endpoint(_checked(url, "--url"), "--url", identity=identity or env.get("CONTAINER_SSHKEY") or None,
                        ssh_config=ssh_config)
    if connection:
        uri, own = _named_connection(connection, env)
        return Endpoint(_checked(uri, f"--connection {connection}"), f"--connection {connection}",
                        identity=identity or own or env.get("CONTAINER_SSHKEY") or None, ssh_config=ssh_config)
    if env.get("CONTAINER_HOST"):
        return Endpoint(_checked(env["CONTAINER_HOST"], "$CONTAINER_HOST"), "$CONTAINER_HOST",
                        identity=identity or env.get("CONTAINER_SSHKEY") or None, ssh_config=ssh_config)
    tried = []
    for path in default_sockets(env):
        if ping_unix(path):
            return Endpoint(f"unix://{path}", "the default socket", storage=local_storage({}))
        tried.append(f"unix://{path} (no answer)")
    return start_private_service(env, tried, runtime)


# A unix socket's path must fit in sun_path (108 bytes, with its NUL).
MAX_SOCKET_PATH = 100


def _service_dir(runtime: Path | None) -> str:
    """A new 0700 directory for a private service's socket: in the user's runtime directory, unless
    it is not given, cannot be made, or is too deep for a socket path."""
    import tempfile  # (here: only a private service needs it, and it imports random, ~1 ms)

    if runtime is not None and len(str(runtime)) + len("/podspec-XXXXXXXX/podman.sock") <= MAX_SOCKET_PATH:
        try:
            runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
            return tempfile.mkdtemp(prefix="podspec-", dir=runtime)
        except OSError:
            pass
    return tempfile.mkdtemp(prefix="podspec-")


def start_private_service(env: Mapping[str, str], tried: list[str], runtime: Path | None = None) -> Endpoint:
    if shutil.which("podman") is None:
        raise PodmanUnavailable(
            "no Podman service to talk to, and podman is not installed to start one"
            + (f"; tried {', '.join(tried)}" if tried else ""),
            "install podman (apt-get install podman), or pass --url to a running service",
        )
    tmpdir = _service_dir(runtime)
    sock = Path(tmpdir) / "podman.sock"
    service_env = {k: v for k, v in env.items() if k not in ("CONTAINER_HOST", "CONTAINER_CONNECTION")}
    # Its output goes to a file, never to a pipe no one reads: a service that writes much (warnings,
    # debug logging) would otherwise block on a full pipe in the middle of a command.
    log = open(Path(tmpdir) / "service.log", "w+b")  # closed below: the child has its own copy
    try:
        process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{sock}"],
            env=service_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )
    finally:
        log.close()
    endpoint = Endpoint(f"unix://{sock}", "a private podman service started for this command",
                        process=process, tmpdir=tmpdir, tried=tried, storage=local_storage(env))
    deadline = time.monotonic() + SERVICE_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = _tail(Path(tmpdir) / "service.log")
            endpoint.close()
            raise PodmanUnavailable(
                f"`podman system service` exited at once: {err or 'no message'}",
                "check that `podman info` works on this machine, or pass --url",
            )
        if sock.exists() and ping_unix(str(sock), timeout=0.5):
            return endpoint
        time.sleep(0.02)
    endpoint.close()
    raise PodmanUnavailable(
        f"`podman system service` did not answer within {SERVICE_START_TIMEOUT:.0f}s",
        "check that `podman info` works on this machine, or pass --url",
    )


def _tail(path: Path, size: int = 2000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - size))
            return f.read().decode(errors="replace").strip()
    except OSError:
        return ""


def check_reachable(endpoint: Endpoint) -> None:
    path = _unix_path(endpoint.url)
    if path is not None and not ping_unix(path):
        raise PodmanUnavailable(
            f"Podman does not answer at {endpoint.url} (chosen by {endpoint.how})",
            "start it with `podman system service --time=0 " + endpoint.url + " &`, or pass another --url",
        )


def tcp_address(url: str) -> tuple[str, int]:
    """(host, port) of a tcp:// URL."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise PodmanUnavailable(f"cannot read the tcp:// URL {url!r}",
                                "write it as tcp://host:port, e.g. tcp://127.0.0.1:8080")
    return parts.hostname, port


def open_transport(url: str, identity: str | None, timeout: float, ssh_config: str = "") -> Transport:
    """The transport for a URL: the one HTTP client on a unix socket (unix://), on a TCP address
    (tcp://), or on the local end of an ssh forward (ssh://). `ssh_config`: an ssh_config file for
    ssh:// (`ssh -F`; $PODSPEC_SSH_CONFIG as the caller saw it)."""
    if url.startswith("ssh://"):
        from podspec.engine.ssh import SshTransport

        return SshTransport(url, identity, timeout, env={"PODSPEC_SSH_CONFIG": ssh_config})
    from podspec.engine.httpclient import HttpClient

    if url.startswith("tcp://"):
        return HttpClient(tcp_address(url), timeout)
    return HttpClient(url[len("unix://"):], timeout)
