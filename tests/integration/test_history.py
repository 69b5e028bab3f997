"""Revisions and apply history against the private Podman: three commits of a real git repository
applied in turn; `history` lists three records, `status` shows the revision, and the commit that
changed no manifest recreated nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.manifests import ids, podspec, sleeper

pytestmark = pytest.mark.podman


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def test_three_commits_make_three_records_and_the_no_op_commit_recreates_nothing(podman, tmp_path):
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    manifests = str(repo / "manifests")

    (repo / "manifests" / "one.yaml").write_text(sleeper("history-one"))
    first = commit(repo, "one pod")
    assert podspec(podman, "apply", manifests).exit_code == 0

    (repo / "manifests" / "two.yaml").write_text(sleeper("history-two"))
    second = commit(repo, "a second pod")
    applied = podspec(podman, "apply", manifests, "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    assert json.loads(applied.output)["revision"] == second
    before = ids(podman)

    (repo / "README.md").write_text("no manifest changes here\n")
    third = commit(repo, "docs only")
    noop = podspec(podman, "apply", manifests)
    assert noop.exit_code == 0, noop.stderr
    assert "Nothing to do." in noop.output
    assert ids(podman) == before  # a new revision that changes nothing recreates nothing

    listed = podspec(podman, "history", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    records = json.loads(listed.output)["records"]
    assert [(r["seq"], r["revision"], r["outcome"]) for r in records] == [
        (3, third, "no-changes"), (2, second, "applied"), (1, first, "applied")]
    assert records[1]["changed"] == ["history-two"] and records[1]["unchanged"] == ["history-one"]
    assert records[1]["summary"]["create"] == 1
    assert records[0]["changed"] == [] and records[0]["unchanged"] == ["history-one", "history-two"]
    assert all(r["time"].endswith("Z") for r in records)

    text = podspec(podman, "history")
    assert text.output.splitlines()[1].split()[:2] == ["3", records[0]["time"][:10]]
    assert third[:12] in text.output and "no-changes" in text.output

    status = podspec(podman, "status", "-o", "json")
    assert {p["name"]: p["revision"] for p in json.loads(status.output)["pods"]} == {
        "history-one": third, "history-two": third}
    assert f"revision={third[:12]}" in podspec(podman, "status").output

    # An edited, uncommitted manifest is applied as "<commit>-dirty"; --revision names it outright.
    (repo / "manifests" / "two.yaml").write_text(sleeper("history-two").replace("100000", "200000"))
    dirty = podspec(podman, "apply", manifests, "-o", "json")
    assert json.loads(dirty.output)["revision"] == f"{third}-dirty"
    named = podspec(podman, "apply", manifests, "--revision", "release-7", "-o", "json")
    assert json.loads(named.output)["result"]["status"] == "no-changes"
    status = json.loads(podspec(podman, "status", "-o", "json").output)
    assert {p["name"]: p["revision"] for p in status["pods"]} == {"history-one": "release-7", "history-two": "release-7"}


def test_history_keeps_a_bounded_number_of_records_and_failed_applies_are_recorded(podman, tmp_path):
    from podspec.reconcile.history import KEEP

    manifest = tmp_path / "pods.yaml"
    manifest.write_text(sleeper("history-bounded"))
    for i in range(KEEP + 2):
        assert podspec(podman, "apply", str(manifest), "--revision", f"r{i}").exit_code == 0
    records = json.loads(podspec(podman, "history", "-o", "json").output)["records"]
    assert len(records) == KEEP
    assert records[0]["revision"] == f"r{KEEP + 1}" and records[-1]["revision"] == "r2"
    secrets = podman.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert len([s for s in secrets if s.startswith("podspec-history-")]) == KEEP

    # A pod of the same name made by hand: apply refuses (a conflict) and the refusal is recorded.
    manifest.write_text(sleeper("history-clash"))
    podman.podman("pod", "create", "--name", "history-clash")
    refused = podspec(podman, "apply", str(manifest), "--revision", "r-clash")
    assert refused.exit_code == 1
    newest = json.loads(podspec(podman, "history", "-o", "json").output)["records"][0]
    assert (newest["revision"], newest["outcome"]) == ("r-clash", "failed")
    assert "stand in the way" in newest["error"]
    assert newest["changed"] == [] and newest["not_done"] == ["history-clash"]
    # --prune-volumes never takes the history for a volume that left the manifests.
    manifest.write_text(sleeper("history-bounded"))
    pruned = podspec(podman, "apply", "--prune", "--prune-volumes", str(manifest), "--revision", "r-prune")
    assert pruned.exit_code == 0, pruned.stderr
    assert "podspec-history" not in pruned.output
