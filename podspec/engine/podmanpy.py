"""tcp:// services: podman-py's API client, imported only for them (it pulls in requests and
urllib3, 110 to 230 ms of start-up that unix:// and ssh:// never pay)."""

from __future__ import annotations

import subprocess
from typing import Any, Iterator, Mapping

from podspec.engine.transport import Reply, TransportError, content_type, encode_body


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
