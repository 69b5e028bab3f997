"""`apply --wait`: poll the host until the readiness rules (reconcile/readiness.py) hold."""

from __future__ import annotations

import time
from typing import Callable

from podspec.engine.protocol import Engine
from podspec.errors import PodspecError
from podspec.model import DesiredState
from podspec.reconcile.readiness import assess, probe_due, probed

POLL_SECONDS = 0.5


def wait_ready(engine: Engine, desired: DesiredState, timeout: float, say: Callable[[str], None],
               clock: Callable[[], float] = time.monotonic) -> None:
    deadline = clock() + timeout
    running_since: dict[str, float] = {}
    last_run: dict[str, float] = {}
    health: dict[str, tuple[str, str]] = {}  # name -> (status, last output)
    while True:
        now = clock()
        state = assess(desired, engine.observe())
        if state.failed:
            raise PodspecError("will not become ready: " + "; ".join(state.failed),
                               "see `podman logs <container>`; fix the manifest and apply again")
        unhealthy = []
        for name, probe in state.probes:
            running_since.setdefault(name, now)
            if probe_due(probe, running_since[name], last_run.get(name), now):
                health[name] = engine.run_healthcheck(name)
                last_run[name] = now
            status, output = health.get(name, ("not checked yet", ""))
            if status != "healthy":
                unhealthy.append(f"{name}: health {status}" + (f" ({output})" if output else ""))
        waiting = list(state.waiting) + unhealthy
        if not waiting:
            break
        if now >= deadline:
            raise PodspecError(
                f"not ready after {timeout:g}s: " + "; ".join(waiting),
                "see `podman logs <container>` and `podman healthcheck run <container>`; raise --timeout if it is only slow",
            )
        time.sleep(POLL_SECONDS)
    say("Ready: every container runs" + (" and passes its health check." if probed(desired) else "."))
