"""Where the manifests of an apply come from: the source recorded on every object podspec creates
(label `io.podspec.origin`), so that two sources that happen to share a project name never change or
prune each other's objects (reconcile/diff.py, reconcile/delete.py).

    git:github.com/acme/shop               in a git repository whose remote `origin` is that URL
                                          (any URL form: https, ssh, scp-like; no credentials)
    path:build-host:/srv/shop              in a git repository without one: the machine and its top
    path:build-host:/srv/shop/manifests    elsewhere: the applying machine and the manifests' directory

The git form is the same for every clone of the repository (a laptop, a CI runner, the sync agent
of `podspec sync`) and for any file or folder of it (`apply manifests/web.yaml` after `apply
manifests/`), so they are one source. Read from the files of the repository (.git/config): no git
process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

# Patterns as text: re compiles each at its first use (most commands never read a git config).
_SCP = r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$"  # git@github.com:acme/shop.git
_REMOTE = r'^\s*\[\s*remote\s+"origin"\s*\]\s*$'
_SECTION = r"^\s*\["
_URL = r"^\s*url\s*=\s*(.+?)\s*$"


def normalize_url(url: str) -> str:
    """A git URL as one text for every way of writing it: host and path, lower-case host, no user,
    password, port, scheme, query or `.git`. A local path stays an absolute path."""
    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file" or not parts.hostname:
            return _strip(os.path.normpath(parts.path))
        return _strip(f"{parts.hostname.lower()}/{parts.path.strip('/')}")
    scp = re.match(_SCP, url)
    if scp and not url.startswith("/"):
        return _strip(f"{scp.group(1).lower()}/{scp.group(2).strip('/')}")
    return _strip(os.path.normpath(os.path.abspath(url)))


def _strip(text: str) -> str:
    text = text.rstrip("/")
    return text[:-4] if text.endswith(".git") else text


def for_repository(url: str) -> str:
    """The origin of manifests in the repository at `url` (the sync agent's)."""
    return f"git:{normalize_url(url)}"


def of_paths(paths: Sequence[str], cwd: Path, host: str) -> str:
    """The origin of the manifests at `paths` (relative to `cwd`; "-" is standard input, whose
    origin is the working directory's). `host`: this machine's name."""
    folders = []
    for given in paths:
        if given == "-":
            folders.append(cwd.resolve())
            continue
        path = (cwd / given).resolve()
        folders.append(path if path.is_dir() else path.parent)
    if not folders:
        folders = [cwd.resolve()]
    common = Path(os.path.commonpath([str(f) for f in folders]))
    top, url = _repository(common)
    if top is not None and url:
        return for_repository(url)
    return f"path:{host}:{top if top is not None else common}"


def repository_top(start: Path) -> Path | None:
    """The top of the git work tree holding `start`, or None."""
    return _repository(start)[0]


def _repository(start: Path) -> tuple[Path | None, str]:
    """The top of the git work tree holding `start`, and its remote origin's URL ("" if none)."""
    for directory in (start, *start.parents):
        dot = directory / ".git"
        if dot.is_dir():
            return directory, _origin_url(dot)
        if dot.is_file():  # a linked work tree or a submodule: "gitdir: PATH"
            try:
                text = dot.read_text(errors="replace").strip()
            except OSError:
                return directory, ""
            if not text.startswith("gitdir:"):
                return directory, ""
            gitdir = (directory / text[len("gitdir:"):].strip()).resolve()
            common = gitdir
            try:
                common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
            except OSError:
                pass
            return directory, _origin_url(common) or _origin_url(gitdir)
    return None, ""


def _origin_url(gitdir: Path) -> str:
    try:
        lines = (gitdir / "config").read_text(errors="replace").splitlines()
    except OSError:
        return ""
    inside = False
    for line in lines:
        if re.match(_SECTION, line):
            inside = bool(re.match(_REMOTE, line))
        elif inside:
            found = re.match(_URL, line)
            if found:
                return found.group(1).strip('"')
    return ""
