#!/usr/bin/env python3
"""The pull agent (`podspec sync`): idle cost and reaction times, against a private Podman.

    .venv/bin/python bench/bench_sync.py [--pods 5] [--idle 60] [--interval 5] [--repeat 5]
    .venv/bin/python bench/bench_sync.py --pods 300 --shape apply --many 20 [--engine podman5]   # issue 29

Starts a private Podman (tools/sandbox.py, in a temporary directory), makes a git repository with
`--pods` pods, starts `podspec sync REPO --interval 5s --self-heal` and, once it applied them:

- idle CPU: the agent's user+system time over `--idle` seconds, as a share of one core, alone and
  with its children (the `git fetch` of every round);
- the Podman service's CPU over the same seconds (what the agent's reads cost Podman);
- resident memory: VmRSS and its peak (VmHWM) from /proc;
- hand removal to repair: `podman rm -f` of a managed container (a different pod each time, so no
  crash-loop hold), until the container runs again;
- push to applied: a commit adding a pod, made at a random moment of the interval, until its
  container runs.

- (`--many N`) N containers of N pods removed at once, until all run again.
- Podman alone, for where a repair's time goes: the container list of one pod and of every pod
  (REST, what the agent's scoped and whole reads ask), and the create and start of one container in
  a pod of the set (REST, the two steps of the repair of a removed container).

`--shape apply` makes the pods of bench_apply.py (two containers, a host port and a named volume each,
all in one commit) instead of one sleeping container each. Times are taken by polling the container
over the REST socket every 20 ms. Targets: issue 14, idle CPU under 1% of one core, RSS under 80 MB,
repair under 3 s, push to applied under 8 s; issue 29 (300 pods), idle CPU under 1% of one core,
repair of one container under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

from podspec.engine.httpclient import HttpClient  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def pod(name: str) -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
"""


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, "HOME": str(path.parent),
                    "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
                    "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
        path.mkdir()
        self.git("init", "-q", "-b", "main")
        (path / "manifests").mkdir()

    def git(self, *args: str) -> None:
        subprocess.run(["git", "-C", str(self.path), *args], check=True, capture_output=True, env=self.env)

    def add(self, name: str, text: str | None = None) -> None:
        (self.path / "manifests" / f"{name}.yaml").write_text(text or pod(name))
        self.git("add", "-A")
        self.git("commit", "-q", "-m", f"add {name}")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(the process's own user+system seconds, the same with its waited-for children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / TICKS, (utime + stime + cutime + cstime) / TICKS


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def running(api: HttpClient, name: str) -> bool:
    reply = api.request("get", f"/containers/{name}/json")
    return reply.status_code == 200 and bool(json.loads(reply.content).get("State", {}).get("Running"))


def wait_running(api: HttpClient, name: str, timeout: float = 60.0) -> float:
    began = time.perf_counter()
    while not running(api, name):
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"{name} did not run within {timeout}s")
        time.sleep(0.02)
    return time.perf_counter() - began


def timed(work, times: int = 5) -> float:
    """The median wall time of `work()`, in seconds."""
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        work()
        spent.append(time.perf_counter() - began)
    return statistics.median(spent)


