"""Issue 27: the agent's checkout of what any pusher can push. Real git repositories."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from podspec.errors import InvalidRevision
from podspec.run.sync import git as G
from podspec.run.sync.git import Repository
from podspec.secrets import redact_url

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=ENV).stdout.strip()


@pytest.fixture
def work(tmp_path):
    repo = tmp_path / "src"
    (repo / "manifests").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "manifests" / "a.yaml").write_text("a: 1\n")
    (repo / "README").write_text("not a manifest\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")
    return repo


def _fetch(tmp_path, work) -> tuple[Repository, str]:
    local = Repository(tmp_path / "state" / "repo.git", ENV)
    return local, local.fetch(str(work), "main")


def _commit(work: Path, message: str) -> None:
    git(work, "add", "-A")
    git(work, "commit", "-qm", message)


def test_only_the_path_is_checked_out_with_no_link_followed(tmp_path, work):
    local, head = _fetch(tmp_path, work)
    local.checkout(head, tmp_path / "out", ("manifests",))
    assert (tmp_path / "out" / "manifests" / "a.yaml").read_text() == "a: 1\n"
    assert not (tmp_path / "out" / "README").exists()


@pytest.mark.parametrize("case,expected", [
    ("link", "holds a symbolic link: manifests/b.yaml"),
    ("link-inside", "holds a symbolic link: manifests/b.yaml"),
    ("submodule", "holds a submodule: manifests/sub"),
    ("long-name", "a name over 255 bytes"),
    ("control", "a control character"),
    ("huge", "over the"),
    ("many", "holds more than podspec checks out"),
])
def test_a_bad_tree_is_a_bad_commit_refused_before_anything_is_written(tmp_path, work, monkeypatch, case, expected):
    target = work / "manifests"
    if case == "link":
        (target / "b.yaml").symlink_to("/etc/passwd")
    elif case == "link-inside":
        (target / "b.yaml").symlink_to("a.yaml")
    elif case == "submodule":
        head = git(work, "rev-parse", "HEAD")
        git(work, "update-index", "--add", "--cacheinfo", f"160000,{head},manifests/sub")
    elif case == "long-name":
        (target / ("x" * 250 + ".yaml")).write_text("")
        git(work, "add", "-A")
        blob = git(work, "hash-object", "-w", str(target / ("x" * 250 + ".yaml")))
        git(work, "update-index", "--add", "--cacheinfo", f"100644,{blob},manifests/{'y' * 300}.yaml")
    elif case == "control":
        (target / "bad\x1bname.yaml").write_text("")
    elif case == "huge":
        monkeypatch.setattr(G, "MAX_FILE_BYTES", 1000)
        (target / "big.yaml").write_text("# " + "x" * 2000)
    elif case == "many":
        monkeypatch.setattr(G, "MAX_FILES", 5)
        for i in range(6):
            (target / f"p{i}.yaml").write_text("")
    if case in ("long-name", "submodule"):
        git(work, "commit", "-qm", case)
    else:
        _commit(work, case)
    local, head = _fetch(tmp_path, work)
    with pytest.raises(InvalidRevision, match=expected):
        local.checkout(head, tmp_path / "out", ("manifests",))
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_an_odd_mode_outside_the_path_is_not_read(tmp_path, work):
    (work / "elsewhere").mkdir()
    (work / "elsewhere" / "link").symlink_to("/etc")
    _commit(work, "a link elsewhere")
    local, head = _fetch(tmp_path, work)
    local.checkout(head, tmp_path / "out", ("manifests",))
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["a.yaml", "manifests"]


def test_a_missing_path_is_a_bad_commit(tmp_path, work):
    local, head = _fetch(tmp_path, work)
    with pytest.raises(InvalidRevision, match="has no deploy"):
        local.checkout(head, tmp_path / "out", ("deploy",))


def test_the_bare_repository_drops_what_a_force_push_left_unreachable(tmp_path, work):
    local, first = _fetch(tmp_path, work)
    (work / "manifests" / "secret.yaml").write_text("oops: 1\n")
    _commit(work, "a mistake")
    mistake = local.fetch(str(work), "main")
    assert local.has(mistake)
    git(work, "reset", "-q", "--hard", first)
    (work / "manifests" / "c.yaml").write_text("c: 1\n")
    _commit(work, "the mistake rewritten")
    local.fetch(str(work), "main")
    assert not local.has(mistake)  # collected


def test_git_checks_objects_as_they_arrive():
    assert "fetch.fsckObjects=true" in G._CONFIG and "transfer.fsckObjects=true" in G._CONFIG


@pytest.mark.parametrize("url,shown", [
    ("https://user:t0ken@github.com/a/b.git", "https://(redacted)@github.com/a/b.git"),
    ("https://t0ken@github.com/a/b", "https://(redacted)@github.com/a/b"),
    ("git could not fetch from ssh://git:pw@host:22/r: denied", "git could not fetch from ssh://(redacted)@host:22/r: denied"),
    ("git@github.com:a/b.git", "git@github.com:a/b.git"),
    ("/srv/git/repo", "/srv/git/repo"),
])
def test_credentials_in_urls_are_redacted(url, shown):
    assert redact_url(url) == shown


def test_the_state_directory_is_private_whoever_makes_it(tmp_path):
    from podspec.run.sync.state import make_private

    loose = tmp_path / "state"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    make_private(loose, loose / "proj")
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700 and stat.S_IMODE((loose / "proj").stat().st_mode) == 0o700
