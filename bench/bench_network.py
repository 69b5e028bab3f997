#!/usr/bin/env python3
"""Issue 22: hundreds of pods on one project network (a /22 of 10.90.0.0/15), on a private Podman
(tools/sandbox.py). Reported:

  - `podspec apply` from empty of N pods (default 300, one busybox container each) of one project:
    wall time, and that every pod got an address inside the project's subnet (none left on
    Podman's default network);
  - that the last pod's name answers inside the first pod (pods reach each other by pod name);
  - the no-op `podspec diff` of those N pods (median of --repeat) against the CLI read floor;
  - that a second project gets a subnet of its own, overlapping no other network.

    .venv/bin/python bench/bench_network.py [--engine podman4|podman5] [--pods 300] [--repeat 5]

Run as root inside a network namespace with a private /run/containers/networks, as scripts/test.sh
runs the tests:

    unshare --net --mount --fork sh -c 'ip link set lo up && mkdir -p /run/containers/networks &&
      mount -t tmpfs tmpfs /run/containers/networks && exec .venv/bin/python bench/bench_network.py'

Measures the development .venv: nothing is installed.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_apply import Bench, sandbox  # noqa: E402


def pods(prefix: str, count: int) -> str:
    return "---\n".join(f"""\
apiVersion: v1
kind: Pod
metadata: {{name: {prefix}-{i}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - {{name: c, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "100000"]}}
""" for i in range(count))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    parser.add_argument("--pods", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    engine = sandbox.engine_choice(args.engine)
    podspec = [str(HERE.parent / ".venv" / "bin" / "podspec")]
    with tempfile.TemporaryDirectory(prefix="podspec-bench-network-") as tmp:
        state, work = Path(tmp) / "podman", Path(tmp) / "work"
        work.mkdir()
        bench = Bench(state, work, args.repeat, podspec, engine)
        url = ["--url", bench.url]
        try:
            n = args.pods
            print(f"engine {engine} ({sandbox.engine_of(state)}), {n} pods of one project", flush=True)
            many = bench.write("many.yaml", pods("p", n))
            seconds, _ = bench.run([*podspec, "apply", many, *url, "--project", "many"])
            print(f"  apply from empty, {n} pods                     {seconds:.1f} s", flush=True)

            network = json.loads(bench.run([*bench.cli, "network", "inspect", "podspec-many"])[1].stdout)[0]
            subnet = ipaddress.ip_network(network["subnets"][0]["subnet"])
            infra = bench.run([*bench.cli, "ps", "-a", "--filter", "label=io.podspec.project=many", "--format",
                               "{{if .IsInfra}}{{.ID}}{{end}}"])[1].stdout.split()
            inspected = json.loads(bench.run([*bench.cli, "inspect", *infra])[1].stdout)
            addresses = [ipaddress.ip_address(settings["IPAddress"]) for c in inspected
                         for name, settings in (c["NetworkSettings"].get("Networks") or {}).items() if name == "podspec-many"]
            elsewhere = [c["Name"] for c in inspected if set(c["NetworkSettings"].get("Networks") or {}) != {"podspec-many"}]
            inside = sum(a in subnet for a in addresses)
            print(f"  subnet {subnet} ({subnet.num_addresses - 2} host addresses): {len(infra)} pods, {inside} addresses "
                  f"inside it, {len(set(addresses))} distinct; on another network too: {len(elsewhere)}", flush=True)

            looked = subprocess.run([*bench.cli, "exec", "p-0-c", "nslookup", "-type=a", f"p-{n - 1}"], env=bench.env,
                                    capture_output=True, text=True)
            answer = looked.stdout.split("Name:", 1)[-1] if "Name:" in looked.stdout else ""
            print(f"  p-0 resolves p-{n - 1}: {'yes' if 'Address' in answer else 'NO'} ({answer.split()[-1] if answer else looked.stderr.strip()[-80:]})",
                  flush=True)

            diffs, floors = [], []
            for _ in range(args.repeat):
                floors.append(bench.floor_once())
                seconds, done = bench.run([*podspec, "diff", many, *url, "--project", "many"], check=False)
                assert done.returncode == 0, done.stdout[-2000:]
                diffs.append(seconds)
            floor, diff = statistics.median(floors), statistics.median(diffs)
            print(f"  no-op diff, {n} pods                           {diff:.3f} s (floor {floor:.3f} s, {diff / floor:.2f}x)",
                  flush=True)

            bench.run([*podspec, "apply", bench.write("two.yaml", pods("q", 2)), *url, "--project", "second"])
            nets = json.loads(bench.run([*bench.cli, "network", "inspect", "podspec-many", "podspec-second", "podman"])[1].stdout)
            subnets = [ipaddress.ip_network(s["subnet"]) for net in nets for s in net["subnets"]]
            overlaps = [(str(a), str(b)) for i, a in enumerate(subnets) for b in subnets[i + 1:] if a.overlaps(b)]
            print(f"  subnets: {', '.join(str(s) for s in subnets)}; overlapping: {overlaps or 'none'}", flush=True)
        finally:
            bench.purge()
            sandbox.down(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
