"""The revision an apply records by default: the git commit of the repository holding the manifests.

    git_revision(["manifests/"], cwd) -> "3f2c...e1"          the commit HEAD points at
                                      -> "3f2c...e1-dirty"    the manifests differ from it (edited,
                                                              staged, or not committed at all)
                                      -> ""                   not in a git repository (or no git)

Asked through the git command line (what users have), of the repository holding the first
manifest path; "dirty" looks only at the manifest paths, so an edited README does not count.
Usually one git process (`git status --porcelain=v2 --branch` names the commit and the changes);
none when no directory from the first path up holds a repository; three when some manifest path
lies outside the repository, which git refuses to look at.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

GIT_TIMEOUT = 10  # seconds


def _git(directory: Path, *args: str) -> str | None:
    done = _run(directory, *args)
    return done.stdout.strip() if done is not None and done.returncode == 0 else None


def _run(directory: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=False, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired):
        return None


def _may_be_in_git(directory: Path) -> bool:
    """False only when git surely finds no repository from `directory`: no `.git` in it or any
    directory above it, none of them a bare repository, and no $GIT_DIR. (git's discovery may stop
    earlier, at $GIT_CEILING_DIRECTORIES or a file system boundary: then it finds less, never more.)"""
    if os.environ.get("GIT_DIR"):
        return True
    for place in (directory, *directory.parents):
        if (place / ".git").exists() or ((place / "HEAD").is_file() and (place / "objects").is_dir()):
            return True
    return False


def git_revision(paths: Sequence[str], cwd: Path) -> str:
    """The commit of the repository holding the first manifest path, "-dirty" when the manifest
    paths differ from it; "" when that path is not in a git repository (or is standard input)."""
    files = [(cwd / p).resolve() for p in paths if p != "-"]
    if not files:
        return ""
    first = files[0]
    directory = first if first.is_dir() else first.parent
    if not _may_be_in_git(directory):
        return ""  # no git process at all
    # One call when every path is in the repository (git refuses a path outside it: then below).
    done = _run(directory, "status", "--porcelain=v2", "--branch", "--untracked-files=all", "--",
                *(str(f) for f in files))
    if done is not None and done.returncode == 0:
        lines = done.stdout.splitlines()
        oid = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), "")
        if not oid or oid == "(initial)":
            return ""  # no commit yet
        changed = any(line and not line.startswith("#") for line in lines)
        return f"{oid}-dirty" if changed else oid
    if done is None or "not a git repository" in done.stderr:
        return ""
    top = _git(directory, "rev-parse", "--show-toplevel")
    head = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") if top else None
    if not top or not head:
        return ""
    inside = [str(f) for f in files if f == Path(top) or Path(top) in f.parents]
    changes = _git(Path(top), "status", "--porcelain", "--untracked-files=all", "--", *inside)
    return f"{head}-dirty" if changes is None or changes else head
