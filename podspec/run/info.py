"""`info`: which Podman podspec talks to (its version, rootless or root, where, and what chose it),
and where this user's locks and state are kept."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from podspec.engine.protocol import Engine
from podspec.observed import HostFacts


@dataclass(frozen=True)
class InfoResult:
    url: str
    chosen_by: str  # what chose the service: --url, $CONTAINER_HOST, the default socket, ...
    host: HostFacts
    lock_dir: Path
    state_dir: Path


def info(connect: Callable[[], Engine], lock_dir: Path, state_dir: Path) -> InfoResult:
    with closing(connect()) as engine:
        facts = engine.host()
        endpoint = getattr(engine, "endpoint", None)  # PodmanEngine's; another engine may not say
        return InfoResult(engine.url, str(getattr(endpoint, "how", "") or "unknown"), facts, lock_dir, state_dir)
