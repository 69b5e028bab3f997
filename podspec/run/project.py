"""The project name: --project, else $PODSPEC_PROJECT, else the directory of the first manifest.

docker compose's rule. Normalized like compose: lower case; characters other than a-z, 0-9, `-`
and `_` dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from podspec.errors import PodspecError

_INVALID = re.compile(r"[^a-z0-9_-]")

FILE_NAME = "podspec.toml"  # the project file (run/projectfile.py reads it)


def normalize(name: str) -> str:
    return _INVALID.sub("", name.lower())


def resolve(flag: str | None, env: Mapping[str, str], paths: list[str] | tuple[str, ...], cwd: Path) -> str:
    """The project name. One given on purpose (flag, environment) is used as given or refused, never
    silently changed; one taken from a directory name is normalized."""
    if flag or env.get("PODSPEC_PROJECT"):
        source, raw = ("--project", flag) if flag else ("$PODSPEC_PROJECT", env["PODSPEC_PROJECT"])
        if normalize(raw) != raw or not raw:
            raise PodspecError(
                f"invalid project name {raw!r} (from {source})",
                f"use lower-case letters, digits, - and _ (for example {normalize(raw) or 'myproject'!r})",
            )
        return raw
    first = next((p for p in paths if p != "-"), None)
    if first is None:
        source, raw = "the current directory", cwd.name
    else:
        path = (cwd / first).resolve()
        directory = path if path.is_dir() else path.parent
        source, raw = f"the directory of {first}", directory.name
    name = normalize(raw)
    if not name:
        raise PodspecError(
            f"cannot make a project name from {raw!r} ({source})",
            "pass --project NAME or set PODSPEC_PROJECT (lower-case letters, digits, - and _)",
        )
    return name


def find(start: Path) -> Path | None:
    """The nearest podspec.toml in `start` or above it, up to the git repository's top."""
    for directory in (start, *start.parents):
        candidate = directory / FILE_NAME
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists():
            return None
    return None
