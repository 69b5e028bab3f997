"""Benchmark: validate 1,000 pods, in one file and in 1,000 files.

    .venv/bin/python bench/bench_validate.py [--pods 1000] [--runs 5]

Times `podspec.loader.load()` in-process and the whole `podspec validate` process (startup
included), and prints the median of a few runs. Target: under 1 s for 1,000 pods on one core.
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
PODSPEC = ROOT / ".venv" / "bin" / "podspec"

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-{n}
  labels:
    app: web-{n}
    tier: frontend
  annotations:
    io.podman.annotations.init.container.type: always
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 5
  initContainers:
    - name: init
      image: docker.io/library/busybox:latest
      command: [sh, -c, "echo init > /data/index.html"]
      volumeMounts:
        - name: data
          mountPath: /data
  containers:
    - name: httpd
      image: docker.io/library/httpd:2.4
      ports:
        - containerPort: 80
          hostPort: {port}
      env:
        - name: MODE
          value: production
        - name: LEVEL
          value: "3"
      resources:
        limits:
          cpu: 500m
          memory: 128Mi
      securityContext:
        capabilities:
          drop: [CAP_MKNOD, CAP_NET_RAW]
      livenessProbe:
        httpGet:
          path: /
          port: 80
        periodSeconds: 10
      volumeMounts:
        - name: data
          mountPath: /usr/local/apache2/htdocs
    - name: sidecar
      image: docker.io/library/alpine
      command: [sh, -c, "sleep infinity"]
      volumeMounts:
        - name: data
          mountPath: /data
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: web-{n}-data
"""


def pod(n: int) -> str:
    return POD.format(n=n, port=10000 + n)


def median_time(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from podspec.loader import load

    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.yaml"
        one.write_text("---\n".join(pod(n) for n in range(args.pods)))
        many = Path(tmp) / "many"
        many.mkdir()
        for n in range(args.pods):
            (many / f"pod-{n:05d}.yaml").write_text(pod(n))

        print(f"{args.pods} pods, median of {args.runs} runs, python {sys.version.split()[0]}, pid {os.getpid()}")
        load([str(one)])  # warm the schema compile and the file cache once
        for label, target in (("1 file", one), (f"{args.pods} files", many)):
            state = load([str(target)])
            assert len(state.pods) == args.pods, len(state.pods)
            in_process = median_time(lambda target=target: load([str(target)]), args.runs)

            def run_cli(target: Path = target) -> None:
                subprocess.run([str(PODSPEC), "validate", str(target)], check=True, stdout=subprocess.DEVNULL)

            whole = median_time(run_cli, args.runs)
            print(f"  {label:>11}: load() {in_process * 1000:7.0f} ms   podspec validate {whole * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
