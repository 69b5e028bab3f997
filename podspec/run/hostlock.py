"""One apply (or delete) per project per host at a time, across every client: a lease kept on the host.

The client-side file lock (lock.py) only sees commands on the same machine. Two CI runners applying
over SSH to one host, or a person over `unix://` while a pipeline comes over `ssh://`, need the lock
where the host is. It is an object the engine creates atomically under a name made from the project
(`podspec_lock_<project>`; with Podman a volume, see PodmanEngine.create_lock): creating it either
succeeds (the lock is ours) or fails because it exists (someone holds it). Its labels say who
holds it, for messages, and until when:

    io.podspec.lock          the project
    io.podspec.lock.holder   "podspec apply on HOSTNAME (pid N)"
    io.podspec.lock.client   this client's boot and PID namespace (so its PIDs can be checked)
    io.podspec.lock.pid      the holder's PID
    io.podspec.lock.token    random: tells our lock from the one who took it over
    io.podspec.lock.expires  the end of the lease, in seconds since the epoch (the holder's clock)

It is removed on release. While the command runs, its lease is renewed every third of the lease
(volume labels cannot change: a renewal is a second object, `<lock>.renew.<token>.<0|1>`, made
anew each time before the previous one is removed), so an apply that outlasts its lease (long
pulls, a slow `--wait`) keeps its lock. A holder that died leaves it behind; it is taken over, and
the output says so, when
- its lease, and its last renewal, ran out (the clocks of the clients should agree within a minute;
  the lease is 15 minutes by default, `$PODSPEC_LOCK_LEASE`, plus --timeout for `apply --wait`), or
- it was taken on this very client (same boot, same PID namespace) by a process that is gone: a
  killed apply does not make the next one on the same machine wait for the lease, or
- it was taken by this very process in a command that ended without releasing it (its connection
  to the host died): a long-running agent is not blocked by its own lease.

Taking over is guarded by a second atomic create, named after the stale lease's token, so that of
several waiters that see the same stale lease only one removes it; it re-reads the lease before
removing it, so a lease renewed in between is left alone. (Residual window: the stale holder
waking up and releasing during the takeover's re-read and removal, milliseconds after its lease
ended.)
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from podspec import labels as L
from podspec.errors import LockTimeout, PodspecError
from podspec.names import LOCK_PREFIX

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine

LOCK = L.PREFIX + "lock"
HOLDER = LOCK + ".holder"
CLIENT = LOCK + ".client"
PID = LOCK + ".pid"
TOKEN = LOCK + ".token"
EXPIRES = LOCK + ".expires"

DEFAULT_LEASE = 900.0  # seconds
GUARD_LEASE = 60.0
POLL = 0.25
_HELD: set[str] = set()  # the tokens of the locks this process holds now
_HELD_MUTEX = threading.Lock()


def lock_name(project: str) -> str:
    return f"{LOCK_PREFIX}{project}"


@cache
def client_id() -> str:
    """This machine's boot and PID namespace: where a holder's PID means the same process."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        pid_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{boot}/{pid_ns}"


@dataclass(frozen=True)
class Lease:
    """Who holds the lock, read off its labels."""

    holder: str
    client: str
    pid: int
    token: str
    expires: float

    @classmethod
    def read(cls, labels: Mapping[str, str]) -> Lease:
        def number(key: str) -> float:
            try:
                return float(labels.get(key, "0"))
            except ValueError:
                return 0.0

        return cls(labels.get(HOLDER, "another podspec"), labels.get(CLIENT, ""), int(number(PID)),
                   labels.get(TOKEN, ""), number(EXPIRES))

    def stale(self, now: float, alive: Callable[[int], bool]) -> str:
        """Why this lease may be taken over ("" when it may not)."""
        if self.expires and now > self.expires:
            return f"its lease ran out {now - self.expires:.0f}s ago"
        if self.client and self.client == client_id() and self.pid and not alive(self.pid):
            return f"its process {self.pid} on this machine is gone"
        if self.client and self.client == client_id() and self.pid == os.getpid() and not _holding(self.token):
            return "this very process took it in a command that ended without releasing it (its connection died)"
        return ""


def _holding(token: str) -> bool:
    with _HELD_MUTEX:
        return token in _HELD


def renewal_names(name: str, token: str) -> tuple[str, str]:
    return f"{name}.renew.{token}.0", f"{name}.renew.{token}.1"


def _renewed_until(engine: Engine, name: str, token: str) -> float:
    """The end of the last renewal of the lease `token` (0 when none)."""
    ends = [Lease.read(labels).expires for n in renewal_names(name, token) if (labels := engine.lock_labels(n)) is not None]
    return max(ends, default=0.0)


