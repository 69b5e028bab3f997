"""Several targets from podspec.toml in one call: one over ssh://, one over the local socket."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.manifests import sleeper
from tests.integration.sshd import Sshd, sshd  # noqa: F401 - the fixture
from tests.integration.test_ssh import PODSPEC

pytestmark = pytest.mark.podman


def project(tmp_path: Path, podman, server: Sshd, edge_socket: str | None = None) -> Path:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "alpha.yaml").write_text(sleeper("alpha"))
    (tmp_path / "manifests" / "beta.yaml").write_text(sleeper("beta"))
    (tmp_path / "podspec.toml").write_text(f"""\
project = "fleet"

[policy]
profile = "baseline"

[targets.edge]
url = "{server.url(edge_socket or podman.state / 'podman.sock')}"
identity = "{server.client_key}"
manifests = ["manifests/alpha.yaml"]

[targets.lab]
url = "{podman.url}"
manifests = ["manifests/beta.yaml"]
""")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    return tmp_path / "deep" / "er"  # found by walking up


def run(server: Sshd, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PODSPEC, *args], cwd=cwd, env=server.env(), capture_output=True, text=True, timeout=300)


def pods(podman) -> dict[str, str]:
    out = podman.podman("pod", "ps", "--format", "{{.Name}} {{.Labels}}").stdout
    return {line.split()[0]: line for line in out.splitlines()}


def test_two_targets_one_over_ssh_one_local_in_one_call(podman, sshd: Sshd, tmp_path):  # noqa: F811
    cwd = project(tmp_path, podman, sshd)

    diff = run(sshd, cwd, "diff", "--target", "all", "-o", "json")
    assert diff.returncode == 2, diff.stderr
    report = json.loads(diff.stdout)
    assert sorted(report["targets"]) == ["edge", "lab"]
    assert report["targets"]["edge"]["connection"].startswith("ssh://root@127.0.0.1:")
    assert [p["name"] for p in report["targets"]["edge"]["pods"]] == ["alpha"]
    assert [p["name"] for p in report["targets"]["lab"]["pods"]] == ["beta"]
    assert {t["project"] for t in report["targets"].values()} == {"fleet"}

    applied = run(sshd, cwd, "apply", "--target", "all")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    out = applied.stdout
    assert "== target edge (ssh://root@127.0.0.1:" in out and f"== target lab ({podman.url}) ==" in out
    assert out.index("== target edge") < out.index("== target lab")
    assert "[edge] + pod alpha: create" in out and "[lab] + pod beta: create" in out
    # One host twice: the target that takes the project's lock first makes the project network and its
    # pod, the other finds the network made and makes only its pod.
    assert sorted(re.findall(r"Applied: (\d) to create", out)) == ["1", "2"], out
    assert set(pods(podman)) == {"alpha", "beta"}
    assert "fleet" in pods(podman)["alpha"]

    again = run(sshd, cwd, "diff", "--target", "edge", "--target", "lab")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("No changes: the host matches the manifests.") == 2

    status = run(sshd, cwd, "status", "--target", "all", "-o", "json")
    assert status.returncode == 0, status.stderr
    listed = {name: [p["name"] for p in t["pods"]] for name, t in json.loads(status.stdout)["targets"].items()}
    assert listed == {"edge": ["alpha", "beta"], "lab": ["alpha", "beta"]}  # the same host, twice


def test_a_failing_target_fails_the_call_and_the_others_still_run(podman, sshd: Sshd, tmp_path):  # noqa: F811
    cwd = project(tmp_path, podman, sshd, edge_socket="/run/nothing/podman.sock")
    applied = run(sshd, cwd, "apply", "--target", "all", "-o", "json")
    assert applied.returncode == 1
    report = json.loads(applied.stdout)["targets"]
    assert report["edge"]["error"]["type"] == "PodmanUnavailable"
    assert "/run/nothing/podman.sock" in report["edge"]["error"]["message"]
    assert report["lab"]["result"]["status"] == "applied"
    assert set(pods(podman)) == {"beta"}

    text = run(sshd, cwd, "diff", "--target", "all")
    assert text.returncode == 1
    assert "[edge] error: no Podman service answers at /run/nothing/podman.sock" in text.stderr
    assert "Traceback" not in text.stderr


def test_target_usage_errors(podman, sshd: Sshd, tmp_path):  # noqa: F811
    cwd = project(tmp_path, podman, sshd)
    unknown = run(sshd, cwd, "diff", "--target", "nowhere")
    assert unknown.returncode == 1
    assert "no target named 'nowhere'" in unknown.stderr and "known targets: edge, lab (or `all`)" in unknown.stderr
    both = run(sshd, cwd, "apply", "--target", "edge", str(tmp_path / "manifests"))
    assert both.returncode == 1 and "give no paths with it" in both.stderr
    elsewhere = run(sshd, tmp_path.parent, "diff", "--target", "all")
    assert elsewhere.returncode == 1 and "--target needs a podspec.toml" in elsewhere.stderr


NEVER_READY = """\
apiVersion: v1
kind: Pod
metadata:
  name: alpha
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      readinessProbe:
        exec: {command: ["false"]}
        periodSeconds: 1
"""


def test_a_staged_rollout_stops_at_a_canary_that_never_becomes_ready(podman, sshd: Sshd, tmp_path):  # noqa: F811
    """Issue 29: `--canary edge --wait`: the edge target first; lab only once edge is ready."""
    cwd = project(tmp_path, podman, sshd)
    good = (tmp_path / "manifests" / "alpha.yaml").read_text()
    (tmp_path / "manifests" / "alpha.yaml").write_text(NEVER_READY)

    staged = run(sshd, cwd, "apply", "--target", "all", "--canary", "edge", "--wait", "--timeout", "4",
                 "--parallel-targets", "1")
    assert staged.returncode == 1, staged.stdout + staged.stderr
    assert "[lab] not run: the canary edge did not succeed" in staged.stderr
    assert set(pods(podman)) == {"alpha"}  # the canary's pod, and nothing of lab's
    summary = staged.stdout[staged.stdout.index("== summary: 2 targets =="):]
    assert "edge" in summary and "lab" in summary and "skipped" in summary

    (tmp_path / "manifests" / "alpha.yaml").write_text(good)
    again = run(sshd, cwd, "apply", "--target", "all", "--canary", "edge", "--wait", "--timeout", "30", "-o", "json")
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)["targets"]
    assert report["edge"]["result"]["status"] == "applied" and report["lab"]["result"]["status"] == "applied"
    assert all(isinstance(t["seconds"], float) for t in report.values())
    assert set(pods(podman)) == {"alpha", "beta"}

    no_wait = run(sshd, cwd, "apply", "--target", "all", "--canary", "edge")
    assert no_wait.returncode == 1 and "--canary needs --wait" in no_wait.stderr
