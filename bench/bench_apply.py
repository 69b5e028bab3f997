#!/usr/bin/env python3
"""Benchmarks for `podspec diff` (issue 4) and `podspec apply` (issue 5), whole process, on a
private Podman (tools/sandbox.py), never the machine's default one. Run by hand:

    .venv/bin/python bench/bench_apply.py            # full run (30 pods, a few minutes)
    .venv/bin/python bench/bench_apply.py --quick    # 1 and 10 pods only
    .venv/bin/python bench/bench_apply.py --engine podman5   # on Podman 5 (tools/sandbox.py)
    .venv/bin/python bench/bench_apply.py --engine both      # one after the other, then side by side

The engine is --engine, else $PODSPEC_TEST_ENGINE, else podman4. The floor and kube play are the
same Podman's CLI (on podman5, run in its namespace with nsenter directly, no wrapper shell).

podspec is installed from this checkout into a fresh virtualenv first (as users install it);
`--editable` measures the development .venv instead.

Each pod has two containers (httpd with a host port, a busybox sidecar) and a named volume.
Reported (median of --repeat runs where repeated; a podspec command and the floor are measured in
turn, so that a busy machine slows both alike):
  - diff and no-op apply of 1, 10, 30 (--sizes) applied pods against the floor: `podman pod ps
    --format json` plus `podman ps -a --format json` (the local CLI on the same storage); each size
    is applied over the last (no purge between sizes);
  - at the largest size: an apply that changes one container, and how many containers it recreated;
    apply from empty against `podman kube play` from empty (in turn, --apply-repeat times), kube play
    on a network of the size podspec gives a project; no-op `podman kube play --replace`;
  - the peak resident memory of each podspec command (wait4's ru_maxrss).
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
import sandbox  # noqa: E402

BASE_PORT = 21000


def installed_podspec(where: Path, editable: bool) -> list[str]:
    """podspec as users run it: installed from this checkout into a fresh virtualenv (a wheel, not
    the development .venv, whose editable-install import hook costs ~10 ms a command)."""
    if editable:
        return [str(ROOT / ".venv" / "bin" / "podspec")]
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    # Offline (a benchmark in a network namespace): from the wheels scripts/bootstrap.sh downloaded.
    wheels = ROOT / ".venv" / "wheelhouse"
    offline = ["--no-index", "--find-links", str(wheels)] if wheels.is_dir() else []
    subprocess.run([str(where / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *offline, str(ROOT)],
                   check=True, capture_output=True)
    return [str(where / "bin" / "podspec")]


def pods_yaml(count: int, changed: int | None = None, claims: bool = True) -> str:
    docs = []
    for i in range(count):
        sleep = "5" if i == changed else "10"
        if claims:
            docs.append(f"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data-{i}\n")
        docs.append(f"""\
