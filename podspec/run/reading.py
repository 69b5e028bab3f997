"""The host read while the manifests load: `connect()` and the first `observe()` on a thread.

    with HostReading(connect, images=()) as reading:  # starts connecting and reading the host now
        desired = load(manifests)          # Python parses and builds while Podman answers
        reading.read_images(references(desired))  # the images they name, while Podman still answers
        engine = reading.engine()          # the caller owns (and closes) the engine from here
    rootless.check(engine, desired)
    observed = reading.observed()          # with those images

Podman's answer to the container list is most of a no-op diff's wall time (~70 ms at 30 pods), and
loading the manifests most of its CPU: side by side, the one hides the other. Nothing changes for the
user: a read changes nothing on the host, the manifests' errors still come first (a reading left
without taking its engine is dropped: the read is waited for, its engine closed, its errors never
shown), and the errors of connecting and of reading are raised where the caller asks for the engine
and for the state, as if it had made those calls there.

Nothing a dropped reading started (a private Podman service, an SSH tunnel) is left behind: its engine
is closed when the read ends, and the thread is no daemon, so the interpreter waits for that at exit.
drop() itself waits for the read a moment only (DROP_WAIT: a local read ends well within it), so that
bad input is reported at once even when the host is slow to answer or unreachable.

Only the first read of a command is taken this way; a later one (apply's, under its lock) is made
afresh on the engine. A command that will not use the first read (a dry run, a saved plan: both read
under the lock) asks for the connection alone (`observe=False`).

While the read runs, the interpreter hands the GIL over every 0.5 ms instead of 5 ms: the reading
thread wakes a few dozen times (each answer's chunks) while the loading holds the GIL, and each wake
would otherwise wait up to 5 ms for it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Collection
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine
    from podspec.observed import ObservedImage, ObservedState


SWITCH_INTERVAL = 0.0005  # seconds, while a reading runs (Python's default: 0.005)
DROP_WAIT = 0.5  # seconds drop() waits for the read to end before leaving its engine to the thread


class _FastSwitch:
    """The short switch interval while at least one reading runs (--target reads several hosts at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._saved = 0.0

    def begin(self) -> None:
        with self._lock:
            if self._running == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, SWITCH_INTERVAL))
            self._running += 1

    def end(self) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0:
                sys.setswitchinterval(self._saved)


_fast_switch = _FastSwitch()


class HostReading:
    """`connect()`, then `engine.observe()` (unless `observe` is False), on a thread started at construction."""

    def __init__(self, connect: Callable[[], Engine], observe: bool = True, pods: Collection[str] | None = None,
                 images: Collection[str] | None = None) -> None:
        self._connect = connect
        self._observe = observe
        self._pods = pods  # observe(pods=...): only these pods' containers
        self._images = images  # observe(images=...): only the images these references name
        self._engine: Engine | None = None
        self._observed: ObservedState | None = None
        self._connect_error: BaseException | None = None
        self._observe_error: BaseException | None = None
        self._taken = False
        self._running = 1  # threads still reading (the read; the image read once asked for)
        self._dropped = False
        self._lock = threading.Lock()  # orders drop() and the reads' ends (_settle)
        self._connected = threading.Event()  # connect() returned or failed
        self._named: frozenset[str] | None = None  # read_images(): the references
        self._named_images: tuple[ObservedImage, ...] = ()
        self._named_error: BaseException | None = None
        self._image_thread: threading.Thread | None = None
        _fast_switch.begin()  # left by the thread when the read ends
        self._thread = threading.Thread(target=self._read, name="podspec-host-reading")
        self._thread.start()

    def _read(self) -> None:
        try:
            try:
                self._engine = self._connect()
            finally:
                self._connected.set()
            if self._observe:
                self._observed = (self._engine.observe() if self._pods is None and self._images is None
                                  else self._engine.observe(self._pods, images=self._images))
        except BaseException as error:  # raised in the caller's thread, where it asks for it
            if self._engine is None:
                self._connect_error = error
            else:
                self._observe_error = error
        finally:
            _fast_switch.end()
            self._settle(ended=True)

    def read_images(self, references: Collection[str]) -> None:
        """Read the images `references` name too (Engine.images_named), from now on: beside the rest
        of the read where the engine takes reads side by side (Engine.concurrent: the local socket),
        else after it (ssh://: one call after the other). observed() then holds them, and says so in
        its image_scope. Called once the manifests name their images: at 30 pods their reads (3-16 ms)
        are answered while Podman still answers the container list, instead of after it."""
        with self._lock:
            self._running += 1
        self._named = frozenset(references)
        self._image_thread = threading.Thread(target=self._read_images, name="podspec-image-reading")
        self._image_thread.start()

    def _read_images(self) -> None:
        try:
            self._connected.wait()
            engine = self._engine
            if engine is None:
                return  # (the connection's error is raised by engine())
            if not engine.concurrent:
                self._thread.join()
            if self._observe_error is None:
                assert self._named is not None
                self._named_images = engine.images_named(self._named)
        except BaseException as error:  # raised in the caller's thread, by observed()
            self._named_error = error
        finally:
            self._settle(ended=True)

    def engine(self) -> Engine:
        """The connected engine (waits for the read); the connection's error if it failed. The caller
        closes it."""
        self._thread.join()
        if self._connect_error is not None:
            raise self._connect_error
        assert self._engine is not None
        self._taken = True
        return self._engine

    def observed(self) -> ObservedState:
        """What the read found; its error if it failed. After engine()."""
        if not self._taken or not self._observe:
            raise RuntimeError("HostReading.observed() before engine(), or of a reading made with observe=False")
        if self._observe_error is not None:
            raise self._observe_error
        assert self._observed is not None
        if self._image_thread is None:
            return self._observed
        self._image_thread.join()
        if self._named_error is not None:
            raise self._named_error
        return replace(self._observed, images=self._named_images, image_scope=self._named)

    def drop(self) -> None:
        """Forget the reading unread (the manifests failed): its engine is closed now if the reads
        end within DROP_WAIT, else by the last thread when it ends."""
        self._thread.join(DROP_WAIT)
        if self._image_thread is not None:
            self._image_thread.join(DROP_WAIT)
        self._settle(dropped=True)

    def _settle(self, ended: bool = False, dropped: bool = False) -> None:
        """Note that a read ended or that the reading was dropped; the last of these closes the
        engine (exactly once: all are noted under the lock)."""
        with self._lock:
            self._running -= 1 if ended else 0
            self._dropped |= dropped
            close = self._running == 0 and self._dropped
        if close and self._engine is not None:
            try:
                self._engine.close()
            except Exception:  # closing an engine nobody used: nothing to report
                pass

    def __enter__(self) -> HostReading:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if not self._taken:
            self.drop()
