"""The host read of `podspec diff`, sent before the command line is parsed.

A diff reads the whole host once (PodmanEngine.observe: five list calls) and Podman's answer is most
of a no-op diff's wall time; the CLI's own start-up (typer, the command's options) comes before it.
When the command line names a local Podman plainly, the five calls are sent from `podspec`'s entry
point (podspec/__main__.py) before typer is imported, on threads, and the engine's first whole read
takes their answers instead of asking again: the start-up and Podman's answer overlap.

Nothing else changes. The answers go through the engine's own error handling and parsing (a refusal
is raised where the read is taken, as if the call had been made there); the calls are the engine's
(READS, this module's, the one list of them); a diff changes nothing on the host, so a read sent
a few tens of milliseconds earlier tells the same. They are taken only by an engine of the same URL,
only once, and only for a whole read; a URL that typer parses differently, a failed call, any doubt,
and they are dropped unread (a command that does not take them leaves them to the daemon threads).

Sent only for `diff`, with its Podman given by `--url unix://...` or $CONTAINER_HOST=unix://...
(no --target, no --connection: those are resolved from files, and ssh:// or tcp:// are left to the
engine), and not for `--help`. apply reads under its project lock, so never early.

Standard library only, imported before anything else of podspec's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podspec.engine.transport import Reply

# The whole read: the container list (every container, stopped ones too), then the four short lists.
CONTAINERS = ("/containers/json", "list containers")
CONTAINER_PARAMS = {"all": "true"}
OTHERS = (("/volumes/json", "list volumes"), ("/images/json", "list images"),
          ("/secrets/json", "list secrets"), ("/networks/json", "list networks"))

_COMMANDS = frozenset({"diff"})
_NOT_EARLY = ("--target", "--connection", "--help")  # options that name the host otherwise, or read nothing


def url_of(args: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The unix:// URL a diff's command line names plainly (`args`: after the program's name), else None."""
    if not args or args[0] not in _COMMANDS:
        return None
    url = env.get("CONTAINER_HOST") or None
    rest = list(args[1:])
    for i, arg in enumerate(rest):
        if arg == "--":
            break
        if arg.startswith(_NOT_EARLY) or (arg.startswith("-") and not arg.startswith("--") and arg[1:2] in "tch"):
            return None  # -t/-c/-h, joined to their value or not
        if arg == "--url":
            url = rest[i + 1] if i + 1 < len(rest) else None
        elif arg.startswith("--url="):
            url = arg[len("--url="):]
    if url is None or not url.startswith("unix://") or len(url) <= len("unix://"):
        return None
    return url


class EarlyRead:
    """The five calls to one URL, on threads started at construction."""

    def __init__(self, url: str, timeout: float) -> None:
        from podspec.engine.httpclient import HttpClient

        self.url = url
        self._client = HttpClient(url[len("unix://"):], timeout)
        self._replies: dict[str, Reply] = {}
        self._failed = False
        self._lock = threading.Lock()
        calls = [(CONTAINERS[0], CONTAINER_PARAMS), *((path, None) for path, _ in OTHERS)]
        self._threads = [threading.Thread(target=self._read, args=call, daemon=True) for call in calls]
        for thread in self._threads:
            thread.start()

    def _read(self, path: str, params: Mapping[str, str] | None) -> None:
        try:
            reply = self._client.request("get", path, params=params)
        except Exception:  # any failure: the engine asks again and reports it as always
            with self._lock:
                self._failed = True
            return
        with self._lock:
            self._replies[path] = reply

    def replies(self) -> dict[str, Reply] | None:
        """The five replies by path, once all are in; None when any call failed to get one."""
        for thread in self._threads:
            thread.join()
        return None if self._failed else dict(self._replies)


_sent: EarlyRead | None = None
_taken = threading.Lock()


def send(args: Sequence[str], env: Mapping[str, str], timeout: float) -> None:
    """Send the read when the command line names a local Podman plainly (see the module's text)."""
    global _sent
    url = url_of(args, env)
    if url is not None:
        _sent = EarlyRead(url, timeout)


def take(url: str) -> dict[str, Reply] | None:
    """The replies of a read sent early to `url`, the first time they are asked for; else None."""
    global _sent
    with _taken:
        sent, _sent = _sent, None
    if sent is None or sent.url != url:
        return None
    return sent.replies()
