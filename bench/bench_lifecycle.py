#!/usr/bin/env python3
"""Issue 23's two figures, against a private Podman (tools/sandbox.py, in a temporary directory):

    .venv/bin/python bench/bench_lifecycle.py [--engine podman4|podman5] [--repeat 3]

1. Simulated reboot to the tutorial's page served: the tutorial (manifests/webserver.yaml's pod, on a
   free port) applied; every container stopped and the Podman service restarted (the reboot); then
   the boot unit's command, `podspec start --all` (a new process, as systemd runs it); the time from
   the service answering again to the page served, rewritten by the init container.
2. A hung container's first failed liveness check to its restart: a busybox httpd (a child of the
   container's shell, so it can be frozen from inside) with `livenessProbe: httpGet`, periodSeconds
   1, timeoutSeconds 1, failureThreshold 3; the probe runner (run/probes.py, as the agent and
   `apply --wait` run it) ticks on its own schedule; the server is frozen (SIGSTOP); measured: from
   the end of the first failed check to the end of the restart (the container running again), and
   from the freeze to the restart.

Run it on a quiet machine: other work (tests on two engines) lengthens Podman's exec and restart.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
import sandbox  # noqa: E402

PODSPEC = str(Path(sys.executable).parent / "podspec")

HUNG = """\
apiVersion: v1
kind: Pod
metadata:
  name: hung
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www & wait"]
      livenessProbe:
        httpGet: {path: /index.html, port: 8080}
        periodSeconds: 1
        timeoutSeconds: 1
        failureThreshold: 3
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def podspec(url: str, *args: str) -> str:
    done = subprocess.run([PODSPEC, *args, "--url", url], capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "PODSPEC_PROJECT": "bench"})
    if done.returncode != 0:
        raise SystemExit(f"podspec {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def page(port: int, want: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as answer:
                if answer.read().decode().startswith(want):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"the page did not come back within {timeout}s")


def reboot_to_page(state: Path, url: str, base: Path) -> float:
    port = free_port()
    manifest = base / "web.yaml"
    manifest.write_text((ROOT / "manifests" / "webserver.yaml").read_text().replace("hostPort: 8080", f"hostPort: {port}"))
    podspec(url, "apply", str(manifest))
    page(port, "Static Website Init")
    sandbox.podman(state, "exec", "dynamic-webserver-apache-httpd", "sh", "-c",
                   "echo before-the-reboot > /usr/local/apache2/htdocs/index.html")
    sandbox.podman(state, "stop", "--all", "-t", "1")
    sandbox.stop_service(state)
    sandbox.start_service(state)
    began = time.monotonic()
    podspec(url, "start", "--all", "--timeout", "120")
    page(port, "Static Website Init")
    took = time.monotonic() - began
    podspec(url, "delete", str(manifest))
    return took


def hang_to_restart(state: Path, url: str, base: Path) -> tuple[float, float]:
    from podspec.engine.podman import connect
    from podspec.run.probes import Prober

    manifest = base / "hung.yaml"
    manifest.write_text(HUNG)
    podspec(url, "apply", str(manifest))
    engine = connect(url=url, env={})
    prober = Prober(engine)
    try:
        deadline = time.monotonic() + 30
        while "hung-web" not in prober.tick(engine.observe()).ready:
            if time.monotonic() > deadline:
                raise SystemExit("the server never answered its probe")
            time.sleep(0.05)
        frozen = time.monotonic()
        sandbox.podman(state, "exec", "hung-web", "sh", "-c", "kill -STOP $(pidof httpd)")
        first_failed = None
        while True:
            now = time.monotonic()
            done = prober.tick(engine.observe())
            if done.failed and first_failed is None:
                first_failed = time.monotonic()
            if done.restarted:
                restarted = time.monotonic()
                break
            if now - frozen > 120:
                raise SystemExit("no restart within 120 s")
            time.sleep(max(0.01, min(0.2, prober.next_due() - time.monotonic())))
        assert first_failed is not None
        return restarted - first_failed, restarted - frozen
    finally:
        prober.close()
        engine.close()
        podspec(url, "delete", str(manifest))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as tmp:
        base = Path(tmp)
        state = base / "podman"
        url = sandbox.up(state, sandbox.engine_choice(args.engine))
        try:
            reboots = [reboot_to_page(state, url, base) for _ in range(args.repeat)]
            hangs = [hang_to_restart(state, url, base) for _ in range(args.repeat)]
        finally:
            sandbox.purge(state)
            sandbox.down(state)
    engine = sandbox.engine_choice(args.engine)
    print(f"engine {engine}, {args.repeat} runs each (median, min-max)")
    print(f"simulated reboot -> tutorial page served: {statistics.median(reboots):.2f}s "
          f"({min(reboots):.2f}-{max(reboots):.2f})")
    first = [h[0] for h in hangs]
    whole = [h[1] for h in hangs]
    print(f"hung container: first failed liveness check -> restarted: {statistics.median(first):.2f}s "
          f"({min(first):.2f}-{max(first):.2f}); freeze -> restarted: {statistics.median(whole):.2f}s "
          f"({min(whole):.2f}-{max(whole):.2f}) (periodSeconds 1, timeoutSeconds 1, failureThreshold 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
