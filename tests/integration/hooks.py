"""A webhook receiver on loopback that records what it is sent (the --notify tests), and the
requests a git host sends (the receiver's tests)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class HookReceiver:
    """Answers `statuses` in turn (then 200); while `hold` is clear, requests wait for it."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    hold: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.hold.set()

    def events(self) -> list[dict]:
        with self.changed:
            return [r.json() for r in self.received]

    def wait_for(self, check, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = check(self)
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not within {timeout}s: {what}; received: {[r.body[:300] for r in self.received]}")
                self.changed.wait(left)


def serve(recorder: HookReceiver) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorder.hold.wait(30)
            with recorder.changed:
                recorder.attempts += 1
                status = recorder.statuses.pop(0) if recorder.statuses else 200
                if status < 300:
                    recorder.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                recorder.changed.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def github_signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def push_body(branch: str, after: str = "0" * 40) -> bytes:
    return json.dumps({"ref": f"refs/heads/{branch}", "after": after, "repository": {"name": "manifests"}}).encode()
