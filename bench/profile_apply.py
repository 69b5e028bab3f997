#!/usr/bin/env python3
"""Where the time of an apply from empty goes (issue 29): podspec's own CPU against Podman's.

Runs `podspec apply` of N pods (bench_apply.py's pods: two containers, a host port, a named
volume) in this process, on a private Podman (tools/sandbox.py), with every REST call timed:
per kind of call its count, total and mean latency, and how many ran at once; podspec's CPU
(this process) and the Podman service's CPU (its process and the children it reaped), against
the wall time. Then `podman kube play` of the same pods, for the anchor, with the service's CPU.
Run as bench/README.md says (private namespaces, a private /dev/shm):

    .venv/bin/python bench/profile_apply.py --pods 100 --engine podman4 [--parallel 3,6]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))
import sandbox  # noqa: E402
from bench_apply import pods_yaml  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def service_pids(state: Path) -> list[int]:
    """The `podman system service` processes of this sandbox (on podman5 the wrapper's child too)."""
    sock = str(sandbox.socket_path(state))
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "system service" in command and sock in command and "nsenter" not in command:
            found.append(int(entry))
    return found


def cpu_of(pids: list[int]) -> float:
    """CPU seconds of these processes and of the children they reaped."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / TICK  # utime stime cutime cstime
    return total


def machine_cpu() -> float:
    """CPU seconds the whole machine spent busy (every process: other work streams too)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(f) for f in fields]
    return (sum(values) - values[3] - values[4]) / TICK


class Calls:
    """Every REST call: kind (method and path with names blanked), seconds, and the most at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_kind: dict[str, list[float]] = defaultdict(list)
        self.now = 0
        self.most = 0

    def wrap(self, call):  # type: ignore[no-untyped-def]
        calls = self

        def timed(engine, method, path, *args, **kwargs):  # type: ignore[no-untyped-def]
            with calls.lock:
                calls.now += 1
                calls.most = max(calls.most, calls.now)
            began = time.perf_counter()
            try:
                return call(engine, method, path, *args, **kwargs)
            finally:
                seconds = time.perf_counter() - began
                kind = method.upper() + " " + re.sub(r"^/(pods|containers|volumes|networks|secrets)/(?!create$|json$)[^/]+", r"/\1/X", path)
                with calls.lock:
                    calls.now -= 1
                    calls.by_kind[kind].append(seconds)

        return timed

    def report(self, wall: float) -> None:
        total = 0.0
        for kind, times in sorted(self.by_kind.items(), key=lambda kv: -sum(kv[1])):
            total += sum(times)
            print(f"    {kind:<36} {len(times):5d} calls  {sum(times):8.2f} s  mean {sum(times) / len(times) * 1000:7.1f} ms"
                  f"  max {max(times) * 1000:7.1f} ms")
        print(f"    {'all calls':<36} {sum(len(t) for t in self.by_kind.values()):5d} calls  {total:8.2f} s"
              f"  (summed over threads; wall {wall:.2f} s; at most {self.most} at once)")


def apply_in_process(url: str, manifest: str, parallel: int, state: Path, command: str = "apply") -> None:
    from podspec.engine import podman

    calls = Calls()
    original = podman.PodmanEngine.call
    podman.PodmanEngine.call = calls.wrap(original)  # type: ignore[method-assign]
    from podspec.cli import main as cli_main

    pids = service_pids(state)
    service0, machine0 = cpu_of(pids), machine_cpu()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    argv = sys.argv
    sys.argv = ["podspec", command, manifest, "--url", url, "--project", "bench", "-o", "json"]
    if parallel:
        sys.argv += ["--parallel", str(parallel)]
    try:
        with open(os.devnull, "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                cli_main()
            except SystemExit as end:
                if end.code not in (0, 2, None):
                    raise
            finally:
                sys.stdout = stdout
    finally:
        sys.argv = argv
        podman.PodmanEngine.call = original  # type: ignore[method-assign]
    wall = time.perf_counter() - began
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    ours = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)
    what = f"apply from empty, --parallel {parallel}" if parallel else f"{command}, no changes"
    print(f"  podspec {what}: wall {wall:.2f} s, podspec CPU {ours:.2f} s, "
          f"Podman service CPU {cpu_of(pids) - service0:.2f} s, machine CPU {machine_cpu() - machine0:.2f} s "
          f"(every process), peak RSS {self1.ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.1f}", flush=True)
    calls.report(wall)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    parser.add_argument("--parallel", default="6", help="podspec's --parallel values to try, comma-separated")
    parser.add_argument("--skip-kube-play", action="store_true")
    parser.add_argument("--noop", action="store_true", help="then a no-op diff and apply, twice each, calls timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podspec-profile-") as tmp:
        state, work = Path(tmp) / "podman", Path(tmp)
        url = sandbox.up(state, sandbox.engine_choice(args.engine))
        try:
            manifest = work / "apply.yaml"
            manifest.write_text(pods_yaml(args.pods))
            kube = work / "kube.yaml"
            kube.write_text(pods_yaml(args.pods, claims=False))
            print(f"{args.pods} pods on {sandbox.engine_of(state)}; load {os.getloadavg()[0]:.1f}", flush=True)
            for parallel in (int(p) for p in args.parallel.split(",")):
                if not args.skip_kube_play:
                    sandbox.purge(state)
                    pids = service_pids(state)
                    cli = sandbox.podman_command_direct(state)
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    service0, machine0, began = cpu_of(pids), machine_cpu(), time.perf_counter()
                    done = subprocess.run([*cli, "kube", "play", str(kube)], env=sandbox.podman_env(state),
                                          capture_output=True, text=True)
                    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
                    print(f"  podman kube play from empty: wall {time.perf_counter() - began:.2f} s (rc {done.returncode}), "
                          f"its CPU {usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime:.2f} s, "
                          f"Podman service CPU {cpu_of(pids) - service0:.2f} s (unused by kube play), "
                          f"machine CPU {machine_cpu() - machine0:.2f} s; load {os.getloadavg()[0]:.1f}", flush=True)
                    del pids
                sandbox.purge(state)
                # a fresh process for each run would be fairer; in process, the imports are paid once
                apply_in_process(url, str(manifest), parallel, state)
            if args.noop:  # the no-op commands on the applied pods (the imports were paid above)
                for command in ("diff", "apply", "diff", "apply"):
                    apply_in_process(url, str(manifest), 0, state, command)
        finally:
            sandbox.discard(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
