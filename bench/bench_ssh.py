#!/usr/bin/env python3
"""Benchmark: a no-op `podspec diff` over ssh:// against `podman --url ssh://...` doing the same list
calls, whole processes, through a real OpenSSH server on loopback in front of a private Podman
(tools/sandbox.py and tests/integration/sshd.py), never the machine's default one. Run by hand,
in a private network namespace:

    unshare --net --fork -- bash -c 'ip link set lo up && .venv/bin/python bench/bench_ssh.py'
    ... bench/bench_ssh.py --pods 10 --repeat 7

podspec reads a host in three list calls (containers, volumes, images; see engine/podman.py). The
floor is the podman remote client making the same three calls, each a `podman --url ssh://...`
process (`ps -a`, `volume ls`, `images`, JSON output) with the same key; each opens its own SSH
connection, as podspec's one process opens one. Target: podspec within 1.5x the floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
import sandbox  # noqa: E402

from tests.integration import sshd  # noqa: E402
from tests.integration.manifests import sleeper  # noqa: E402


def timed(command: list[str], env: dict[str, str], expect: tuple[int, ...] = (0,)) -> float:
    began = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if result.returncode not in expect:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}: {result.stderr}")
    return elapsed


def median(runs: int, measure) -> tuple[float, float, float]:
    samples = sorted(measure() for _ in range(runs))
    return statistics.median(samples), samples[0], samples[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="podspec-bench-ssh-") as tmp:
        base = Path(tmp)
        state = base / "podman"
        sandbox.up(state)
        server, process = sshd.start(base / "sshd")
        try:
            manifest = base / "pods.yaml"
            manifest.write_text("---\n".join(sleeper(f"bench-{i}") for i in range(args.pods)))
            socket = state / "podman.sock"
            url = server.url(socket)
            podspec = str(ROOT / ".venv" / "bin" / "podspec")
            env = server.env(PODSPEC_PROJECT="bench")
            subprocess.run([podspec, "apply", str(manifest), "--url", sandbox.url(state)], env=env, check=True,
                           capture_output=True)

            # podman's remote client checks host keys in $HOME/.ssh/known_hosts
            home = base / "home"
            (home / ".ssh").mkdir(parents=True)
            (home / ".ssh" / "known_hosts").write_text(server.known_hosts.read_text())
            podman_env = {k: v for k, v in sandbox.podman_env(state).items() if k != "CONTAINER_HOST"}
            podman_env["HOME"] = str(home)
            remote = ["podman", "--url", url, "--identity", str(server.client_key)]
            calls = [["ps", "-a", "--format", "json"], ["volume", "ls", "--format", "json"], ["images", "--format", "json"]]

            def floor() -> float:
                return sum(timed(remote + call, podman_env) for call in calls)

            def diff() -> float:
                return timed([podspec, "diff", str(manifest), "--url", url, "--identity", str(server.client_key)], env)

            def diff_local() -> float:
                return timed([podspec, "diff", str(manifest), "--url", sandbox.url(state)], env)

            floor(), diff()  # warm the caches
            rows = [
                (f"podman --url ssh:// ps -a + volume ls + images, {args.pods} pods", median(args.repeat, floor)),
                (f"podspec diff over ssh://, no changes, {args.pods} pods", median(args.repeat, diff)),
                (f"podspec diff over unix://, no changes, {args.pods} pods", median(args.repeat, diff_local)),
            ]
        finally:
            sshd.stop(process)
            sandbox.discard(state)

    floor_median = rows[0][1][0]
    print(f"median of {args.repeat} (min-max), whole processes, {os.cpu_count()} cores")
    for label, (mid, low, high) in rows:
        ratio = f"  ({mid / floor_median:.2f}x the floor)" if label.startswith("podspec diff over ssh") else ""
        print(f"  {label:<58} {mid:6.3f} s  ({low:.3f}-{high:.3f}){ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
