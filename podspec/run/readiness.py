"""Waiting until pods are ready (`apply --wait`, `podspec start --timeout`): poll the host and run
the pods' probes (run/probes.py) until the readiness rules (reconcile/readiness.py) hold.

While it waits, the probe runner acts as the kubelet would: a container whose liveness or startup
probe fails `failureThreshold` times in a row is restarted (said through `say`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from podspec.engine.protocol import Engine
from podspec.errors import PodspecError
from podspec.model import DesiredState
from podspec.reconcile.readiness import Expected, assess, expected_of, expected_on_host

POLL_SECONDS = 0.5


def wait_ready(engine: Engine, desired: DesiredState, timeout: float, say: Callable[[str], None],
               clock: Callable[[], float] = time.monotonic, probe_image: str = "",
               sleep: Callable[[float], None] = time.sleep, project: str = "") -> None:
    """After an apply: the manifests' pods; then, given the `project`, each Service's name on the
    project network (within the same `timeout`)."""
    pods = {p.name for p in desired.pods}
    began = clock()
    wait_for(engine, lambda _: expected_of(desired), pods, timeout, say, clock, probe_image, sleep)
    if project and desired.services:
        wait_names(engine, desired, project, began + timeout, timeout, say, clock, probe_image, sleep)


def wait_names(engine: Engine, desired: DesiredState, project: str, deadline: float, timeout: float,
               say: Callable[[str], None], clock: Callable[[], float], probe_image: str,
               sleep: Callable[[float], None]) -> None:
    """Until each Service name answers on the project network (reconcile/network.py: name_checks),
    or say which did not by `deadline`. Look-ups run from the probe helper of a pod the Service
    selects (engine/probes.py), so they see what the project's pods see, also rootless and over ssh://."""
    from podspec.engine.probes import ProbeTarget
    from podspec.reconcile.network import name_checks, network_name

    began = clock()
    pending = list(name_checks(desired, engine.observe(), project))
    if not pending:
        return
    answers: dict[str, str] = {}
    try:
        while True:
            for check in list(pending):
                result = engine.resolve(ProbeTarget(check.pod, check.pod, check.infra_id), check.name, check.server,
                                        probe_image)
                answers[check.name] = result.output
                if result.ok:
                    pending.remove(check)
            if not pending:
                break
            now = clock()
            if now >= deadline:
                raise PodspecError(
                    f"not ready after {timeout:g}s: Service name(s) not answering on network {network_name(project)}: "
                    + "; ".join(f"{c.name} (asked aardvark-dns at {c.server} from pod {c.pod}: "
                                f"{answers.get(c.name) or 'no answer'})" for c in pending),
                    "on Podman 4.3 (aardvark-dns 1.4) the new names of a pod connected again answer about 30 s "
                    "later: raise --timeout; see docs/services.md")
            sleep(max(0.05, min(POLL_SECONDS, deadline - now)))
    finally:
        engine.end_probes()
    say(f"Names answer on network {network_name(project)}: " + ", ".join(sorted(answers))
        + f" ({clock() - began:.1f}s).")


def wait_host_ready(engine: Engine, pods: Collection[str], timeout: float, say: Callable[[str], None],
                    clock: Callable[[], float] = time.monotonic, probe_image: str = "",
                    sleep: Callable[[float], None] = time.sleep) -> None:
    """After `podspec start`: the pods as the host records them (no manifests)."""
    names = set(pods)
    wait_for(engine, lambda observed: expected_on_host(observed, names), names, timeout, say, clock, probe_image, sleep)


def wait_for(engine: Engine, expected: Callable[..., Collection[Expected]], pods: set[str], timeout: float,
             say: Callable[[str], None], clock: Callable[[], float], probe_image: str,
             sleep: Callable[[float], None]) -> None:
    from podspec.run.probes import Prober

    deadline = clock() + timeout
    prober = Prober(engine, probe_image, clock)
    probed = False
    try:
        while True:
            observed = engine.observe()
            state = assess(expected(observed), observed)
            if state.failed:
                raise PodspecError("will not become ready: " + "; ".join(state.failed),
                                   "see `podman logs <container>`; fix the manifest and apply again")
            rounds = prober.tick(observed, pods)
            probed = probed or bool(prober.clocks)
            for restart in rounds.restarted:
                say(f"Restarted {restart.container}: {restart.cause}"
                    + (f" ({restart.error})" if restart.error else ""))
            waiting = list(state.waiting) + [w for w in rounds.waiting if w.split(":")[0] in state.running]
            if not waiting:
                break
            now = clock()
            if now >= deadline:
                raise PodspecError(
                    f"not ready after {timeout:g}s: " + "; ".join(waiting),
                    "see `podman logs <container>`; raise --timeout if it is only slow",
                )
            sleep(max(0.05, min(POLL_SECONDS, prober.next_due() - now, deadline - now)))
    finally:
        prober.close()
    say("Ready: every container runs" + (" and passes its probes." if probed else "."))
