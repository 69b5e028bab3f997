#!/usr/bin/env python3
"""A/B: no-op `podspec diff` and `podspec apply` of 30 applied pods, two revisions of podspec on the
same private Podman, runs interleaved (A, B, A, B, ...) so that load on the machine weighs on both
alike. For claims such as "the refactor costs no more than 5%". Reported per command: the median wall
time, and the median CPU time (user + system) of the podspec process itself, which load on the
machine disturbs far less than wall time. Run by hand:

    .venv/bin/python bench/bench_compare.py BEFORE_REV [AFTER_REV] [--pods 30] [--repeat 15] [--instructions]

`--instructions` also counts the instructions of each revision's no-op diff and apply under
valgrind's callgrind (`apt-get install valgrind`): unlike CPU time, which moves by 10% and more from
one run to the next on a shared machine, the count is the same from run to run whatever the load
(threads run one at a time under valgrind; what it leaves out is the kernel's share and the cost of
cache misses). The apply is counted on its second run in a row, a no-op that repeats its newest
history record, as a user's repeated apply does.

Each revision is exported with `git archive` and installed into a fresh virtualenv (as users install
it). AFTER_REV defaults to the working tree.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tools"))
from bench_apply import Bench, pods_yaml  # noqa: E402


def install(revision: str | None, where: Path) -> str:
    source = where / "src"
    if revision is None:
        source = ROOT
    else:
        source.mkdir(parents=True)
        archive = where / "src.tar"
        subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), revision], check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(source, filter="data")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Offline (in a network namespace): from the wheels scripts/bootstrap.sh downloaded.
    wheels = ROOT / ".venv" / "wheelhouse"
    offline = ["--no-index", "--find-links", str(wheels)] if wheels.is_dir() else []
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *offline, str(source)],
                   check=True, capture_output=True)
    return str(venv / "bin" / "podspec")


def instructions(bench: Bench, commands: dict[str, str], manifest: str) -> dict[tuple[str, str], int]:
    """(verb, label) -> the instructions of one no-op run under callgrind (an apply: its second run
    in a row, which repeats the newest history record and writes nothing)."""
    counts = {}
    for verb in ("diff", "apply"):
        for label, command in commands.items():
            argv = [command, verb, manifest, "--url", bench.url, "--project", "bench"]
            if verb == "apply":
                bench.run(argv)
            _, done = bench.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv])
            found = re.search(r"Collected : (\d+)", done.stderr)
            assert done.returncode == 0 and found, (label, verb, done.stderr[-2000:])
            counts[(verb, label)] = int(found.group(1))
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--engine", choices=("podman4", "podman5"), default="podman4")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each no-op's instructions under valgrind's callgrind (load-independent)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podspec-ab-") as tmp:
        base = Path(tmp)
        commands = {"before": install(args.before, base / "a"), "after": install(args.after, base / "b")}
        (base / "work").mkdir()
        bench = Bench(base / "podman", base / "work", 1, [commands["after"]], args.engine)
        try:
            manifest = bench.write("pods.yaml", pods_yaml(args.pods))
            bench.run(bench.podspec("apply", manifest))
            times: dict[tuple[str, str], list[float]] = {}
            cpu: dict[tuple[str, str], list[float]] = {}
            floors = []
            for _ in range(args.repeat):
                floors.append(bench.floor_once())
                for verb in ("diff", "apply"):
                    for label, command in commands.items():
                        argv = [command, verb, manifest, "--url", bench.url, "--project", "bench"]
                        used = resource.getrusage(resource.RUSAGE_CHILDREN)
                        seconds, done = bench.run(argv)
                        now = resource.getrusage(resource.RUSAGE_CHILDREN)
                        assert done.returncode == 0, (label, verb, done.stdout, done.stderr)
                        times.setdefault((verb, label), []).append(seconds)
                        cpu.setdefault((verb, label), []).append(
                            now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime)
            counts = instructions(bench, commands, manifest) if args.instructions else {}
            floor = statistics.median(floors)
            print(f"{args.pods} pods, median of {args.repeat} interleaved runs; CLI read floor {floor:.3f} s; "
                  f"load average {os.getloadavg()[0]:.1f}")
            for verb in ("diff", "apply"):
                a, b = (statistics.median(times[(verb, k)]) for k in ("before", "after"))
                print(f"  no-op {verb:<5} wall  before {a:.3f} s ({a / floor:.2f}x)   after {b:.3f} s ({b / floor:.2f}x)"
                      f"   change {100 * (b - a) / a:+.1f}%")
                a, b = (statistics.median(cpu[(verb, k)]) for k in ("before", "after"))
                print(f"  no-op {verb:<5} CPU   before {a:.3f} s   after {b:.3f} s   change {100 * (b - a) / a:+.1f}%")
                if counts:
                    a, b = counts[(verb, "before")], counts[(verb, "after")]
                    print(f"  no-op {verb:<5} instructions  before {a / 1e6:.1f} M   after {b / 1e6:.1f} M   "
                          f"change {100 * (b - a) / a:+.1f}%")
        finally:
            bench.purge()
            import sandbox

            sandbox.stop_service(bench.state)
            sandbox.podman(bench.state, "system", "reset", "--force", check=False)
            sandbox.stop_namespace(bench.state)  # Podman 5's namespace holder (nothing on 4.3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
