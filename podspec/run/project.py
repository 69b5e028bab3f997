"""The project name: --project, else $PODSPEC_PROJECT (podspec.toml's `project`), else a default
unique to the manifests' source: a readable part and 6 hex digits of the source.

    manifests-aad4ec      the directory of the first manifest (docker compose's rule), normalized
                          like compose (lower case; characters other than a-z, 0-9, `-`, `_` dropped)
    shop-c1ae83           at the top of a git repository: the repository's name (a CI runner's clone
                          directory has any name)

The digits are those of the source (run/origin.py: the repository's remote, else the machine and
the path) and of the directory's place in the repository, so two repositories that both keep their
files in `manifests/`, or two `manifests/` folders of one repository, are two projects; every clone
of a repository (a laptop, a CI runner, the agent) is the same one. The agent
(`podspec sync SOURCE --path P`) gets the same name as an apply of P in a clone of SOURCE.

The former default, the bare directory (the agent's: the repository's name), is kept as `former`:
objects an older podspec applied under it are recognised on the host (reconcile/former.py) and the
host keeps that name for them, said so, rather than making a second copy next to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from podspec.errors import PodspecError

_INVALID = r"[^a-z0-9_-]"  # (a pattern's text: re compiles it at its first use, not at every start-up)

MAX_LENGTH = 100  # the lock file, the lock volumes (`podspec_lock_<project>.takeover.<token>`) are file names
FILE_NAME = "podspec.toml"  # the project file (run/projectfile.py reads it)


def normalize(name: str) -> str:
    return re.sub(_INVALID, "", name.lower())


@dataclass(frozen=True)
class ProjectName:
    """The project a command works on, and the name an older podspec gave the same manifests."""

    name: str
    former: str = ""  # a default name: the one an older podspec gave the same manifests ("": given on purpose)


def given(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The name given on purpose (--project, $PODSPEC_PROJECT), checked, never silently changed."""
    if not (flag or env.get("PODSPEC_PROJECT")):
        return None
    source, raw = ("--project", flag) if flag else ("$PODSPEC_PROJECT", env["PODSPEC_PROJECT"])
    if normalize(raw) != raw or not raw:
        raise PodspecError(
            f"invalid project name {raw!r} (from {source})",
            f"use lower-case letters, digits, - and _ (for example {normalize(raw)[:MAX_LENGTH] or 'myproject'!r})",
        )
    if len(raw) > MAX_LENGTH:
        raise PodspecError(
            f"invalid project name {raw!r} (from {source}): {len(raw)} characters, at most {MAX_LENGTH}",
            "pick a shorter name (it names the project's lock, network and state directory)",
        )
    return raw


def default_name(readable: str, origin: str, where: str) -> str:
    """The default project name: `readable` (normalized) and 6 hex digits of the source `origin`
    and of `where`, the manifests' directory in it ("." its top; "" when the origin is a path)."""
    import hashlib  # (here: a name given on purpose needs none, and the host's reading starts sooner)

    digest = hashlib.sha256(f"{origin}\0{where}".encode()).hexdigest()[:6]
    return f"{normalize(readable)[:MAX_LENGTH - 7]}-{digest}"


def repository_name(origin: str) -> str:
    """The last part of a `git:` origin's path (`git:github.com/acme/shop` -> shop); "" otherwise."""
    return origin.removeprefix("git:").rstrip("/").rsplit("/", 1)[-1] if origin.startswith("git:") else ""


def resolve(flag: str | None, env: Mapping[str, str], paths: list[str] | tuple[str, ...], cwd: Path,
            origin: str = "") -> ProjectName:
    """The project name: given on purpose, or the default for the manifests at `paths` whose source
    is `origin` (run/origin.py)."""
    chosen = given(flag, env)
    if chosen is not None:
        return ProjectName(chosen)
    first = next((p for p in paths if p != "-"), None)
    if first is None:
        source, directory = "the current directory", cwd.resolve()
    else:
        path = (cwd / first).resolve()
        directory = path if path.is_dir() else path.parent
        source = f"the directory of {first}"
    former = normalize(directory.name)
    from podspec.run.origin import repository_top

    top = repository_top(directory)
    where = "" if top is None else (directory.relative_to(top).as_posix() if directory != top else ".")
    readable = (repository_name(origin) if where == "." else "") or directory.name
    if not normalize(readable):
        raise PodspecError(
            f"cannot make a project name from {readable!r} ({source})",
            "pass --project NAME or set PODSPEC_PROJECT (lower-case letters, digits, - and _)",
        )
    return ProjectName(default_name(readable, origin, where), former)


def for_agent(flag: str | None, env: Mapping[str, str], source: str, origin: str, paths: tuple[str, ...]) -> ProjectName:
    """The agent's project (`podspec sync SOURCE --path P`): given on purpose, else the name an apply
    of P in a clone of SOURCE gets; former: the repository's name (an older agent's default)."""
    chosen = given(flag, env)
    if chosen is not None:
        return ProjectName(chosen)
    import posixpath

    first = posixpath.normpath(paths[0] if paths else ".").strip("/") or "."
    if first.endswith((".yaml", ".yml", ".json")):  # a file: its directory, as the CLI's rule
        first = posixpath.dirname(first) or "."
    from podspec.reconcile.sync import project_from_source

    repo = project_from_source(source)
    readable = repo if first == "." else posixpath.basename(first)
    if not normalize(readable):
        raise PodspecError(f"cannot make a project name from {source!r}", "pass --project NAME")
    return ProjectName(default_name(readable, origin, first), normalize(repo))


def find(start: Path) -> Path | None:
    """The nearest podspec.toml in `start` or above it, up to the git repository's top."""
    for directory in (start, *start.parents):
        candidate = directory / FILE_NAME
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists():
            return None
    return None
