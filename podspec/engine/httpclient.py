"""The one HTTP client podspec talks to Podman with, for every transport: a unix socket (the local
service's, or the local end of an ssh forward, ssh.py) or a TCP address (tcp:// services).

It is written on the standard library's sockets: importing http.client (or podman-py, which pulls
in requests and urllib3) costs 40 to 230 ms per command on these machines, a large part of a no-op
apply's budget (see bench/README.md).

Two ways to send a call, one format:

- `keep_alive=False` (the local socket, tcp://): HTTP/1.0, one connection per call, so several threads may
  call at once; the service neither chunks nor keeps the connection: the answer is everything read
  until it closes.
- `keep_alive=True` (through an ssh forward, where a new connection is a new channel in the SSH
  session and costs about 40 ms, a call on an open one about a millisecond): HTTP/1.1, one
  connection per thread kept open; the answer's end is told by Content-Length or the chunked
  encoding. A GET that fails on a connection the service has closed meanwhile is sent once more
  on a new one; other methods never are (no call is ever made twice).

Streams (Podman's events, a pull's progress) always have a connection of their own.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, BinaryIO, Iterator, Mapping, Union
from urllib.parse import urlencode

from podspec.engine.transport import COMPAT, LIBPOD, Reply, TransportError, content_type, encode_body

_NO_BODY = (204, 304)

# Where the service listens: a unix socket's path, or (host, port) for tcp://.
Address = Union[str, tuple[str, int]]


def dial(address: Address, timeout: float) -> socket.socket:
    """A connected socket to the service (the caller closes it)."""
    if isinstance(address, tuple):
        sock = socket.create_connection(address, timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


class _Stale(Exception):
    """A kept-alive connection the service closed before this call's answer began."""


