#!/usr/bin/env python3
"""Benchmark for pulls (issue 15): `podspec apply` of 10 pods needing 10 distinct images from a
local registry, against `podman pull` of the same 10 images in parallel. Run by hand, inside a
private network namespace (the registry listens on 127.0.0.1):

    unshare --net --fork -- bash -c 'ip link set lo up && .venv/bin/python bench/bench_pull.py'

A private Podman (tools/sandbox.py, in a temporary directory) and a registry server
(tests/integration/registry.py, Debian's docker-registry) are started; 10 images are built from the
busybox stand-in, each with a layer of its own (`--size` MB of random bytes, so no two share it),
and pushed. Each round starts with none of them on the host:

  - podspec: `podspec apply` (one process, interpreter start-up included) of 10 pods, one
    container each, every image absent (IfNotPresent): 10 pulls, then 10 pods created and started;
    once with the default --parallel-pulls 3 and once with --parallel-pulls 10;
  - the same apply with the 10 images already present (what creating and starting the pods
    costs, without pulls);
  - podman:  10 `podman pull` processes started at once, waited for together (the local CLI on
    the same storage), pulls only.

Reported: the median of --repeat rounds, and each time over podman's (target: within 1.2x). For
podspec, the whole apply and its pull phase (from the process's start, interpreter start-up
included, to its last `pulled` line): nothing may change before every pull has succeeded, so the
pods are created only after the pulls, and the whole apply is the pulls plus the pods.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
import sandbox  # noqa: E402

from tests.conftest import PodmanSandbox  # noqa: E402
from tests.integration.registry import build_variant, push, remove_images_of, start  # noqa: E402

COUNT = 10


def pods_yaml(refs: list[str]) -> str:
    return "---\n".join(f"""\
apiVersion: v1
kind: Pod
metadata:
  name: pull-{i}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {ref}
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
""" for i, ref in enumerate(refs))


def clean(box: PodmanSandbox, registry) -> None:
    box.purge()
    remove_images_of(box, registry)


def time_podspec(box: PodmanSandbox, manifest: Path, parallel_pulls: int) -> tuple[float, float]:
    """(the whole apply, its pull phase: from the process's start to its last `pulled` line)."""
    podspec = str(ROOT / ".venv" / "bin" / "podspec")
    env = sandbox.podman_env(box.state)
    started = time.perf_counter()
    proc = subprocess.Popen([podspec, "apply", str(manifest), "--url", box.url, "--project", "bench",
                             "--progress", "plain", "--parallel-pulls", str(parallel_pulls)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pulled_at, output = 0.0, []
    for line in proc.stdout:
        output.append(line)
        if line.startswith("pulled "):
            pulled_at = time.perf_counter() - started
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"podspec apply failed:\n{''.join(output)}\n{err}")
    return elapsed, pulled_at


def time_podman_pulls(box: PodmanSandbox, refs: list[str]) -> float:
    env = sandbox.podman_env(box.state)
    started = time.perf_counter()
    # the sandbox's podman CLI (the Podman 5 wrapper where the harness has one)
    command = getattr(sandbox, "podman_command", lambda state: ["podman"])(box.state)
    procs = [subprocess.Popen([*command, "pull", "-q", ref], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for ref in refs]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"podman pull failed: {err.decode()}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=20, help="MB of random bytes in each image's own layer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podspec-bench-pull-") as tmp:
        state = Path(tmp) / "podman"
        url = sandbox.up(state)
        box = PodmanSandbox(state=state, url=url)
        registry = start(Path(tmp) / "registry", "open")
        try:
            refs = []
            for i in range(COUNT):
                local = f"localhost/bench-pull-{i}:1"
                build_variant(box, local, f"image {i}", payload=args.size * 1_000_000)
                push(box, registry, local, f"bench/pull-{i}:1")
                box.podman("rmi", local)
                refs.append(registry.ref(f"bench/pull-{i}:1"))
            manifest = Path(tmp) / "pods.yaml"
            manifest.write_text(pods_yaml(refs))
            figures: dict[str, list[float]] = {name: [] for name in (
                "podman pull x10 in parallel", "podspec apply (--parallel-pulls 3)", "  its pulls",
                "podspec apply (--parallel-pulls 10)", "  its pulls ", "podspec apply, images present")}
            for _ in range(args.repeat):
                clean(box, registry)
                figures["podman pull x10 in parallel"].append(time_podman_pulls(box, refs))
                for pulls, label in ((3, "  its pulls"), (10, "  its pulls ")):
                    clean(box, registry)
                    whole, phase = time_podspec(box, manifest, pulls)
                    figures[f"podspec apply (--parallel-pulls {pulls})"].append(whole)
                    figures[label].append(phase)
                box.purge()  # the images stay: what creating and starting the 10 pods costs alone
                figures["podspec apply, images present"].append(time_podspec(box, manifest, 3)[0])
            clean(box, registry)
        finally:
            registry.stop()
            box.purge()
            sandbox.stop_service(state)
            sandbox.podman(state, "system", "reset", "--force", check=False)
    floor = statistics.median(figures["podman pull x10 in parallel"])
    print(f"{COUNT} images of {args.size} MB each (plus the shared busybox layer), median of {args.repeat} rounds")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"  {name:<38} {median:6.2f} s   {median / floor:4.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
