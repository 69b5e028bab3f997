"""The revision an apply records by default: the git commit of the repository holding the manifests.

    git_revision(["manifests/"], cwd) -> "3f2c...e1"          the commit HEAD points at
                                      -> "3f2c...e1-dirty"    the manifests differ from it (edited,
                                                              staged, or not committed at all)
                                      -> ""                   not in a git repository (or no git)

Asked through the git command line (what users have), of the repository holding the first
manifest path; "dirty" looks only at the manifest paths, so an edited README does not count.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

GIT_TIMEOUT = 10  # seconds


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_revision(paths: Sequence[str], cwd: Path) -> str:
    """The commit of the repository holding the first manifest path, "-dirty" when the manifest
    paths differ from it; "" when that path is not in a git repository (or is standard input)."""
    files = [(cwd / p).resolve() for p in paths if p != "-"]
    if not files:
        return ""
    first = files[0]
    directory = first if first.is_dir() else first.parent
    top = _git(directory, "rev-parse", "--show-toplevel")
    head = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") if top else None
    if not top or not head:
        return ""
    inside = [str(f) for f in files if f == Path(top) or Path(top) in f.parents]
    changes = _git(Path(top), "status", "--porcelain", "--untracked-files=all", "--", *inside)
    return f"{head}-dirty" if changes is None or changes else head
