"""run/reading.py: the host read on a thread while the manifests load."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from podspec.engine.fake import Call, FakeEngine
from podspec.errors import EngineError, PodmanUnavailable
from podspec.run import reading
from podspec.run.reading import HostReading


def test_the_read_starts_at_construction_and_is_taken_after():
    engine = FakeEngine()
    asked = threading.Event()

    def connect() -> FakeEngine:
        asked.set()
        return engine

    with HostReading(connect) as host:
        assert asked.wait(5), "the thread connects without waiting to be asked"
        taken = host.engine()
    assert taken is engine
    assert host.observed().containers == ()
    assert engine.calls == [Call("observe")], "the engine is the caller's now: nothing closed it"


def test_errors_are_raised_where_the_caller_asks():
    def unreachable() -> FakeEngine:
        raise PodmanUnavailable("cannot connect to Podman at unix:///nowhere", "start it")

    with HostReading(unreachable) as host, pytest.raises(PodmanUnavailable, match="unix:///nowhere"):
        host.engine()

    engine = FakeEngine()
    engine.fail("observe", message="the list failed")
    with HostReading(lambda: engine) as host:
        assert host.engine() is engine  # the connection worked: its engine is handed over
    with pytest.raises(EngineError, match="the list failed"):
        host.observed()


def test_a_dropped_reading_closes_its_engine():
    engine = FakeEngine()
    with pytest.raises(ValueError), HostReading(lambda: engine):
        raise ValueError("the manifests failed")
    assert engine.calls == [Call("observe"), Call("close")]


def test_a_slow_dropped_reading_does_not_hold_up_the_error_and_still_closes(monkeypatch):
    monkeypatch.setattr(reading, "DROP_WAIT", 0.05)
    engine = FakeEngine()
    answer = threading.Event()

    def slow() -> FakeEngine:
        answer.wait(10)
        return engine

    began = time.monotonic()
    with pytest.raises(ValueError), HostReading(slow):
        raise ValueError("the manifests failed")
    assert time.monotonic() - began < 5, "drop() waits DROP_WAIT, not for the read"
    assert engine.calls == []
    answer.set()
    deadline = time.monotonic() + 5
    while Call("close") not in engine.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.calls == [Call("observe"), Call("close")], "the thread closes the engine when its read ends"


def test_connect_only_and_the_switch_interval_restored():
    before = sys.getswitchinterval()
    engine = FakeEngine()
    answer = threading.Event()
    during: list[float] = []

    def connect() -> FakeEngine:
        during.append(sys.getswitchinterval())
        answer.wait(10)
        return engine

    with HostReading(connect, observe=False) as host:
        answer.set()
        host.engine()
    assert during == [min(before, reading.SWITCH_INTERVAL)]
    assert sys.getswitchinterval() == before
    assert engine.calls == [], "observe=False: connected, not read"
    with pytest.raises(RuntimeError):
        host.observed()


def test_the_images_named_are_read_after_the_rest_where_reads_go_one_after_the_other():
    engine = FakeEngine()  # concurrent is False, as over ssh://
    engine.add_image("docker.io/library/httpd:2.4")
    engine.add_image("docker.io/library/busybox:latest")
    with HostReading(lambda: engine, images=()) as host:
        host.read_images(["httpd:2.4"])
        taken = host.engine()
    observed = host.observed()
    assert [i.names for i in observed.images] == [("docker.io/library/httpd:2.4",)]
    assert observed.image_scope == frozenset({"httpd:2.4"})
    assert observed.image_id("httpd:2.4") is not None
    assert taken.calls == [Call("observe"), Call("images_named", "httpd:2.4")]


class _SideBySide(FakeEngine):
    """An engine that takes reads side by side: its observe() answers only once images_named() has
    begun (or says, after 10 s, that it never did)."""

    def __init__(self) -> None:
        super().__init__()
        self.images_begun = threading.Event()
        self.observe_waited: list[bool] = []

    @property
    def concurrent(self) -> bool:
        return True

    def observe(self, pods=None, images=None):
        self.observe_waited.append(self.images_begun.wait(10))
        return super().observe(pods, images=images)

    def images_named(self, references):
        self.images_begun.set()
        return super().images_named(references)


def test_the_images_named_are_read_while_the_rest_is_read_where_reads_go_side_by_side():
    engine = _SideBySide()
    engine.add_image("docker.io/library/httpd:2.4")
    with HostReading(lambda: engine, images=()) as host:
        host.read_images(["docker.io/library/httpd:2.4"])
        host.engine()
    assert engine.observe_waited == [True], "the image read began while the container list was still read"
    assert [i.names for i in host.observed().images] == [("docker.io/library/httpd:2.4",)]


def test_the_image_reads_errors_are_raised_by_observed_and_a_failed_connection_ends_it():
    engine = FakeEngine()
    engine.fail("images_named", message="the image list failed")
    with HostReading(lambda: engine, images=()) as host:
        host.read_images(["busybox"])
        host.engine()
    with pytest.raises(EngineError, match="the image list failed"):
        host.observed()

    def unreachable() -> FakeEngine:
        raise PodmanUnavailable("cannot connect to Podman at unix:///nowhere", "start it")

    with HostReading(unreachable, images=()) as host:
        host.read_images(["busybox"])
        with pytest.raises(PodmanUnavailable, match="unix:///nowhere"):
            host.engine()
    assert host._image_thread is not None
    host._image_thread.join(5)
    assert not host._image_thread.is_alive(), "the image read ends with the failed connection"


def test_a_dropped_reading_closes_its_engine_once_after_the_image_read():
    engine = FakeEngine()
    with pytest.raises(ValueError), HostReading(lambda: engine, images=()) as host:
        host.read_images(["busybox"])
        raise ValueError("a warning's check failed")
    assert engine.calls == [Call("observe"), Call("images_named", "busybox"), Call("close")]
