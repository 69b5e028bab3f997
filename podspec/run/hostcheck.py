"""Before any change: what the Podman the manifests go to cannot do because it runs rootless.

The engine reads the facts once (rootless or root, the unprivileged port start, which host paths its
user can read); the pure core decides (reconcile/rootless.py); this raises RootlessLimitError with
every problem, file:line:col and what to do instead. Manifests that could meet no limit (no host
ports, hostNetwork, hostPath or added capabilities) cost no call.
"""

from __future__ import annotations

from podspec.engine.protocol import Engine
from podspec.errors import RootlessLimitError
from podspec.model import DesiredState
from podspec.reconcile import rootless


def check(engine: Engine, desired: DesiredState) -> None:
    if not rootless.needs_check(desired):
        return
    facts = engine.host()
    if not facts.rootless:
        return
    paths = rootless.host_paths(desired)
    readable = engine.readable_host_paths(paths) if paths else {}
    problems = rootless.limits(desired, facts, readable)
    if problems:
        raise RootlessLimitError(problems, f"{facts.kind} Podman {facts.version} at {engine.url}")
