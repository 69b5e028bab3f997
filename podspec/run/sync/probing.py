"""The agent's probe runner (run/probes.py) in a thread of its own, for as long as the agent runs.

It observes the host, runs the probes that are due of the project's running pods (not of pods
stopped on purpose), restarts the containers whose liveness or startup probe failed
`failureThreshold` times in a row, and sleeps until the next probe is due. It reads the host again
at least every `LOOK_AGAIN` seconds (new pods, restarted containers) while a container has probes, else every
`idle` seconds, and at once when the agent pokes it (after an apply or a repair; with the event
stream, when a container of the project starts that the agent did not start: `idle` is then the
agent's --resync, not IDLE). Restarts are handed to `on_restart` (the agent logs them and
counts them in its metrics; the runner records them on the host for `podspec status`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field

from podspec.engine.protocol import Engine
from podspec.errors import PodspecError
from podspec.reconcile.lifecycle import stopped_on_purpose
from podspec.run.probes import Failed, Prober, Restart

LOOK_AGAIN = 5.0  # seconds between two reads of the host while containers have probes
IDLE = 30.0  # ... while none has one (a poke after an apply looks at once)


@dataclass(eq=False)
class ProbeLoop:
    connect: Callable[[], Engine]
    project: str
    image: str
    on_restart: Callable[[Restart], None]
    on_error: Callable[[str], None]
    on_failed: Callable[[Failed], None] = lambda failed: None
    restarting: Callable[[str], None] = lambda container: None
    idle: float = IDLE  # seconds between two reads while no container has a probe
    wake: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    stopped: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    thread: threading.Thread = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name="probes", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def poke(self) -> None:
        """Look at the host now (the agent applied or repaired something)."""
        self.wake.set()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        failures = 0
        while not self.stopped.is_set():
            try:
                with closing(self.connect()) as engine:
                    prober = Prober(engine, self.image, restarting=self.restarting)
                    try:
                        while not self.stopped.is_set():
                            self._tick(engine, prober)
                            failures = 0
                            now = time.monotonic()
                            pause = min(prober.next_due() - now, LOOK_AGAIN if prober.clocks else self.idle)
                            self.wake.wait(max(0.05, pause))
                            self.wake.clear()
                    finally:
                        prober.close()
            except PodspecError as error:
                failures += 1
                self.on_error(error.message)
                self.stopped.wait(min(30.0, 2.0 ** failures))

    def _tick(self, engine: Engine, prober: Prober) -> None:
        observed = engine.observe()
        pods = {p.name for p in observed.pods
                if p.managed and p.project == self.project and stopped_on_purpose(observed, p) is None}
        done = prober.tick(observed, pods)
        for failed in done.failed:
            self.on_failed(failed)
        for restart in done.restarted:
            self.on_restart(restart)

