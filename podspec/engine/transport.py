"""How REST calls reach the Podman service.

- `unix://` sockets (the local service, by far the common case): a small client on the
  standard library (HTTP/1.0). Importing podman-py pulls in requests and urllib3, 110 to 230 ms per command
  on these machines, a third of a no-op apply's budget (see bench/README.md).
- `ssh://`: the system's OpenSSH client forwarding a local socket to the remote one (ssh.py),
  then the same standard-library client;
- `tcp://`: podman-py's API client.

Both speak the same libpod endpoints and give back a `Reply`.
"""

from __future__ import annotations

import json
import socket
import subprocess
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol
from urllib.parse import urlencode

# Podman 4.x and 5.x services accept this API version prefix.
LIBPOD = "/v4.0.0/libpod"
# The Docker-compatible endpoints (the pull with per-layer progress) on the same service.
COMPAT = "/v4.0.0"


class TransportError(Exception):
    """The service could not be reached or the connection broke (not an HTTP error status)."""


@dataclass(frozen=True)
class Reply:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Transport(Protocol):
    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply: ...

    def stream(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[bytes]:
        """GET `path` and yield the answer's lines as they come (no timeout: waits for the next)."""
        ...

    def call_stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float | None = None,
                    compat: bool = False) -> Iterator[tuple[int, bytes]]:
        """A streaming call: (status, b"") first, then each line of the body as it arrives.
        `compat`: a Docker-compatible endpoint (no /libpod in the path)."""
        ...

    def close(self) -> None: ...


class UnixSocketTransport:
    """HTTP/1.0 over the service's unix socket, one connection per call (so several threads may
    call at once). With HTTP/1.0 the service neither chunks nor keeps the connection alive: the
    answer is everything read until it closes."""

    concurrent = True  # requests from several threads at once are safe (PodmanEngine.observe uses it)

    def __init__(self, socket_path: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply:
        target = LIBPOD + path + (f"?{urlencode(params)}" if params else "")
        payload = b"" if body is None else encode_body(body)
        head = f"{method.upper()} {target} HTTP/1.0\r\nHost: podman\r\n"
        if body is not None:
            head += f"Content-Type: {content_type(body)}\r\nContent-Length: {len(payload)}\r\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout or self.timeout)
                sock.connect(self.socket_path)
                sock.sendall(head.encode() + b"\r\n" + payload)
                chunks = []
                while data := sock.recv(1 << 16):
                    chunks.append(data)
        except OSError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from None
        return parse_response(b"".join(chunks))

    def stream(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[bytes]:
        target = LIBPOD + path + (f"?{urlencode(params)}" if params else "")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
                sock.sendall(f"GET {target} HTTP/1.0\r\nHost: podman\r\n\r\n".encode())
                sock.settimeout(None)
                with sock.makefile("rb") as answer:
                    status = answer.readline().split(b" ", 2)
                    if len(status) < 2 or status[1] != b"200":
                        raise TransportError(f"the event stream answered {b' '.join(status[1:]).decode(errors='replace').strip()!r}")
                    while answer.readline() not in (b"\r\n", b"\n", b""):
                        pass  # headers
                    yield from answer
        except OSError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from None

    def call_stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float | None = None,
                    compat: bool = False) -> Iterator[tuple[int, bytes]]:
        target = (COMPAT if compat else LIBPOD) + path + (f"?{urlencode(params)}" if params else "")
        head = f"{method.upper()} {target} HTTP/1.0\r\nHost: podman\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout or self.timeout)
                sock.connect(self.socket_path)
                sock.sendall(head.encode() + b"\r\n")
                buffer = b""
                while b"\r\n\r\n" not in buffer:
                    data = sock.recv(1 << 16)
                    if not data:
                        break
                    buffer += data
                header, _, buffer = buffer.partition(b"\r\n\r\n")
                yield parse_response(header + b"\r\n\r\n").status_code, b""
                while True:
                    *lines, buffer = buffer.split(b"\n")
                    yield from ((0, line) for line in lines if line.strip())
                    data = sock.recv(1 << 16)
                    if not data:
                        break
                    buffer += data
                if buffer.strip():
                    yield 0, buffer
        except OSError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from None

    def close(self) -> None:
        pass


def parse_response(raw: bytes) -> Reply:
    header, separator, content = raw.partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].split(b" ", 2)
    if not separator or len(status_line) < 2 or not status_line[1].isdigit():
        raise TransportError(f"not an HTTP answer: {raw[:80]!r}")
    return Reply(int(status_line[1]), content)


class PodmanPyTransport:
    """podman-py's API client, for tcp:// services."""

    def __init__(self, url: str, identity: str | None, timeout: float) -> None:
        from podman import PodmanClient

        kwargs: dict[str, Any] = {"base_url": url, "timeout": timeout}
        if identity:
            kwargs["identity"] = identity
        try:
            self._client = PodmanClient(**kwargs)
        except Exception as exc:  # podman-py raises many types (ssh, URL parsing)
            raise TransportError(f"{type(exc).__name__}: {exc}") from None

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply:
        import requests

        kwargs: dict[str, Any] = {"params": dict(params or {})}
        if body is not None:
            kwargs["data"] = encode_body(body)
            kwargs["headers"] = {"Content-Type": content_type(body)}
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = getattr(self._client.api, method.lower())(path, **kwargs)
        except (requests.exceptions.RequestException, OSError, subprocess.SubprocessError) as exc:
            # ssh:// runs an ssh process for the tunnel: it may time out or fail to start
            raise TransportError(f"{type(exc).__name__}: {exc}") from None
        return Reply(response.status_code, response.content)

    def stream(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[bytes]:
        import requests

        try:
            response = self._client.api.get(path, params=dict(params or {}), stream=True, timeout=None)
            if response.status_code != 200:
                raise TransportError(f"the event stream answered {response.status_code}")
            yield from response.iter_lines()
        except (requests.exceptions.RequestException, OSError, subprocess.SubprocessError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None

    def call_stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float | None = None,
                    compat: bool = False) -> Iterator[tuple[int, bytes]]:
        import requests

        kwargs: dict[str, Any] = {"params": dict(params or {}), "headers": dict(headers or {}), "stream": True,
                                  "compatible": compat}
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = getattr(self._client.api, method.lower())(path.lstrip("/") if compat else path, **kwargs)
            yield response.status_code, b""
            for line in response.iter_lines():
                if line.strip():
                    yield 0, line
        except (requests.exceptions.RequestException, OSError, subprocess.SubprocessError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self._client.close()


def open_transport(url: str, identity: str | None, timeout: float, ssh_config: str = "") -> Transport:
    """`ssh_config`: an ssh_config file for ssh:// (`ssh -F`; $PODSPEC_SSH_CONFIG as the caller saw it)."""
    if url.startswith("unix://"):
        return UnixSocketTransport(url[len("unix://"):], timeout)
    if url.startswith("ssh://"):
        from podspec.engine.ssh import SshTransport

        return SshTransport(url, identity, timeout, env={"PODSPEC_SSH_CONFIG": ssh_config})
    return PodmanPyTransport(url, identity, timeout)


def encode_body(body: Any) -> bytes:
    """bytes travel as they are (a secret's value); anything else as JSON."""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def content_type(body: Any) -> str:
    return "application/octet-stream" if isinstance(body, bytes) else "application/json"
