"""How REST calls reach the Podman service: the interface every transport keeps.

- `unix://` sockets (the local service, by far the common case): the one HTTP client
  (httpclient.py), a connection per call;
- `tcp://`: the same HTTP client on a TCP address, a connection per call;
- `ssh://`: the system's OpenSSH client forwarding a local socket to the remote one (ssh.py),
  then the same HTTP client, its connections kept alive.

All three speak the same libpod endpoints and give back a `Reply`; connection.open_transport
picks one for a URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol

# Podman 4.x and 5.x services accept this API version prefix.
LIBPOD = "/v4.0.0/libpod"
# The Docker-compatible endpoints (the pull with per-layer progress) on the same service.
COMPAT = "/v4.0.0"


class TransportError(Exception):
    """The service could not be reached or the connection broke (not an HTTP error status)."""


@dataclass(frozen=True)
class Reply:
    """One answer of the Podman service: its HTTP status and body."""

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
        """GET `path` and yield the answer's lines as they come (no timeout: waits for the next); an
        empty line first, once the service answered (the stream is open)."""
        ...

    def call_stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, timeout: float | None = None,
                    compat: bool = False) -> Iterator[tuple[int, bytes]]:
        """A streaming call: (status, b"") first, then each line of the body as it arrives.
        `compat`: a Docker-compatible endpoint (no /libpod in the path)."""
        ...

    def close(self) -> None: ...


def encode_body(body: Any) -> bytes:
    """bytes travel as they are (a secret's value); anything else as JSON."""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def content_type(body: Any) -> str:
    return "application/octet-stream" if isinstance(body, bytes) else "application/json"