apiVersion: v1
kind: Pod
metadata:
  name: bench-{i}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/library/httpd:2.4
      imagePullPolicy: IfNotPresent
      ports:
        - {{containerPort: 80, hostPort: {BASE_PORT + i}}}
      volumeMounts:
        - {{name: data, mountPath: /usr/local/apache2/htdocs}}
    - name: side
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "while true; do sleep {sleep}; done"]
      volumeMounts:
        - {{name: data, mountPath: /data}}
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data-{i}
""")
    return "---\n".join(docs)


class Bench:
    def __init__(self, state: Path, work: Path, repeat: int, podspec: list[str], engine: str) -> None:
        self.state, self.work, self.repeat, self.command = state, work, repeat, podspec
        self.url = sandbox.up(state, engine)
        self.env = sandbox.podman_env(state)
        self.cli = sandbox.podman_command_direct(state)
        self.figures: dict[str, str] = {}
        self.last_peak_mb = 0.0

    def run(self, argv: list[str], check: bool = True) -> tuple[float, subprocess.CompletedProcess]:
        """Run `argv` to its end; its wall time. Its peak resident memory (the process's own, from
        wait4) is kept in `last_peak_mb`."""
        began = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(argv, env=self.env, stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - began
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            done = subprocess.CompletedProcess(argv, process.returncode, out.read().decode(errors="replace"),
                                               err.read().decode(errors="replace"))
        self.last_peak_mb = usage.ru_maxrss / 1024
        if check and done.returncode not in (0, 2):
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return seconds, done

    def median(self, argv: list[str]) -> float:
        return statistics.median(self.run(argv)[0] for _ in range(self.repeat))

    def floor_once(self) -> float:
        a, _ = self.run([*self.cli, "pod", "ps", "--format", "json"])
        b, _ = self.run([*self.cli, "ps", "-a", "--format", "json"])
        return a + b

    def floor(self) -> float:
        return statistics.median(self.floor_once() for _ in range(self.repeat))

    def paired(self, argv: list[str]) -> tuple[float, float]:
        """Median of the floor and of `argv`, measured in turn (floor, command, floor, ...), so
        that a busy machine slows both alike and the ratio stays fair."""
        floors, runs, peaks = [], [], []
        for _ in range(self.repeat):
            floors.append(self.floor_once())
            runs.append(self.run(argv)[0])
            peaks.append(self.last_peak_mb)
        self.last_peak_mb = max(peaks)
        return statistics.median(floors), statistics.median(runs)

    def podspec(self, *args: str) -> list[str]:
        return [*self.command, *args, "--url", self.url, "--project", "bench"]

    def write(self, name: str, text: str) -> str:
        path = self.work / name
        path.write_text(text)
        return str(path)

    def container_ids(self) -> dict[str, str]:
        out = self.run([*self.cli, "ps", "-a", "--format", "{{.Names}} {{.ID}}"])[1].stdout
        return dict(line.split() for line in out.splitlines() if line.strip())

    def purge(self) -> None:
        # (At 300 pods this takes minutes on this machine. `pod rm --all --force --time 0` instead of
        # `pod stop -t 1` + `pod rm` is no faster: on Podman 4.3 it ran 11 minutes, a pod at a time.)
        sandbox.purge(self.state)

    def kube_network(self) -> None:
        sandbox.podman(self.state, "network", "create", "--subnet", KUBE_SUBNET, KUBE_NETWORK)

    @staticmethod
    def load() -> str:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())

    def report(self, label: str, seconds: float, floor: float | None = None, peak: bool = False,
               anchor: str = "the floor") -> None:
        ratio = f"  ({seconds / floor:.2f}x {anchor})" if floor else ""
        if peak:
            ratio += f"  peak RSS {self.last_peak_mb:.0f} MB"
        self.figures[label] = f"{seconds:7.3f} s{ratio}"
        print(f"  {label:<48} {seconds:7.3f} s{ratio}", flush=True)

    def note(self, label: str, text: str) -> None:
        self.figures[label] = text
        print(f"  {label} {text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default=None,
                        help="pod counts of the diff runs, comma-separated (default 1,10,30); the largest is the apply size")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-kube-play", action="store_true")
    parser.add_argument("--skip-replace", action="store_true", help="no `kube play --replace` (long at 300 pods)")
    parser.add_argument("--apply-repeat", type=int, default=1,
                        help="apply from empty: podspec and kube play in turn, this many times each (median)")
    parser.add_argument("--editable", action="store_true", help="measure the development .venv instead of a fresh install")
    parser.add_argument("--podspec", default=None,
                        help="a podspec installed beforehand (e.g. outside a network namespace that has no index)")
    parser.add_argument("--engine", choices=(*sandbox.ENGINES, "both"), default=None,
                        help="podman4, podman5 or both (one after the other); default $PODSPEC_TEST_ENGINE, else podman4")
    args = parser.parse_args()
    engines = sandbox.ENGINES if args.engine == "both" else (sandbox.engine_choice(args.engine),)
    with tempfile.TemporaryDirectory(prefix="podspec-bench-") as tmp:
        podspec = [args.podspec] if args.podspec else installed_podspec(Path(tmp) / "venv", args.editable)
        results = {engine: measure(Path(tmp) / engine, args, podspec, engine) for engine in engines}
    if len(results) > 1:
        print("\nside by side")
        labels = list(dict.fromkeys(label for figures in results.values() for label in figures))
        print(f"  {'':<48} " + "".join(f"{engine:<32}" for engine in results))
        for label in labels:
            print(f"  {label:<48} " + "".join(f"{results[e].get(label, '-').strip():<32}" for e in results))
    return 0


KUBE_NETWORK = "bench-kube"
# kube play's own default network (podman-default-kube-network) is a /24: 254 addresses, so the
# 255th pod fails to start (`IPAM error: failed to find free IP in range`). kube play gets a network
# of the size podspec gives a project (a /22, DNS on: reconcile/network.py), made before each play.
KUBE_SUBNET = "10.120.0.0/22"


def measure(tmp: Path, args: argparse.Namespace, podspec: list[str], engine: str) -> dict[str, str]:
    sizes = tuple(int(n) for n in args.sizes.split(",")) if args.sizes else (1, 10) if args.quick else (1, 10, 30)
    state, work = tmp / "podman", tmp / "work"
    work.mkdir(parents=True)
    bench = Bench(state, work, args.repeat, podspec, engine)
    report = bench.report
    try:
        version = bench.run([*bench.cli, "version", "--format", "{{.Client.Version}}"])[1].stdout.strip()
        print(f"podspec benchmarks on {engine} (Podman {version}), private Podman at {bench.url}, podspec = {podspec[0]}")
        bench.figures["Podman"] = version
        print(f"diff (issue 4): median of {args.repeat}, the floor and podspec in turn; load average {bench.load()}")
        bench.purge()
        # Sizes in increasing order, each applied over the last (its pods are the first ones of the
        # next): no purge between sizes (at 300 pods a purge takes minutes on this machine).
        for n in sorted(sizes):
            manifest = bench.write(f"pods-{n}.yaml", pods_yaml(n))
            bench.run(bench.podspec("apply", manifest))
            floor, seconds = bench.paired(bench.podspec("diff", manifest))
            report(f"floor, {n} pods (pod ps + ps -a)", floor)
            report(f"podspec diff, {n} pods", seconds, floor, peak=True)
            floor, seconds = bench.paired(bench.podspec("apply", manifest))
            report(f"floor, {n} pods", floor)
            report(f"podspec apply, no changes, {n} pods", seconds, floor, peak=True)

        n = max(sizes)
        print(f"apply (issue 5), {n} pods x 2 containers, host port, named volume; load average {bench.load()}")
        manifest = bench.write("apply.yaml", pods_yaml(n))

        before = bench.container_ids()
        changed = bench.write("changed.yaml", pods_yaml(n, changed=n // 2))
        seconds, _ = bench.run(bench.podspec("apply", changed))
        peak = bench.last_peak_mb  # podspec's: container_ids() below runs `podman ps` (~100 MB at 300 pods)
        after = bench.container_ids()
        recreated = sorted(name for name in after if before.get(name) != after[name])
        bench.last_peak_mb = peak
        report("podspec apply, one container changed", seconds, peak=True)
        bench.note("containers recreated:", f"{len(recreated)} {recreated}")

        kube = bench.write("kube.yaml", pods_yaml(n, claims=False))
        # From empty, kube play and podspec in turn (A, B, ...): on a busy machine the ratio holds.
        ours, theirs, peaks = [], [], []
        for _ in range(1 if args.skip_kube_play else args.apply_repeat):
            if not args.skip_kube_play:
                bench.purge()
                bench.kube_network()
                seconds, done = bench.run([*bench.cli, "kube", "play", "--network", KUBE_NETWORK, kube], check=False)
                theirs.append(seconds)
                print(f"    kube play from empty: {seconds:.3f} s, load average {bench.load()}", flush=True)
                if done.returncode:
                    print("    kube play failed:", done.stderr.strip()[-300:])
            bench.purge()
            ours.append(bench.run(bench.podspec("apply", manifest))[0])
            peaks.append(bench.last_peak_mb)
            print(f"    podspec apply from empty: {ours[-1]:.3f} s, peak RSS {peaks[-1]:.0f} MB, load average {bench.load()}",
                  flush=True)
        bench.last_peak_mb = max(peaks)
        if theirs:
            report(f"podman kube play from empty, {n} pods", statistics.median(theirs))
        report(f"podspec apply from empty, {n} pods", statistics.median(ours),
               statistics.median(theirs) if theirs else None, peak=True, anchor="kube play")

        if not args.skip_kube_play and not args.skip_replace:
            bench.purge()
            bench.kube_network()
            bench.run([*bench.cli, "kube", "play", "--network", KUBE_NETWORK, kube], check=False)
            before = bench.container_ids()
            seconds, done = bench.run([*bench.cli, "kube", "play", "--network", KUBE_NETWORK, "--replace", kube], check=False)
            after = bench.container_ids()
            recreated = [name for name in after if before.get(name) != after[name]]
            report("podman kube play --replace, no changes", seconds, floor)
            bench.note("containers recreated by kube play --replace:", str(len(recreated)))
    finally:
        bench.purge()
        sandbox.stop_service(state)
        sandbox.podman(state, "system", "reset", "--force", check=False)
        sandbox.stop_namespace(state)
    return bench.figures


if __name__ == "__main__":
    sys.exit(main())
