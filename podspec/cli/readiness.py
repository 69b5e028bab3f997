"""`apply --wait`: poll until every container runs and every health check passes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from podspec.errors import PodspecError
from podspec.intent import container_name

if TYPE_CHECKING:
    from podspec.engine import PodmanEngine
    from podspec.model import DesiredState


def not_ready(engine: "PodmanEngine", desired: "DesiredState") -> list[str]:
    observed = engine.observe()
    waiting = []
    for pod in desired.pods:
        for c in pod.containers:
            name = container_name(pod.name, c.name)
            found = observed.container(name)
            if found is None:
                waiting.append(f"{name}: missing")
            elif found.state.value != "running":
                waiting.append(f"{name}: {found.state.value}")
            elif c.liveness_probe is not None:
                health = engine.run_healthcheck(name)
                if health != "healthy":
                    waiting.append(f"{name}: health {health or 'unknown'}")
    return waiting


def wait_ready(engine: "PodmanEngine", desired: "DesiredState", timeout: float, say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + timeout
    waiting = not_ready(engine, desired)
    while waiting and time.monotonic() < deadline:
        time.sleep(0.5)
        waiting = not_ready(engine, desired)
    if waiting:
        raise PodspecError(
            f"not ready after {timeout:g}s: " + "; ".join(waiting),
            "see `podman logs <container>`; raise --timeout if it is only slow",
        )
    say("Ready: every container runs" + (" and passes its health check." if any(
        c.liveness_probe for p in desired.pods for c in p.containers) else "."))
