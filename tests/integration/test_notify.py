"""The notifier (run/sync/notify.py) against a receiver on loopback: a queue and a worker thread,
retries with backoff, a timeout, 4xx not retried, the body signed as GitHub signs its webhooks."""

from __future__ import annotations

import threading

from podspec.reconcile.notices import Event, EventKind, RetryRule
from podspec.run.sync.notify import Notifier
from tests.integration.hooks import HookReceiver, github_signature, serve

FAST = RetryRule(attempts=4, first=0.05, cap=0.2, timeout=2.0)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def info(self, name: str, **fields: object) -> None:
        with self.lock:
            self.lines.append((name, fields))

    warning = info


def event(n: int = 1, kind: EventKind = EventKind.APPLIED) -> Event:
    return Event(kind, "web", f"{n:040d}", "applied", 1764000000.0 + n, f"commit {n}", ("b", "a"))


def test_events_arrive_signed_in_order_after_retries():
    recorder = HookReceiver(statuses=[500, 503])
    server, url = serve(recorder)
    notifier = Notifier([url], b"s3cret", Log(), FAST)
    try:
        notifier.send(event(1))
        notifier.send(event(2, EventKind.REPAIRED))
        got = recorder.wait_for(lambda r: len(r.received) == 2 and r.received, 10, "two events")
    finally:
        notifier.close()
        server.shutdown()
    assert recorder.attempts == 4  # two failures, retried, then both delivered
    first = got[0]
    assert first.json() == {
        "event": "applied", "project": "web", "revision": f"{1:040d}", "outcome": "applied",
        "time": "2025-11-24T16:00:01Z", "message": "commit 1", "pods": ["a", "b"], "images": [], "source": "", "branch": "",
    }
    assert first.headers["x-podspec-signature-256"] == github_signature(b"s3cret", first.body)
    assert first.headers["x-podspec-signature-256"] != github_signature(b"other", first.body)
    assert first.headers["x-podspec-event"] == "applied"
    assert got[1].json()["event"] == "repaired"


def test_send_never_waits_for_a_slow_receiver():
    recorder = HookReceiver()
    recorder.hold.clear()  # the receiver does not answer until released
    server, url = serve(recorder)
    notifier = Notifier([url], None, Log(), FAST)
    try:
        for n in range(5):
            notifier.send(event(n))  # returns at once: the receiver has not answered anything yet
        assert recorder.received == []
        recorder.hold.set()
        got = recorder.wait_for(lambda r: len(r.received) == 5 and r.received, 10, "five events")
    finally:
        notifier.close()
        server.shutdown()
    assert [r.json()["revision"] for r in got] == [f"{n:040d}" for n in range(5)]
    assert "x-podspec-signature-256" not in got[0].headers  # no secret, no signature


def test_a_client_error_is_not_retried_and_a_dead_receiver_gives_up_after_the_attempts():
    recorder = HookReceiver(statuses=[400])
    server, url = serve(recorder)
    log = Log()
    notifier = Notifier([url, "http://127.0.0.1:9/refused"], None, log, FAST)
    try:
        notifier.send(event(1))
    finally:
        notifier.close(grace=10)
        server.shutdown()
    assert recorder.attempts == 1 and recorder.received == []
    failed = [fields for name, fields in log.lines if name == "notify-failed"]
    assert failed[0]["url"] == url and failed[0]["attempts"] == 1 and "400" in failed[0]["error"]
    assert failed[1]["url"] == "http://127.0.0.1:9/refused" and failed[1]["attempts"] == 4


def test_a_receiver_that_never_answers_times_out():
    recorder = HookReceiver()
    recorder.hold.clear()
    server, url = serve(recorder)
    log = Log()
    notifier = Notifier([url], None, log, RetryRule(attempts=2, first=0.05, cap=0.05, timeout=0.3))
    try:
        notifier.send(event(1))
        notifier.close(grace=10)
    finally:
        recorder.hold.set()
        server.shutdown()
    failed = [fields for name, fields in log.lines if name == "notify-failed"]
    assert len(failed) == 1 and failed[0]["attempts"] == 2 and "timed out" in failed[0]["error"]


def test_credentials_in_a_url_never_reach_the_log():
    log = Log()
    notifier = Notifier(["http://user:pa55word@127.0.0.1:9/x?token=t0ken"], None, log, RetryRule(attempts=1))
    notifier.send(event(1))
    notifier.close(grace=10)
    text = repr(log.lines)
    assert "notify-failed" in text and "pa55word" not in text and "t0ken" not in text


def test_a_receiver_that_hangs_holds_up_none_of_the_others():
    stuck, good = HookReceiver(), HookReceiver()
    stuck.hold.clear()  # answers nothing until released
    stuck_server, stuck_url = serve(stuck)
    good_server, good_url = serve(good)
    notifier = Notifier([stuck_url, good_url], None, Log(), FAST)
    try:
        for n in range(3):
            notifier.send(event(n))
        got = good.wait_for(lambda r: len(r.received) == 3 and r.received, 10, "three events at the good receiver")
        assert [r.json()["revision"] for r in got] == [f"{n:040d}" for n in range(3)]
        assert stuck.received == []  # still waiting on the first
        stuck.hold.set()
        wanted = [f"{n:040d}" for n in range(3)]
        late = stuck.wait_for(lambda r: {x.json()["revision"] for x in r.received} == set(wanted) and r.received, 10,
                              "the same three, late")
        seen = [x.json()["revision"] for x in late]  # attempts that timed out while held arrive too: first ones count
        assert sorted(set(seen), key=seen.index) == wanted
    finally:
        stuck.hold.set()
        notifier.close()
        stuck_server.shutdown()
        good_server.shutdown()
