#!/usr/bin/env python3
"""What the pull agent's own work costs at N pods, on the FakeEngine (podspec's CPU, not Podman's):

    .venv/bin/python bench/profile_agent.py [--pods 300] [--profile]

- an idle round with the event stream connected (git fetch and the state file; no read of the host);
- a round with a whole read (no stream, or --resync due): the diff of every pod;
- the repair of one removed container through ApplyRequest.pods (the agent's event repair).

Run the same script from an older checkout's environment to compare (bench/README.md, issue 29).
Podman's own share (its list calls, create, start) is measured by bench_sync.py against a real Podman.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_apply import pods_yaml  # noqa: E402

from podspec.engine.fake import FakeEngine  # noqa: E402
from podspec.plan import Step, StepKind  # noqa: E402
from podspec.policy import make_policy  # noqa: E402
from podspec.run.sync.agent import Agent, SyncRequest  # noqa: E402
from podspec.run.sync.log import AgentLog  # noqa: E402

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/busybox:latest")


class _Recorder:
    def record(self, entry: object) -> None:
        pass


def children() -> float:
    t = os.times()
    return t.children_user + t.children_system


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print the cumulative profile of the repairs")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="podspec-profile-agent-"))
    repo = tmp / "repo"
    (repo / "manifests").mkdir(parents=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    (repo / "manifests" / "bench.yaml").write_text(pods_yaml(args.pods))
    for git in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "bench"]):
        subprocess.run(["git", "-C", str(repo), *git], check=True, env=env)
    engine = FakeEngine(images=IMAGES)
    request = SyncRequest(source=str(repo), branch="main", paths=("manifests",), project="bench", state_dir=tmp / "state",
                          policy=make_policy(("baseline", "the default")), interval=5, self_heal=True)
    agent = Agent(request, lambda: engine, AgentLog(open(os.devnull, "w")), _Recorder())
    assert agent.round(), "the first round applies the pods"
    print(f"podspec sync on the FakeEngine, {args.pods} pods (median of {args.repeat})")

    def rounds(label: str, connected: bool) -> None:
        agent.stream_since = (lambda: time.monotonic() - 1e6) if connected else (lambda: None)
        own, git = [], []
        for _ in range(args.repeat):
            c0, g0 = time.process_time(), children()
            agent.round()
            own.append(time.process_time() - c0)
            git.append(children() - g0)
        print(f"  {label}: {1000 * statistics.median(own):.0f} ms CPU (git {1000 * statistics.median(git):.0f} ms)")

    rounds("idle round, event stream connected", True)
    rounds("round with a whole read of the host", False)
    profile, spent = cProfile.Profile(), []
    for i in range(args.repeat):
        engine.run(Step(StepKind.REMOVE_CONTAINER, f"bench-{i}-side", "by hand"))
        began = time.process_time()
        if args.profile:
            profile.enable()
        agent.repair_pods(frozenset({f"bench-{i}"}))
        if args.profile:
            profile.disable()
        spent.append(time.process_time() - began)
        assert engine.observe().container(f"bench-{i}-side") is not None
    print(f"  repair of one removed container (the pods events named): {1000 * statistics.median(spent):.0f} ms CPU")
    if args.profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
