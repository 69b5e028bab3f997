"""The webhook receiver on the agent's HTTP address: reads a request's body (bounded), asks
reconcile/webhooks.py whether it is genuine and means "sync now", and if so wakes the agent. Off
unless the agent has a shared secret (--webhook-secret-file)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from podspec.reconcile.webhooks import MAX_BODY, PATHS, HookAnswer, judge


class Log(Protocol):
    def info(self, name: str, **fields: object) -> None: ...

    def warning(self, name: str, **fields: object) -> None: ...


def handles(path: str) -> bool:
    return path.rstrip("/") in PATHS


class Receiver:
    def __init__(self, secret: bytes | None, branch: str, trigger: Callable[[str], None], log: Log) -> None:
        self.secret = secret
        self.branch = branch
        self.trigger = trigger
        self.log = log

    def answer(self, environ: dict[str, Any]) -> HookAnswer:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        try:
            body = environ["wsgi.input"].read(min(length, MAX_BODY + 1)) if length > 0 and self.secret else b""
        except OSError:  # the body did not come within the server's timeout (metrics.REQUEST_TIMEOUT)
            return HookAnswer(408, "the request's body did not come in time")
        headers = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")}
        found = judge(path, method, headers, body, self.secret, self.branch)
        if found.sender:
            fields = {"sender": found.sender, "status": found.status, "message": found.message,
                      "peer": environ.get("REMOTE_ADDR")}
            if found.status == 401:
                self.log.warning("webhook-refused", **fields)
            else:
                self.log.info("webhook", **fields)
        if found.trigger:
            self.trigger(found.sender)
        return found
