#!/usr/bin/env python3
"""Rootless against root, the same Podman (the host's 4.3) and the same podspec: a no-op `podspec
diff`, a no-op `podspec apply` and an apply from empty, whole process, on a private Podman
(tools/sandbox.py) each. Run by hand, as root (it runs the rootless half as an ordinary user, after
scripts/rootless-setup.sh prepared one):

    .venv/bin/python bench/bench_rootless.py [--pods 10] [--repeat 5] [--user podspec-rl]

Both halves run inside one private network namespace, one after the other, with the interpreter
and podspec of .venv-rootless (the system's Python, which the user can run), so that only the
Podman mode differs. Each pod: httpd with a host port (21000 and up, open to rootless Podman) and a
busybox sidecar, sharing a named volume. Medians of --repeat runs; apply from empty is measured
after removing everything each time.

`--measure` is the half that measures in the current identity (printing JSON); the outer run calls
it as root and, through runuser, as the user.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))
import sandbox  # noqa: E402

VENV = ROOT / ".venv-rootless"


def measure(pods: int, repeat: int) -> dict[str, float | str]:
    from bench_apply import pods_yaml

    podspec = str(VENV / "bin" / "podspec")
    state = Path(tempfile.mkdtemp(prefix="podspec-bench-rl-"))
    try:
        url = sandbox.up(state, "podman4")
        env = sandbox.podman_env(state)
        manifest = state / "pods.yaml"
        manifest.write_text(pods_yaml(pods))
        argv = lambda *a: [podspec, *a, str(manifest), "--url", url, "--project", "bench"]

        def timed(args: list[str]) -> float:
            began = time.perf_counter()
            done = subprocess.run(args, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - began
            if done.returncode not in (0, 2):
                raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
            return seconds

        from_empty = []
        for _ in range(repeat):
            sandbox.purge(state)
            from_empty.append(timed(argv("apply")))
        diff = statistics.median(timed(argv("diff")) for _ in range(repeat))
        noop = statistics.median(timed(argv("apply")) for _ in range(repeat))
        info = json.loads(subprocess.run([podspec, "info", "-o", "json", "--url", url], env=env,
                                         capture_output=True, text=True, check=True).stdout)
        return {"mode": "rootless" if info["podman"]["rootless"] else "root", "version": info["podman"]["version"],
                "apply_from_empty": statistics.median(from_empty), "diff_noop": diff, "apply_noop": noop}
    finally:
        sandbox.discard(state)
        shutil.rmtree(state, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--user", default="podspec-rl")
    parser.add_argument("--rounds", type=int, default=2,
                        help="root then rootless, this many times in turn (a busy machine's drift hits both)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.pods, args.repeat)))
        return 0
    if os.geteuid() != 0:
        raise SystemExit("run as root: it measures root Podman, then rootless Podman as --user")
    entry = pwd.getpwnam(args.user)
    me = [str(VENV / "bin" / "python"), str(Path(__file__).resolve()), "--measure", "--pods", str(args.pods),
          "--repeat", str(args.repeat)]
    user_env = ["env", "-i", f"HOME={entry.pw_dir}", f"USER={args.user}", "PATH=/usr/local/bin:/usr/bin:/bin",
                f"XDG_RUNTIME_DIR=/run/user/{entry.pw_uid}"]
    one_round = " ".join(me) + " && runuser -u " + args.user + " -- " + " ".join([*user_env, *me])
    script = "ip link set lo up && cd / && " + " && ".join([one_round] * args.rounds)
    done = subprocess.run(["unshare", "--net", "--fork", "--", "bash", "-c", script], capture_output=True, text=True,
                          cwd="/")
    if done.returncode:
        raise SystemExit(f"a half failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    runs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    keys = ("diff_noop", "apply_noop", "apply_from_empty")
    root, rootless = ({k: statistics.median(r[k] for r in runs if r["mode"] == mode) for k in keys}
                      for mode in ("root", "rootless"))
    print(f"Podman {runs[0]['version']} (both), {args.pods} pods x 2 containers, host ports, named volumes; "
          f"median of {args.repeat} runs in each of {args.rounds} rounds (root, then rootless, in turn)")
    print(f"  {'':<28} {'root':>9} {'rootless':>9} {'rootless/root':>14}")
    for key, label in (("diff_noop", "podspec diff, no changes"), ("apply_noop", "podspec apply, no changes"),
                       ("apply_from_empty", "podspec apply from empty")):
        print(f"  {label:<28} {root[key]:8.3f}s {rootless[key]:8.3f}s {rootless[key] / root[key]:13.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
