"""Notifications: POST each event (reconcile/notices.py) as JSON to every `--notify URL`.

The agent hands events to `Notifier.send`, which only puts them on queues: one worker thread per
URL does the HTTP, so a slow or dead receiver never holds up the sync loop, nor the other
receivers (each gets every event, in order). Each POST has a timeout and is retried with
exponential backoff (reconcile/notices.RetryRule); a receiver's 4xx is not retried. At exit the
workers get a few seconds to deliver what is queued, then the agent goes regardless.

    notifier = Notifier(urls, secret, log)
    notifier.send(event)          # never blocks
    notifier.close(grace=5.0)
"""

from __future__ import annotations

import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from podspec.reconcile.notices import Event, RetryRule, headers, payload, worth_retrying


class Log(Protocol):
    def info(self, name: str, **fields: object) -> None: ...

    def warning(self, name: str, **fields: object) -> None: ...


def shown(url: str) -> str:
    """The URL as logs show it: without a user name or password, a query or a fragment (a token
    often travels there)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def check_url(url: str) -> str | None:
    """Why `url` cannot be a --notify target; None when it can."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--notify {shown(url) or url!r} is not an http(s) URL"
    return None


class Notifier:
    def __init__(self, urls: Sequence[str], secret: bytes | None, log: Log, rule: RetryRule = RetryRule()) -> None:
        self.urls = tuple(urls)
        self.secret = secret
        self.log = log
        self.rule = rule
        self._stop = threading.Event()  # at close: stop waiting between retries
        self._count = threading.Lock()
        self.delivered = 0
        # One queue and worker per URL: a receiver that hangs delays only its own events.
        self._queues: list[queue.Queue[Event | None]] = []
        self._threads: list[threading.Thread] = []
        for url in self.urls:
            waiting: queue.Queue[Event | None] = queue.Queue(maxsize=1000)
            thread = threading.Thread(target=self._work, args=(url, waiting), name=f"notify {shown(url)}", daemon=True)
            self._queues.append(waiting)
            self._threads.append(thread)
            thread.start()

    def send(self, event: Event) -> None:
        """Queue `event` for every URL; never blocks (a full queue drops it, with a warning)."""
        for url, waiting in zip(self.urls, self._queues, strict=True):
            try:
                waiting.put_nowait(event)
            except queue.Full:
                self.log.warning("notify-dropped", url=shown(url), event=event.kind.value,
                                 message="1000 notifications are waiting already")

    def close(self, grace: float = 5.0) -> None:
        """Deliver what is queued for at most `grace` seconds, then give up on the rest."""
        import time

        for waiting in self._queues:
            while True:
                try:
                    waiting.put(None, timeout=0.1)
                    break
                except queue.Full:  # a dead receiver's full queue: make room for the end mark
                    try:
                        waiting.get_nowait()
                    except queue.Empty:
                        pass
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()
        for thread in self._threads:
            thread.join(self.rule.timeout + 1)

    def _work(self, url: str, waiting: queue.Queue[Event | None]) -> None:
        while True:
            event = waiting.get()
            if event is None:
                return
            body = payload(event)
            self._post(url, body, headers(event, body, self.secret), event)

    def _post(self, url: str, body: bytes, sent: dict[str, str], event: Event) -> None:
        failed = 0
        while True:
            status, error = self._attempt(url, body, sent)
            if error is None:
                with self._count:
                    self.delivered += 1
                return
            failed += 1
            delay = self.rule.delay(failed) if worth_retrying(status) else None
            if delay is None or self._stop.is_set():
                self.log.warning("notify-failed", url=shown(url), event=event.kind.value, attempts=failed, error=error)
                return
            if self._stop.wait(delay):
                self.log.warning("notify-failed", url=shown(url), event=event.kind.value, attempts=failed,
                                 error=f"{error} (the agent stopped before the next attempt)")
                return

    def _attempt(self, url: str, body: bytes, sent: dict[str, str]) -> tuple[int | None, str | None]:
        request = urllib.request.Request(url, data=body, headers=sent, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.rule.timeout) as answer:
                answer.read(65536)
                return answer.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, f"the receiver answered {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return None, f"no answer: {reason}"
