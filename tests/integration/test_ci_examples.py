"""The CI examples a team copies (examples/ci/) keep working: the podspec commands of each job's
steps run, as written, in a repository laid out like the examples expect (podspec.toml with two
targets, one over SSH through the test's sshd, one local), against the private Podman. First the
pull-request jobs (validate, diff as markdown), then the main-branch jobs (apply), then the
pull-request jobs again (no changes left)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from podspec.run.projectfile import load
from tests.conftest import ROOT, fetch
from tests.integration.manifests import sleeper
from tests.integration.sshd import Sshd, sshd  # noqa: F401 - the fixture

pytestmark = pytest.mark.podman

EXAMPLES = ROOT / "examples" / "ci"
BIN = Path(sys.executable).parent


def podspec_lines(script: str | list[str]) -> list[str]:
    """The shell lines of a step or job that run podspec, as written."""
    lines = script if isinstance(script, list) else script.splitlines()
    return [line.strip() for line in lines if isinstance(line, str) and line.strip().startswith("podspec ")]


def github_jobs() -> tuple[list[str], list[str]]:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    pr, main = [], []
    for job in workflow["jobs"].values():
        lines = [line for step in job["steps"] if "run" in step for line in podspec_lines(step["run"])]
        (pr if "pull_request" in job["if"] else main).extend(lines)
    return pr, main


def gitlab_jobs() -> tuple[list[str], list[str]]:
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    pr, main = [], []
    for job in pipeline.values():
        if not isinstance(job, dict) or "script" not in job:
            continue
        rules = " ".join(rule["if"] for rule in job.get("rules", []))
        if "merge_request_event" in rules:
            pr.extend(podspec_lines(job["script"]))
        if "CI_DEFAULT_BRANCH" in rules:
            main.extend(podspec_lines(job["script"]))
    return pr, main


def test_the_examples_have_podspec_steps_for_both_events():
    for pr, main in (github_jobs(), gitlab_jobs()):
        assert any(line.startswith("podspec validate") for line in pr)
        assert any(line.startswith("podspec diff") and "-o markdown" in line for line in pr)
        assert any(line.startswith("podspec apply") and "--target all" in line for line in main)
    example = load(EXAMPLES / "podspec.toml")  # the sample project file is valid
    assert [t.name for t in example.targets] == ["edge", "lab"]
    assert all(t.url and t.url.startswith("ssh://") for t in example.targets)


def repository(tmp_path: Path, podman, server: Sshd) -> Path:
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    shutil.copy(ROOT / "manifests" / "webserver.yaml", repo / "manifests" / "webserver.yaml")
    (repo / "manifests" / "tools.yaml").write_text(sleeper("tools"))
    (repo / "podspec.toml").write_text(f"""\
project = "shop"

[targets.edge]
url = "{server.url(podman.state / 'podman.sock')}"
identity = "{server.client_key}"
manifests = ["manifests/webserver.yaml"]

[targets.lab]
url = "{podman.url}"
manifests = ["manifests/tools.yaml"]
""")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def run_lines(lines: list[str], repo: Path, env: dict[str, str]) -> None:
    for line in lines:
        result = subprocess.run(["bash", "-e", "-c", line], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{line!r} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("jobs", [github_jobs, gitlab_jobs], ids=["github-actions", "gitlab-ci"])
def test_the_example_steps_run(podman, sshd: Sshd, tmp_path, jobs):  # noqa: F811
    pr, main = jobs()
    repo = repository(tmp_path, podman, sshd)
    env = sshd.env(PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")

    run_lines(pr, repo, env)
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""  # a pull request changes nothing
    comment = (repo / "diff.md").read_text()  # the diff step writes it: a missing file fails the test
    assert "## target `edge`" in comment and "## target `lab`" in comment
    assert "dynamic-webserver" in comment and "tools" in comment
    assert "**No changes**" not in comment

    run_lines(main, repo, env)
    pods = set(podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split())
    assert pods == {"dynamic-webserver", "tools"}
    assert fetch("http://127.0.0.1:8080/").startswith("Static Website Init")

    (repo / "diff.md").unlink()
    run_lines(pr, repo, env)
    comment = (repo / "diff.md").read_text()
    assert comment.count("**No changes**: the host matches the manifests.") == 2  # one per target
