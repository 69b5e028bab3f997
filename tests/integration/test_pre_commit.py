"""The pre-commit hook this repository offers (.pre-commit-hooks.yaml: podspec-validate), run by the
real pre-commit tool (`pre-commit try-repo`) in a temporary git repository: pre-commit installs
podspec from this repository into an environment of its own, as it does for its users. No Podman
is needed; podspec's dependencies come from the wheels scripts/bootstrap.sh downloaded (the tests
run without network), else from the package index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")

BAD = """\
apiVersion: v1
kind: Pod
metadata:
  name: tools
spec:
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      securityContext:
        privileged: true
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """This repository's working tree as pre-commit sees a hook repository (a git repository;
    try-repo also picks up uncommitted changes)."""
    copy = tmp_path_factory.mktemp("hook-source") / "podspec"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", ".sandbox", "__pycache__", "*.egg-info"))
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "podspec")
    return copy


WHEELHOUSE = ROOT / ".venv" / "wheelhouse"  # podspec's dependencies, downloaded by scripts/bootstrap.sh


def try_repo(source: Path, repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), HOME=str(home))
    if (WHEELHOUSE / ".stamp").exists():  # offline (the tests' network namespace): install from the wheels
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELHOUSE))
    return subprocess.run([PRE_COMMIT, "try-repo", str(source), "podspec-validate", "--all-files", "--color", "never"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def test_the_hook_passes_good_manifests_and_stops_bad_ones(source, tmp_path):
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    shutil.copy(ROOT / "manifests" / "webserver.yaml", repo / "manifests" / "webserver.yaml")
    (repo / ".github").mkdir()
    (repo / ".github" / "ci.yml").write_text("on: push\n")  # not a manifest: outside the hook's files
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    home = tmp_path / "pre-commit-home"

    good = try_repo(source, repo, home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "podspec validate" in good.stdout and "Passed" in good.stdout

    (repo / "manifests" / "tools.yaml").write_text(BAD)
    git(repo, "add", "-A")
    bad = try_repo(source, repo, home)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "manifests/tools.yaml:10:9: spec.containers[0].securityContext.privileged: baseline: " \
           "privileged containers are not allowed" in bad.stdout

    (repo / "podspec.toml").write_text('[policy]\nprofile = "privileged"\n')  # the project's policy applies
    git(repo, "add", "-A")
    allowed = try_repo(source, repo, home)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr

    # Issue 25: with require_encrypted_secrets, a plain Secret is stopped; a SOPS-encrypted one passes
    # with no key anywhere near the hook.
    from tests.sopskit import age_key, encrypt

    (repo / "podspec.toml").write_text('[policy]\nprofile = "privileged"\nrequire_encrypted_secrets = true\n')
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hook-Pa55-x1\n"
    (repo / "manifests" / "db-secret.yaml").write_text(secret)
    git(repo, "add", "-A")
    plain = try_repo(source, repo, home)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert "manifests/db-secret.yaml:1:1: Secret db is kept in plain text" in plain.stdout
    (repo / "manifests" / "db-secret.yaml").write_text(encrypt(secret, age_key(tmp_path)))
    git(repo, "add", "-A")
    sealed = try_repo(source, repo, home)
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert "hook-Pa55-x1" not in sealed.stdout + sealed.stderr
