"""The long-running agent's process: it waits in select() on a wake-up pipe (signals, the webhook
receiver) and on Podman's event stream, with a timeout to the next thing due (a round, a debounced
repair, a crash-loop hold ending, an image check): no busy polling. It serves the metrics, the status page and the
webhooks, and turns signals into the agent's stop flag (SIGTERM, SIGINT) or a round now (SIGHUP).

What each wake-up does (a round, a repair, events taken in) is the Agent's (agent.py).
"""

from __future__ import annotations

import os
import selectors
import signal
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from podspec.errors import PodspecError
from podspec.reconcile.autoupdate import UpdateMode
from podspec.reconcile.sync import next_round
from podspec.secrets import redact_url

if TYPE_CHECKING:
    from podspec.run.executor import StopFlag
    from podspec.run.sync.agent import Agent


def install_signals(stop: StopFlag, sync_now: Callable[[], None], wake_write: int | None) -> dict[int, Any]:
    """SIGTERM/SIGINT raise `stop` (the step in progress finishes, no other starts); SIGHUP calls
    `sync_now`. With `wake_write`, signals also wake the loop's select(). Only the main thread can;
    elsewhere nothing changes. Returns what restore_handlers() needs."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stopping(signum: int, frame: object) -> None:
        stop.raise_()

    def now(signum: int, frame: object) -> None:
        sync_now()

    previous: dict[int, Any] = {int(s): signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    signal.signal(signal.SIGHUP, now)
    if wake_write is not None:
        previous[-1] = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    return previous


def restore_handlers(previous: dict[int, Any]) -> None:
    """The handlers and wake-up descriptor as they were before install_signals()."""
    restore_wakeup(previous)
    for signum, handler in previous.items():
        if signum > 0 and handler is not None:
            signal.signal(signum, handler)


def restore_wakeup(previous: dict[int, Any]) -> None:
    """Stop writing signals to the wake-up pipe. The handlers stay: a second SIGTERM while the
    agent writes its state and exits must not kill it half-way."""
    if -1 in previous:
        signal.set_wakeup_fd(previous.pop(-1))


class Loop:
    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.sync_now = False  # SIGHUP, or a push webhook: a round at the next wake-up
        self.last_round_end = time.monotonic()

    def run(self) -> bool:
        from podspec.run.sync.metrics import Metrics, serve

        agent, r = self.agent, self.agent.request
        selector = selectors.DefaultSelector()
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        selector.register(wake_read, selectors.EVENT_READ, "signal")
        previous = install_signals(agent.stop, self._round_now, wake_write)
        stop_metrics = None
        watcher = None
        try:
            agent.start_notifier()
            if r.probes:
                agent.start_probes()
            if r.metrics_address:
                agent.metrics = Metrics(r.project)
                if agent.state.applied:
                    agent.metrics.applied(agent.state.applied, r.branch)
                stop_metrics = serve(agent.metrics, r.metrics_address, self._healthy, *self._http_parts(wake_write))
                agent.log.info("metrics", address="{}:{}".format(*r.metrics_address),
                               page="/", webhooks="/hooks/github,/hooks/gitlab" if r.webhook_secret else None)
            if r.self_heal:
                from podspec.run.sync.events import EventWatcher

                watcher = EventWatcher(agent.connect, r.project,
                                       lambda message: agent.log.warning("events-lost", message=message))
                selector.register(watcher.read_fd, selectors.EVENT_READ, "events")
                agent.stream_since = watcher.since
                watcher.start()
            agent.log.info("started", source=redact_url(r.source), branch=r.branch, project=r.project,
                           interval=f"{r.interval:g}s", self_heal=r.self_heal)
            self._loop(selector, watcher)
        finally:
            restore_wakeup(previous)
            agent.stop_probes()
            if stop_metrics:
                stop_metrics()
            agent.stop_notifier()
            os.close(wake_read)
            os.close(wake_write)
            agent.save(running=False, next_round=None)
            agent.log.info("stopped", revision=(agent.state.applied or "")[:12] or None)
        return True

    def _round_now(self) -> None:
        self.sync_now = True

    def _loop(self, selector: selectors.BaseSelector, watcher: Any) -> None:
        agent, r = self.agent, self.agent.request
        due = time.monotonic()
        images_due: float | None = due if r.image_updates is not UpdateMode.OFF else None  # its own interval
        while not agent.stop.raised:
            now = time.monotonic()
            if now >= due or self.sync_now:
                self.sync_now = False
                self._guarded(agent.round)
                self.last_round_end = now = time.monotonic()
                due = next_round(now, r.interval, agent.state.failures, r.backoff)
                agent.save(next_round=time.time() + (due - now))
            if images_due is not None and now >= images_due and not agent.stop.raised:
                self._guarded(agent.check_images_locked)
                now = time.monotonic()
                images_due = now + r.image_interval
            agent.release_crash_holds(now)
            pods = agent.debounce.take(now)
            if pods and not agent.stop.raised:
                self._guarded(partial(agent.repair_locked, pods))
                if agent.state.failures:  # the repair failed: a round (a whole read) after the backoff, not in an hour
                    due = min(due, next_round(time.monotonic(), r.interval, agent.state.failures, r.backoff))
                continue
            wake = min(t for t in (due, images_due, agent.debounce.due_at(), agent.crash.release_at()) if t is not None)
            for key, _ in selector.select(max(0.0, wake - time.monotonic())):
                if key.data == "events":
                    agent.take_events(watcher.drain())
                else:
                    _drain(key.fd)

    def _guarded(self, work: Callable[[], bool]) -> None:
        """A round or a repair; an error none of its steps expected (the state directory's lock
        timed out, git failed where it never should) is logged and retried with backoff: the
        long-running agent does not die of it."""
        try:
            work()
        except PodspecError as exc:
            self.agent.unexpected(exc)

    def _http_parts(self, wake_write: int) -> tuple[Any, Any]:
        """The status page, and the webhook receiver when a secret is set (run/sync/page.py, receiver.py)."""
        from podspec.run.sync.page import StatusPage

        agent, r = self.agent, self.agent.request
        page = StatusPage(lambda: agent.state, agent.connect, r.project, agent.image_lines,
                          receiver=r.webhook_secret is not None, notify=len(r.notify))
        receiver = None
        if r.webhook_secret:
            from podspec.run.sync.receiver import Receiver

            def trigger(sender: str) -> None:
                self.sync_now = True
                try:
                    os.write(wake_write, b"w")
                except (BlockingIOError, OSError):
                    pass  # the pipe is full: the loop wakes anyway

            receiver = Receiver(r.webhook_secret, r.branch, trigger, agent.log)
        return page.html, receiver

    def _healthy(self) -> bool:
        r = self.agent.request
        late = max(3 * r.interval, r.backoff.cap + r.interval)
        return time.monotonic() - self.last_round_end < late + r.lock_timeout


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass
