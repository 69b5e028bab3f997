"""The host-side project lock (run/hostlock.py) over an engine that keeps lock objects in a dict:
what FakeEngine needs (create_lock atomic by name, lock_labels, remove_lock)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping

import pytest

from podspec.errors import LockTimeout
from podspec.run import hostlock
from podspec.run.hostlock import EXPIRES, HOLDER, PID, TOKEN, host_lock, lock_name


class LockHost:
    """The three lock calls of the Engine protocol, atomic under one mutex, as Podman's database is."""

    url = "unix:///fake.sock"

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, str]] = {}
        self.mutex = threading.Lock()
        self.created: list[str] = []

    def create_lock(self, name: str, labels: Mapping[str, str]) -> bool:
        with self.mutex:
            if name in self.objects:
                return False
            self.objects[name] = dict(labels)
            self.created.append(name)
            return True

    def lock_labels(self, name: str) -> dict[str, str] | None:
        with self.mutex:
            found = self.objects.get(name)
            return dict(found) if found is not None else None

    def remove_lock(self, name: str) -> None:
        with self.mutex:
            self.objects.pop(name, None)


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setattr(hostlock, "POLL", 0.01)


def test_the_lock_is_an_object_on_the_host_removed_on_release():
    host = LockHost()
    with host_lock(host, "web", timeout=1):
        labels = host.objects[lock_name("web")]
        assert labels["io.podspec.managed-by"] == "podspec"
        assert labels["io.podspec.lock"] == "web"
        assert labels[HOLDER].startswith("podspec apply on ")
        assert float(labels[EXPIRES]) > time.time() + 800
    assert host.objects == {}


def test_a_second_client_waits_then_gives_up_naming_the_holder():
    host = LockHost()
    waited = []
    with host_lock(host, "web", timeout=1):
        with pytest.raises(LockTimeout) as caught:
            with host_lock(host, "web", timeout=0.2, on_wait=waited.append):
                pass
    assert waited and waited[0].startswith("podspec apply on ")
    message = caught.value.message
    assert message.startswith("project 'web' on unix:///fake.sock is being changed by podspec apply on ")
    assert message.endswith("gave up after 0.2s")
    assert "--lock-timeout" in caught.value.hint


def test_the_second_client_gets_the_lock_when_the_first_releases():
    host = LockHost()
    order = []
    held, release = threading.Event(), threading.Event()

    def first():
        with host_lock(host, "web", timeout=5):
            order.append("first in")
            held.set()
            release.wait(5)  # until the second has found the lock held (or the test gave up)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    try:
        with host_lock(host, "web", timeout=5, on_wait=lambda holder: release.set()):
            order.append("second in")
    finally:
        release.set()
        thread.join()
    assert order == ["first in", "first out", "second in"]


def test_other_projects_do_not_wait():
    host = LockHost()
    with host_lock(host, "web", timeout=1), host_lock(host, "db", timeout=0.1):
        assert set(host.objects) == {lock_name("web"), lock_name("db")}


def stale(host: LockHost, **labels: str) -> None:
    base = {"io.podspec.managed-by": "podspec", "io.podspec.lock": "web", HOLDER: "podspec apply on ci-7 (pid 42)",
            TOKEN: "dead", PID: "42", EXPIRES: str(int(time.time()) + 900)}
    host.objects[lock_name("web")] = base | labels


def test_an_expired_lease_is_taken_over_and_said_so():
    host = LockHost()
    stale(host, **{EXPIRES: str(int(time.time()) - 30)})
    notes = []
    with host_lock(host, "web", timeout=0.5, on_note=notes.append):
        assert host.objects[lock_name("web")][TOKEN] != "dead"
    assert len(notes) == 1
    assert notes[0].startswith("took over the lock of project 'web' on unix:///fake.sock from podspec apply on ci-7 (pid 42): "
                               "its lease ran out 3")
    assert host.objects == {}  # the takeover guard is gone too


def test_a_lease_held_by_a_dead_process_of_this_client_is_taken_over_at_once():
    host = LockHost()
    stale(host, **{"io.podspec.lock.client": hostlock.client_id()})
    notes = []
    with host_lock(host, "web", timeout=0.5, on_note=notes.append, alive=lambda pid: False):
        pass
    assert notes == ["took over the lock of project 'web' on unix:///fake.sock from podspec apply on ci-7 (pid 42): "
                     "its process 42 on this machine is gone"]


def test_a_live_lease_of_another_client_is_waited_for():
    host = LockHost()
    stale(host, **{"io.podspec.lock.client": "another-machine"})
    with pytest.raises(LockTimeout) as caught:
        with host_lock(host, "web", timeout=0.1, alive=lambda pid: False):
            pass
    assert re.search(r"taken over when its lease ends, in (899|900)s\)$", caught.value.hint)


def test_of_many_waiters_on_a_stale_lease_one_holds_at_a_time():
    host = LockHost()
    stale(host, **{EXPIRES: str(int(time.time()) - 30)})
    inside, most, notes = [0], [0], []
    count = 8
    waited: set[int] = set()  # workers that found the lock held
    left: set[int] = set()  # workers done with it
    changed = threading.Condition()
    gave_up: list[int] = []

    def saw_it_held(me: int) -> None:
        with changed:
            waited.add(me)
            changed.notify_all()

    def worker(me: int) -> None:
        with host_lock(host, "web", timeout=10, on_note=notes.append, on_wait=lambda holder: saw_it_held(me)):
            with changed:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                # hold the lock until every other worker is waiting for it or done with it, so that
                # each hold is contended
                if not changed.wait_for(lambda: len(waited | left | {me}) == count, timeout=10):
                    gave_up.append(me)
                inside[0] -= 1
                left.add(me)
                changed.notify_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert gave_up == []
    assert len([n for n in notes if n.startswith("took over")]) == 1
    assert host.objects == {}


def test_a_holder_whose_lease_was_taken_over_leaves_the_new_lock_alone():
    host = LockHost()
    notes = []
    with host_lock(host, "web", timeout=1, on_note=notes.append):
        stale(host, **{TOKEN: "someone-else"})  # as if a waiter had taken over our expired lease
    assert host.objects[lock_name("web")][TOKEN] == "someone-else"
    assert notes and "was taken over while this command ran" in notes[0]


def test_a_lease_is_renewed_while_the_command_runs():
    """A command that outlasts its lease keeps its lock: a waiter neither takes it over nor gets it."""
    host = LockHost()
    release = threading.Event()
    holding = threading.Event()

    def long_apply() -> None:
        with host_lock(host, "web", timeout=1, lease=3):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=long_apply)
    holder.start()
    assert holding.wait(5)
    notes: list[str] = []
    try:
        with pytest.raises(LockTimeout):
            with host_lock(host, "web", timeout=7, on_note=notes.append):  # two leases later: still held
                pass
        assert notes == []
        assert any(".renew." in name for name in host.created)
    finally:
        release.set()
        holder.join(10)
    assert host.objects == {}  # the lock and its renewals are gone with the release


def test_a_lease_this_process_left_behind_does_not_block_it():
    """An earlier command of this process (a long-running agent) whose connection died left its
    lease on the host; the next command of the same process takes it over at once."""
    host = LockHost()
    import os

    stale(host, **{"io.podspec.lock.client": hostlock.client_id(), PID: str(os.getpid()), TOKEN: "gone-with-the-connection"})
    notes: list[str] = []
    with host_lock(host, "web", timeout=0.5, on_note=notes.append):  # the pid is alive: it is ours
        pass
    assert len(notes) == 1 and "this very process took it in a command that ended without releasing it" in notes[0]