class _Connection:
    """One kept-alive connection: its socket and a buffered reader of it."""

    def __init__(self, address: Address, timeout: float) -> None:
        self.sock = dial(address, timeout)
        self.reader: BinaryIO = self.sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class HttpClient:
    """REST calls to libpod over a unix socket or TCP (see the module's text)."""

    concurrent = True  # requests from several threads at once are safe (PodmanEngine.observe uses it)

    def __init__(self, address: Address, timeout: float, keep_alive: bool = False) -> None:
        self.address = address
        self.timeout = timeout
        self.keep_alive = keep_alive
        self._local = threading.local()
        self._open: list[_Connection] = []
        self._mutex = threading.Lock()

    # ---------------------------------------------------------------------------- one call

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply:
        target = LIBPOD + path + (f"?{urlencode(params)}" if params else "")
        payload = b"" if body is None else encode_body(body)
        head = f"{method.upper()} {target} HTTP/1.{1 if self.keep_alive else 0}\r\nHost: podman\r\n"
        if body is not None:
            head += f"Content-Type: {content_type(body)}\r\nContent-Length: {len(payload)}\r\n"
        elif self.keep_alive and method.upper() not in ("GET", "HEAD"):
            head += "Content-Length: 0\r\n"
        message = head.encode() + b"\r\n" + payload
        if self.keep_alive:
            return self._kept_alive(method.upper(), message, timeout or self.timeout)
        try:
            with dial(self.address, timeout or self.timeout) as sock:
                sock.sendall(message)
                chunks = []
                while data := sock.recv(1 << 16):
                    chunks.append(data)
        except OSError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from None
        return parse_response(b"".join(chunks))

    def _kept_alive(self, method: str, message: bytes, timeout: float) -> Reply:
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.sock.settimeout(timeout)
                try:
                    conn.sock.sendall(message)
                    status_line = conn.reader.readline()
                except (BrokenPipeError, ConnectionResetError) as exc:
                    raise _Stale(str(exc)) from None
                if not status_line:
                    raise _Stale("the service closed the connection")
                status, keep, content = _read_answer(status_line, conn.reader, method)
            except _Stale as exc:
                self._drop(conn)
                if attempt == 1 and reused and method == "GET":
                    continue
                raise TransportError(str(exc) or "the service closed the connection") from None
            except TransportError:
                self._drop(conn)
                raise
            except (OSError, ValueError) as exc:
                self._drop(conn)
                raise TransportError(str(exc) or type(exc).__name__) from None
            if not keep:
                self._drop(conn)
            return Reply(status, content)
        raise TransportError("unreachable")  # pragma: no cover - the loop returns or raises

    def _connection(self) -> tuple[_Connection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        try:
            conn = _Connection(self.address, self.timeout)
        except OSError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from None
        self._local.conn = conn
        with self._mutex:
            self._open.append(conn)
        return conn, False

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        self._local.conn = None
        with self._mutex:
            if conn in self._open:
                self._open.remove(conn)

    # ------------------------------------------------------------------------------ streams

    def stream(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[bytes]:
        """GET `path` and yield the answer's lines as they come (no timeout: waits for the next); an
        empty line first, once the service answered (the stream is open)."""
        target = LIBPOD + path + (f"?{urlencode(params)}" if params else "")
        try:
            with dial(self.address, self.timeout) as sock:
                sock.sendall(f"GET {target} HTTP/1.0\r\nHost: podman\r\n\r\n".encode())
                sock.settimeout(None)
                with sock.makefile("rb") as answer:
                    status = answer.readline().split(b" ", 2)
                    if len(status) < 2 or status[1] != b"200":
                        raise TransportError(f"the event stream answered {b' '.join(status[1:]).decode(errors='replace').strip()!r}")
                    while answer.readline() not in (b"\r\n", b"\n", b""):
                        pass  # headers
                    yield b""
                    yield from answer
        except OSError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from None

    def call_stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float | None = None,
                    compat: bool = False) -> Iterator[tuple[int, bytes]]:
        """A streaming call: (status, b"") first, then each line of the body as it arrives.
        `compat`: a Docker-compatible endpoint (no /libpod in the path)."""
        target = (COMPAT if compat else LIBPOD) + path + (f"?{urlencode(params)}" if params else "")
        head = f"{method.upper()} {target} HTTP/1.0\r\nHost: podman\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        try:
            with dial(self.address, timeout or self.timeout) as sock:
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
        with self._mutex:
            for conn in self._open:
                conn.close()
            self._open.clear()


def parse_response(raw: bytes) -> Reply:
    """A whole HTTP/1.0 answer (read until the service closed the connection)."""
    header, separator, content = raw.partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].split(b" ", 2)
    if not separator or len(status_line) < 2 or not status_line[1].isdigit():
        raise TransportError(f"not an HTTP answer: {raw[:80]!r}")
    return Reply(int(status_line[1]), content)


def _read_answer(status_line: bytes, reader: BinaryIO, method: str) -> tuple[int, bool, bytes]:
    """(status, whether the connection stays open, body) of an HTTP/1.1 answer on a kept-alive
    connection: its end told by Content-Length, the chunked encoding, or the connection's close."""
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit() or not parts[0].startswith(b"HTTP/"):
        raise TransportError(f"not an HTTP answer: {status_line[:80]!r}")
    status = int(parts[1])
    fields: dict[str, str] = {}
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise TransportError("the service closed the connection in the middle of an answer")
        name, _, value = line.decode("latin-1").partition(":")
        fields[name.strip().lower()] = value.strip()
    keep = parts[0] == b"HTTP/1.1" and fields.get("connection", "").lower() != "close"
    if method == "HEAD" or status in _NO_BODY or 100 <= status < 200:
        return status, keep, b""
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return status, keep, _chunked(reader)
    if "content-length" in fields:
        length = int(fields["content-length"])
        content = reader.read(length)
        if len(content) < length:
            raise TransportError("the service closed the connection in the middle of an answer")
        return status, keep, content
    return status, False, reader.read()  # no length: the answer ends when the service closes


def _chunked(reader: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = reader.readline()
        if not size_line:
            raise TransportError("the service closed the connection in the middle of an answer")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while reader.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunk = reader.read(size)
        if len(chunk) < size:
            raise TransportError("the service closed the connection in the middle of an answer")
        chunks.append(chunk)
        reader.readline()  # the CRLF after the chunk
