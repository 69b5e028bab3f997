"""Prometheus metrics and a health endpoint (`--metrics-address 127.0.0.1:PORT`).

The exposition format is prometheus-client's (imported here only, when the flag is given). Served
by the standard library's WSGI server in a daemon thread:

    /metrics   podspec_sync_* (below)
    /healthz   200 "ok" while rounds keep running on time; 503 otherwise
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

LOOPBACK = "127.0.0.1"
DEFAULT_ADDRESS = (LOOPBACK, 9101)  # where the webhook receiver listens when no --metrics-address is given


def parse_address(text: str) -> tuple[str, int]:
    """`127.0.0.1:9100` or `[::1]:9100` -> (host, port); a port alone (`9100`, `:9100`) is on
    loopback: reaching the agent from elsewhere takes naming an address (0.0.0.0 for every one).
    UsageError otherwise."""
    from podspec.errors import UsageError

    host, _, port = text.rpartition(":")
    host = host.strip("[]") or LOOPBACK
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--metrics-address {text!r} is not [HOST:]PORT", "for example --metrics-address 127.0.0.1:9101")
    return host, int(port)


class Metrics:
    def __init__(self, project: str) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = CollectorRegistry()
        labels = ["project"]
        self.project = project
        self.rounds = Counter("podspec_sync_rounds", "Rounds the agent ran (fetch, judge, apply or repair).",
                              labels, registry=self.registry).labels(project)
        self.applies = Counter("podspec_sync_applies", "Revisions applied, by outcome (applied, no-changes).",
                               ["project", "outcome"], registry=self.registry)
        self.failures = Counter("podspec_sync_failures", "Failures, by kind (fetch, invalid, unsigned, rewind, apply).",
                                ["project", "kind"], registry=self.registry)
        self.repairs = Counter("podspec_sync_drift_repairs", "Applies that repaired drift on the host (hand changes).",
                               labels, registry=self.registry).labels(project)
        self.last_success = Gauge("podspec_sync_last_success_timestamp_seconds",
                                  "When a round last ended with the host on the branch's head (Unix time).",
                                  labels, registry=self.registry).labels(project)
        self.revision = Gauge("podspec_sync_applied_revision", "1 for the revision on the host (as the label).",
                              ["project", "revision", "branch"], registry=self.registry)
        self.crash_loops = Gauge("podspec_sync_crash_looping_pods", "Pods whose repair is backed off (crash loop).",
                                 labels, registry=self.registry).labels(project)
        self.probe_restarts = Counter("podspec_sync_probe_restarts",
                                      "Containers restarted by a failing liveness or startup probe (the agent's probes, or "
                                      "Podman's own --health-on-failure=restart, seen by the agent).",
                                      ["project", "pod", "container", "probe"], registry=self.registry)
        self._revision: tuple[str, str] | None = None

    def applied(self, revision: str, branch: str) -> None:
        if self._revision == (revision, branch):
            return
        if self._revision is not None:
            self.revision.remove(self.project, *self._revision)
        self.revision.labels(self.project, revision, branch).set(1)
        self._revision = (revision, branch)

    def failed(self, kind: str) -> None:
        self.failures.labels(self.project, kind).inc()

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


REQUEST_TIMEOUT = 30.0  # seconds a client of the agent's HTTP address has to send its request (each read)


def serve(metrics: Metrics, address: tuple[str, int], healthy: Callable[[], bool],
          page: Callable[[], bytes] | None = None, receiver: Any = None) -> Callable[[], None]:
    """Serve /metrics and /healthz on `address` in a daemon thread; return what stops it. With
    `page`, `/` is the status page (run/sync/page.py); with `receiver`, /hooks/github and
    /hooks/gitlab are the webhook receiver (run/sync/receiver.py)."""
    from http import HTTPStatus
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from prometheus_client import CONTENT_TYPE_LATEST

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path in ("/healthz", "/health"):
            ok = healthy()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"ok\n" if ok else b"unhealthy: no round finished on time\n"]
        if path == "/" and page is not None:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                                      ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
                                      ("X-Content-Type-Options", "nosniff")])
            return [page()]
        if path in ("/metrics", "/"):
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [metrics.render()]
        if receiver is not None and path.startswith("/hooks/"):
            found = receiver.answer(environ)
            start_response(f"{found.status} {HTTPStatus(found.status).phrase}", [("Content-Type", "text/plain")])
            return [found.message.encode() + b"\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /, /metrics or /healthz\n"]

    class Quiet(WSGIRequestHandler):
        timeout = REQUEST_TIMEOUT  # a client that does not finish its request loses its connection

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            import sys

            if isinstance(sys.exc_info()[1], OSError):  # a client timed out or went away: its business
                return
            super().handle_error(request, client_address)

    try:
        server = make_server(address[0], address[1], app, server_class=Server, handler_class=Quiet)
    except OSError as exc:
        from podspec.errors import UsageError

        raise UsageError(f"cannot serve metrics on {address[0]}:{address[1]}: {exc.strerror or exc}",
                         "pick a free port for --metrics-address (and an address of this host)") from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 3600}, name="metrics", daemon=True)
    thread.start()

    def stop() -> None:
        # Not server.shutdown(): it waits for serve_forever's poll interval (long, so that the idle
        # agent does not wake up for it). The thread is a daemon and ends with the process.
        server.server_close()

    return stop


def now() -> float:
    return time.time()