def podman_alone(api: HttpClient, pod_name: str, shape: str) -> None:
    """Podman's own share of a repair: its answers to the agent's reads, and one container's create
    and start in a pod of the set (over REST, as podspec asks them), median of 5."""
    one = json.dumps({"pod": [pod_name]})
    scoped = timed(lambda: api.request("get", "/containers/json", params={"all": "true", "filters": one}))
    whole = timed(lambda: api.request("get", "/containers/json", params={"all": "true"}))
    creates, starts = [], []
    for n in range(5):
        spec = {"name": f"{pod_name}-alone{n}", "pod": pod_name, "image": "docker.io/library/busybox:latest",
                "command": ["sleep", "100000"]}
        began = time.perf_counter()
        reply = api.request("post", "/containers/create", body=spec)
        created = time.perf_counter()
        if reply.status_code >= 300:
            raise SystemExit(f"create failed: {reply.content!r}")
        name = spec["name"]
        reply = api.request("post", f"/containers/{name}/start")
        if reply.status_code >= 300:
            raise SystemExit(f"start failed: {reply.content!r}")
        creates.append(created - began)
        starts.append(time.perf_counter() - created)
        api.request("delete", f"/containers/{name}", params={"force": "true", "timeout": "0"})
    print(f"  Podman alone (REST, median of 5): list one pod's containers {scoped:.3f} s, every container "
          f"{whole:.3f} s; create one container in pod {pod_name} {statistics.median(creates):.3f} s, "
          f"start it {statistics.median(starts):.3f} s  (load {os.getloadavg()[0]:.1f})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=5)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shape", choices=("sleeper", "apply"), default="sleeper")
    parser.add_argument("--many", type=int, default=0, help="also remove this many containers at once")
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    args = parser.parse_args()
    podspec = str(Path(sys.executable).parent / "podspec")
    main_container = "main" if args.shape == "sleeper" else "side"
    with tempfile.TemporaryDirectory(prefix="podspec-bench-sync-") as tmp:
        base = Path(tmp)
        state = base / "podman"
        url = sandbox.up(state, sandbox.engine_choice(args.engine))
        api = HttpClient(url[len("unix://"):], 30)
        repo = Repo(base / "repo")
        if args.shape == "apply":
            from bench_apply import pods_yaml

            repo.add("bench", pods_yaml(args.pods))
        else:
            for i in range(args.pods):
                repo.add(f"bench-{i}")
        env = {k: v for k, v in repo.env.items() if k != "CONTAINER_HOST"}
        log = (base / "agent.log").open("w")
        agent = subprocess.Popen([podspec, "sync", str(repo.path), "--path", "manifests", "--project", "bench",
                                  "--url", url, "--state-dir", str(base / "state"), "--interval", f"{args.interval:g}s",
                                  "--self-heal"], stderr=log, stdout=subprocess.DEVNULL, env=env)
        try:
            for i in range(args.pods):
                wait_running(api, f"bench-{i}-{main_container}", 600)
            time.sleep(2 * args.interval)  # let the first rounds and their events settle
            print(f"podspec sync, {args.pods} pods, --interval {args.interval:g}s --self-heal "
                  f"(Python {sys.version.split()[0]}, {os.cpu_count()} cores)")

            service = int((state / "service.pid").read_text())
            own0, all0 = cpu_seconds(agent.pid)
            podman0 = cpu_seconds(service)[1]
            began = time.monotonic()
            time.sleep(args.idle)
            own1, all1 = cpu_seconds(agent.pid)
            podman1 = cpu_seconds(service)[1]
            wall = time.monotonic() - began
            print(f"  idle CPU over {wall:.0f} s: agent {100 * (own1 - own0) / wall:.2f}% of one core, "
                  f"with its git fetches {100 * (all1 - all0) / wall:.2f}%; the Podman service "
                  f"{100 * (podman1 - podman0) / wall:.2f}%  (load {os.getloadavg()[0]:.1f})")
            memory = memory_kb(agent.pid)
            print(f"  resident memory: {memory['VmRSS'] / 1024:.1f} MB (peak {memory['VmHWM'] / 1024:.1f} MB)")

            repairs = []
            for i in range(min(args.repeat, args.pods)):
                name = f"bench-{i}-{main_container}"
                sandbox.podman(state, "rm", "-f", "-t", "0", name)
                # from the end of `podman rm` (the container is gone) to running again
                repairs.append(wait_running(api, name))
                time.sleep(1.0)
            print(f"  hand removal -> running again: median {statistics.median(repairs):.2f} s, "
                  f"max {max(repairs):.2f} s ({len(repairs)} removals)")

            if args.many:
                names = [f"bench-{i}-{main_container}" for i in range(args.repeat, args.repeat + args.many)]
                sandbox.podman(state, "rm", "-f", "-t", "0", *names)
                began = time.perf_counter()
                for name in names:
                    wait_running(api, name, 120)
                print(f"  {len(names)} containers of {len(names)} pods removed at once -> all running again: "
                      f"{time.perf_counter() - began:.2f} s")
                time.sleep(1.0)

            podman_alone(api, f"bench-{args.pods - 1}", args.shape)

            pushes = []
            for n in range(args.repeat):
                time.sleep(random.uniform(0, args.interval))
                name = f"pushed-{n}"
                began = time.perf_counter()
                repo.add(name)
                wait_running(api, f"{name}-main", 120)
                pushes.append(time.perf_counter() - began)
            print(f"  commit -> its container running: median {statistics.median(pushes):.2f} s, "
                  f"max {max(pushes):.2f} s ({len(pushes)} commits)")
        finally:
            agent.terminate()
            code = agent.wait(timeout=120)
            log.close()
            print(f"  agent exit code after SIGTERM: {code}")
            sandbox.discard(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
