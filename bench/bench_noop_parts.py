#!/usr/bin/env python3
"""Where a no-op `podspec diff` at N pods spends its wall time against the CLI read floor (issue 29's
1.0x target): each part measured as a whole process, in turn with the floor (A, B, C, ..., A, B, C),
on one private Podman (tools/sandbox.py) holding N applied pods, with podspec installed as pip
installs it (bench_apply.py's pods and install). Run as bench/README.md says (private namespaces):

    .venv/bin/python bench/bench_noop_parts.py [--pods 30] [--repeat 21] [--engine podman4]

Prints the median wall and CPU time of
  - the floor: `podman pod ps` + `podman ps -a` (two CLI processes);
  - `python -c pass` and `python -c 'import typer, yaml'` with podspec's interpreter;
  - `podspec diff` up to its first request to Podman (the process ends where the host reading's
    thread would start: the interpreter, typer, the command's module, the engine);
  - the whole `podspec diff`;
and what Podman's service takes to answer the five list calls a diff made before it read only the
images its manifests name (the container list alone; the five side by side; the five one after the
other, each list's time), and the service's own CPU a call of each (the whole image list against one
filtered by a reference, as a diff now reads it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tools"))
import sandbox  # noqa: E402
from bench_apply import Bench, installed_podspec, pods_yaml  # noqa: E402

# `podspec diff` that ends where the host reading would start (run/reading.py's HostReading).
UNTIL_FIRST_REQUEST = """
import os, sys
import podspec.run.reading as reading
reading.HostReading.__init__ = lambda *a, **k: os._exit(0)
from podspec.__main__ import main
sys.argv[0] = "podspec"
main()
"""

LISTS = ("/volumes/json", "/images/json", "/secrets/json", "/networks/json")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, (argv, done.stderr[-1000:])
    return seconds, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


FILTERED_IMAGES = "/images/json?filters=" + urllib.parse.quote(json.dumps({"reference": ["docker.io/library/httpd:2.4"]}))


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and of every process below it now (the Podman 5 service runs under
    the sandbox's nsenter wrapper)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
        todo.extend(children.get(current, ()))
    return total


def service_cpu(url: str, service_pid: int, repeat: int) -> str:
    """The Podman service's own CPU per call of each list a diff makes (and of the image list a
    diff now makes instead of the whole one: filtered by one reference)."""
    path = url.removeprefix("unix://")

    def get(what: str) -> None:
        connection = http.client.HTTPConnection("d")
        connection.sock = socket.socket(socket.AF_UNIX)
        connection.sock.connect(path)
        connection.request("GET", "/v4.0.0/libpod" + what)
        connection.getresponse().read()
        connection.close()

    spent = {}
    for what in ("/containers/json?all=true", *LISTS, FILTERED_IMAGES):
        get(what)
        before = tree_cpu(service_pid)
        for _ in range(repeat):
            get(what)
        spent["/images/json filtered by one reference" if what == FILTERED_IMAGES else what] = \
            (tree_cpu(service_pid) - before) / repeat
    return "  the service's CPU a call: " + ", ".join(f"{w} {1000 * c:.1f} ms" for w, c in spent.items())


def rest_reads(url: str, repeat: int) -> str:
    path = url.removeprefix("unix://")

    class Connection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(path)

    def get(what: str) -> float:
        began = time.perf_counter()
        connection = Connection("d")
        connection.request("GET", "/v4.0.0/libpod" + what)
        connection.getresponse().read()
        connection.close()
        return time.perf_counter() - began

    alone, together, in_turn = [], [], []
    each: dict[str, list[float]] = {what: [] for what in LISTS}
    for _ in range(repeat):
        alone.append(get("/containers/json?all=true"))
        began = time.perf_counter()
        threads = [threading.Thread(target=get, args=(what,)) for what in LISTS]
        for thread in threads:
            thread.start()
        get("/containers/json?all=true")
        for thread in threads:
            thread.join()
        together.append(time.perf_counter() - began)
        began = time.perf_counter()
        get("/containers/json?all=true")
        for what in LISTS:
            each[what].append(get(what))
        in_turn.append(time.perf_counter() - began)
    ms = lambda values: f"{1000 * statistics.median(values):.0f} ms"
    return (f"  Podman's answers: the container list alone {ms(alone)}; the five side by side {ms(together)}; "
            f"one after the other {ms(in_turn)} (" + ", ".join(f"{w} {ms(v)}" for w, v in each.items()) + ")")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    args = parser.parse_args()
    engine = sandbox.engine_choice(args.engine)
    with tempfile.TemporaryDirectory(prefix="podspec-parts-") as tmp:
        base = Path(tmp)
        podspec = installed_podspec(base / "venv", editable=False)[0]
        python = str(base / "venv" / "bin" / "python")
        (base / "work").mkdir()
        until = base / "until_first_request.py"
        until.write_text(UNTIL_FIRST_REQUEST)
        bench = Bench(base / "podman", base / "work", args.repeat, [podspec], engine)
        try:
            manifest = bench.write("pods.yaml", pods_yaml(args.pods))
            bench.run(bench.podspec("apply", manifest))
            diff = ["diff", manifest, "--url", bench.url, "--project", "bench"]
            parts = {
                "floor: pod ps + ps -a": None,
                "python -c pass": [python, "-c", "pass"],
                "python -c 'import typer, yaml'": [python, "-c", "import typer, yaml"],
                "podspec diff up to its first request": [python, str(until), *diff],
                "podspec diff": [podspec, *diff],
            }
            wall: dict[str, list[float]] = {k: [] for k in parts}
            cpu: dict[str, list[float]] = {k: [] for k in parts}
            for _ in range(args.repeat):
                for label, argv in parts.items():
                    runs = [[*bench.cli, "pod", "ps", "--format", "json"], [*bench.cli, "ps", "-a", "--format", "json"]] \
                        if argv is None else [argv]
                    seconds = used = 0.0
                    for one in runs:
                        s, c = timed(one, bench.env)
                        seconds, used = seconds + s, used + c
                    wall[label].append(seconds)
                    cpu[label].append(used)
            floor = statistics.median(wall["floor: pod ps + ps -a"])
            print(f"{engine}, {args.pods} pods, median of {args.repeat}, in turn; load average {os.getloadavg()[0]:.1f}")
            for label in parts:
                w, c = statistics.median(wall[label]), statistics.median(cpu[label])
                print(f"  {label:<40} wall {w:.3f} s ({w / floor:.2f}x the floor)   CPU {c:.3f} s")
            print(rest_reads(bench.url, args.repeat))
            pid = sandbox._service_pid(bench.state)
            if pid is not None:
                print(service_cpu(bench.url, pid, args.repeat))
        finally:
            sandbox.discard(bench.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
