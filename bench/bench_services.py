#!/usr/bin/env python3
"""Issue 22's figures, on a private Podman (tools/sandbox.py):

  1. the no-op `podspec diff` of 30 pods behind 10 Services against the same 30 pods without
     Services (two projects on one host, measured in turn: A, B, A, B, ...);
  2. how long after `podspec apply` returns a Service name answers inside a client pod of the
     project (Podman's DNS, aardvark-dns), after the first apply and after a Service is renamed
     (a reconnect).

    .venv/bin/python bench/bench_services.py [--engine podman4|podman5] [--repeat 11]

Run as root inside a network namespace with a private /run/containers/networks, as scripts/test.sh
runs the tests (aardvark-dns then has no upstream resolver: names are asked as A records only).
Measures the development .venv (`--editable` of bench_apply.py): nothing is installed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_apply import BASE_PORT, Bench, sandbox  # noqa: E402


def pods(prefix: str, count: int, services: int, port_base: int) -> str:
    docs = []
    for i in range(count):
        docs.append(f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {prefix}-{i}
  labels: {{group: g{i % max(services, 1)}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/library/httpd:2.4
      imagePullPolicy: IfNotPresent
      ports:
        - {{containerPort: 80, hostPort: {port_base + i}}}
    - name: side
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "while true; do sleep 10; done"]
""")
    for s in range(services):
        docs.append(f"""\
apiVersion: v1
kind: Service
metadata: {{name: svc-{s}}}
spec:
  selector: {{group: g{s}}}
  ports: [{{port: 80}}]
""")
    return "---\n".join(docs)


APP = """\
apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - {name: httpd, image: docker.io/library/httpd:2.4, imagePullPolicy: IfNotPresent}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - {name: c, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  selector: {app: db}
  ports: [{port: 80}]
"""


def answers_after(bench: Bench, name: str, timeout: float = 120.0) -> float:
    """Seconds until `name` resolves (A record) inside the client pod, polled."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        out = subprocess.run([*bench.cli, "exec", "client-c", "nslookup", "-type=a", name], env=bench.env,
                             capture_output=True, text=True)
        if "Non-authoritative answer" in out.stdout and "Address" in out.stdout.split("Non-authoritative answer", 1)[1]:
            return time.perf_counter() - began
        time.sleep(0.05)
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--services", type=int, default=10)
    args = parser.parse_args()
    engine = sandbox.engine_choice(args.engine)
    podspec = [str(HERE.parent / ".venv" / "bin" / "podspec")]
    with tempfile.TemporaryDirectory(prefix="podspec-bench-services-") as tmp:
        state, work = Path(tmp) / "podman", Path(tmp) / "work"
        work.mkdir()
        bench = Bench(state, work, args.repeat, podspec, engine)
        try:
            print(f"engine {engine} ({sandbox.engine_of(state)}), {args.pods} pods, {args.services} Services", flush=True)
            plain = bench.write("plain.yaml", pods("plain", args.pods, 0, BASE_PORT))
            served = bench.write("served.yaml", pods("served", args.pods, args.services, BASE_PORT + 1000))
            url = ["--url", bench.url]
            for path, project in ((plain, "plain"), (served, "served")):
                bench.run([*podspec, "apply", path, *url, "--project", project])
            a, b = [], []
            for _ in range(args.repeat):
                a.append(bench.run([*podspec, "diff", plain, *url, "--project", "plain"])[0])
                b.append(bench.run([*podspec, "diff", served, *url, "--project", "served"])[0])
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"  no-op diff, {args.pods} pods without Services      {ma:.3f} s", flush=True)
            print(f"  no-op diff, {args.pods} pods behind {args.services} Services  {mb:.3f} s  ({mb / ma:.2f}x)", flush=True)
            bench.purge()

            first, renamed = [], []
            for i in range(max(3, args.repeat // 3)):
                app = bench.write("app.yaml", APP.replace("NAME", f"db{i}"))
                bench.run([*podspec, "apply", app, *url, "--project", "app"])
                first.append(answers_after(bench, f"db{i}"))
                app = bench.write("app.yaml", APP.replace("NAME", f"renamed{i}"))
                bench.run([*podspec, "apply", app, *url, "--project", "app"])
                renamed.append(answers_after(bench, f"renamed{i}"))
                bench.run([*podspec, "delete", app, *url, "--project", "app"])
            print(f"  a Service name answers after the first apply      {statistics.median(first):.3f} s "
                  f"(max {max(first):.3f} s, {len(first)} runs)", flush=True)
            print(f"  ... after the Service is renamed (a reconnect)    {statistics.median(renamed):.3f} s "
                  f"(max {max(renamed):.3f} s)", flush=True)
        finally:
            bench.purge()
            sandbox.down(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