class _Renewer(threading.Thread):
    """Renews a held lease every third of it, until stopped."""

    def __init__(self, engine: Engine, name: str, project: str, command: str, lease: float, token: str,
                 clock: Callable[[], float]) -> None:
        super().__init__(name=f"podspec-lease-{project}", daemon=True)
        self.engine, self.lock, self.project, self.command = engine, name, project, command
        self.lease, self.token, self.clock = lease, token, clock
        self.every = max(1.0, lease / 3)
        self.stopped = threading.Event()
        self.made: str | None = None

    def run(self) -> None:
        turn = 0
        while not self.stopped.wait(self.every):
            fresh = renewal_names(self.lock, self.token)[turn % 2]
            try:
                if self.engine.create_lock(fresh, lease_labels(self.project, self.command, self.lease, self.token, self.clock())):
                    if self.made is not None:
                        self.engine.remove_lock(self.made)
                    self.made = fresh
                    turn += 1
            except (PodspecError, OSError):  # a failed renewal is tried again; the lease still runs
                continue

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)
        if self.made is not None:
            try:
                self.engine.remove_lock(self.made)
            except (PodspecError, OSError):  # left for the next taker to remove
                pass


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_labels(project: str, command: str, lease: float, token: str, now: float) -> dict[str, str]:
    return {
        L.MANAGED_BY: L.MANAGER,
        LOCK: project,
        HOLDER: f"podspec {command} on {socket.gethostname()} (pid {os.getpid()})",
        CLIENT: client_id(),
        PID: str(os.getpid()),
        TOKEN: token,
        EXPIRES: str(int(now + lease)),
    }


@contextmanager
def host_lock(engine: Engine, project: str, timeout: float, *, lease: float = DEFAULT_LEASE, command: str = "apply",
              on_wait: Callable[[str], None] = lambda holder: None, on_note: Callable[[str], None] = lambda text: None,
              clock: Callable[[], float] = time.time, alive: Callable[[int], bool] = pid_alive) -> Iterator[None]:
    """Hold the project's lock on the engine's host for the block (see the module's text)."""
    name = lock_name(project)
    token = secrets.token_hex(8)
    with _HELD_MUTEX:  # ours from before it exists: another thread of this process never takes it for left behind
        _HELD.add(token)
    try:
        yield from _held(engine, name, project, token, timeout, lease, command, on_wait, on_note, clock, alive)
    finally:
        with _HELD_MUTEX:
            _HELD.discard(token)


def _held(engine: Engine, name: str, project: str, token: str, timeout: float, lease: float, command: str,
          on_wait: Callable[[str], None], on_note: Callable[[str], None], clock: Callable[[], float],
          alive: Callable[[int], bool]) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    waited = False
    while not engine.create_lock(name, lease_labels(project, command, lease, token, clock())):
        labels = engine.lock_labels(name)
        if labels is None:  # released in between
            continue
        held = Lease.read(labels)
        reason = held.stale(clock(), alive)
        if reason.startswith("its lease ran out") and _renewed_until(engine, name, held.token) > clock():
            reason = ""  # renewed: the holder is at work
        if reason and _take_over(engine, name, held, project, clock):
            on_note(f"took over the lock of project {project!r} on {engine.url} from {held.holder}: {reason}")
            continue
        if not waited:
            on_wait(held.holder)
            waited = True
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"project {project!r} on {engine.url} is being changed by {held.holder}; gave up after {timeout:g}s",
                "wait for it to finish and run the command again, or raise --lock-timeout "
                f"(a lock left by a killed run is taken over when its lease ends, {_until(held, clock())})",
            )
        time.sleep(POLL)
    renewer = _Renewer(engine, name, project, command, lease, token, clock)
    renewer.start()
    try:
        yield
    finally:
        renewer.stop()
        labels = engine.lock_labels(name)
        if labels is not None and labels.get(TOKEN) == token:
            engine.remove_lock(name)
        else:
            on_note(f"the lock of project {project!r} on {engine.url} was taken over while this command ran "
                    "(it outlived its lease; raise $PODSPEC_LOCK_LEASE)")


def _until(held: Lease, now: float) -> str:
    return f"in {max(0, held.expires - now):.0f}s" if held.expires else "never: remove the volume by hand"


def _take_over(engine: Engine, name: str, held: Lease, project: str, clock: Callable[[], float]) -> bool:
    """Remove a stale lease, one taker at a time; True when it was removed."""
    guard = f"{name}.takeover.{held.token or 'unknown'}"
    if not engine.create_lock(guard, lease_labels(project, "takeover", GUARD_LEASE, secrets.token_hex(8), clock())):
        guard_labels = engine.lock_labels(guard)
        if guard_labels is not None and Lease.read(guard_labels).stale(clock(), pid_alive):
            engine.remove_lock(guard)  # a taker that died mid-way; the next round tries again
        return False
    try:
        current = engine.lock_labels(name)
        if current is None or current.get(TOKEN, "") != held.token:
            return False  # released, or taken over already
        engine.remove_lock(name)
        for renewal in renewal_names(name, held.token or "unknown"):
            if engine.lock_labels(renewal) is not None:
                engine.remove_lock(renewal)
        return True
    finally:
        engine.remove_lock(guard)
