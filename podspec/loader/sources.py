"""Manifest paths -> the bytes of each manifest file, bounded.

A path is a file, a directory (searched recursively for *.yaml and *.yml, sorted, skipping
entries whose name starts with '.'; symbolic links to directories are not followed, and a file
found there that is a symbolic link must lead to a file inside that directory: a checkout of a pull
request must not make `validate` read the runner's key or environment) or "-" for standard input. A file is read only up to MAX_FILE_BYTES; a larger one is a problem. The same
file named twice (for example a directory and a file inside it) is read once.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Sequence, TextIO

from podspec.errors import Origin, Problem
from podspec.loader.yamlpos import MAX_FILE_BYTES

STDIN = "-"
STDIN_NAME = "<stdin>"
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Source:
    """One manifest file: the name shown in messages, and its bytes."""

    name: str
    raw: bytes


def _too_large(name: str, size: int | None = None) -> Problem:
    what = f"file is {size / 2**20:.1f} MiB, " if size is not None else "file is "
    return Problem(
        Origin(name), "", f"{what}over the {MAX_FILE_BYTES // 2**20} MiB limit for a manifest file",
        "split it into several files",
    )


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return what
    return "not a regular file"


def _refused(name: str, mode: int, named: bool) -> Problem | None:
    if stat.S_ISREG(mode) or (named and stat.S_ISFIFO(mode)):
        return None
    return Problem(Origin(name), "", f"is {_kind(mode)}, not a regular file: refused",
                   "keep only regular manifest files in manifest directories")


def _outside(name: str, directory: str) -> Problem | None:
    """A file found in `directory` that is a symbolic link leading out of it: refused."""
    if not os.path.islink(name):
        return None
    top = os.path.realpath(directory)
    real = os.path.realpath(name)
    if real.startswith(top.rstrip("/") + "/"):
        return None
    return Problem(Origin(name), "", f"is a symbolic link to a file outside {directory}: refused",
                   "keep the manifests themselves in the directory, or name the file on the command line")


def _read_file(name: str, named: bool = False) -> tuple[Source | None, Problem | None]:
    """A manifest file's bytes. Opened without blocking and looked at before reading: only a
    regular file is read, and a pipe only when named on the command line (`apply <(sops -d ...)`);
    a FIFO, device or socket found in a directory is a problem at once (reading it could block
    forever or never end)."""
    try:
        refused = _refused(name, os.stat(name).st_mode, named)  # a socket cannot even be opened
        if refused is not None:
            return None, refused
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        return None, Problem(Origin(name), "", f"cannot read: {error.strerror or error}")
    try:
        refused = _refused(name, os.fstat(fd).st_mode, named)  # what was opened, if it was swapped meanwhile
        if refused is not None:
            os.close(fd)
            return None, refused
        os.set_blocking(fd, True)
        with open(fd, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return None, _too_large(name, size)
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return None, Problem(Origin(name), "", f"cannot read: {error.strerror or error}")
    if len(raw) > MAX_FILE_BYTES:
        return None, _too_large(name)
    return Source(name, raw), None


def _read_stdin(stdin: TextIO | None) -> tuple[Source | None, Problem | None]:
    if stdin is None:
        return None, Problem(Origin(STDIN_NAME), "", "standard input is not available")
    try:
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            raw = buffer.read(MAX_FILE_BYTES + 1)
        else:
            raw = stdin.read(MAX_FILE_BYTES + 1).encode("utf-8", "surrogateescape")
    except UnicodeDecodeError as error:
        return None, Problem(Origin(STDIN_NAME), "", f"invalid UTF-8 (byte 0x{error.object[error.start]:02x})")
    except (OSError, ValueError) as error:
        return None, Problem(Origin(STDIN_NAME), "", f"cannot read standard input: {error}")
    if len(raw) > MAX_FILE_BYTES:
        return None, _too_large(STDIN_NAME)
    return Source(STDIN_NAME, raw), None


def _walk(directory: str) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, files in os.walk(directory, onerror=None, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(SUFFIXES) and not name.startswith("."):
                path = os.path.join(root, name)
                found.append((tuple(os.path.relpath(path, directory).split(os.sep)), path))
    return [path for _, path in sorted(found)]


def read(paths: Sequence[str], stdin: TextIO | None) -> tuple[list[Source], list[Problem]]:
    """The manifest files named by `paths`, in order, and the problems reading them."""
    sources: list[Source] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    if not paths:
        return [], [Problem(Origin("<arguments>"), "", "no manifest path given", "name a file, a directory or -")]

    def add(name: str, reader) -> None:
        key = name if name == STDIN else os.path.realpath(name)
        if key in seen:
            return
        seen.add(key)
        source, problem = reader()
        if problem is not None:
            problems.append(problem)
        if source is not None:
            sources.append(source)

    for path in paths:
        if path == STDIN:
            add(STDIN, lambda: _read_stdin(stdin))
        elif os.path.isdir(path):
            files = _walk(path)
            if not files:
                problems.append(Problem(Origin(path), "", "no *.yaml or *.yml files in this directory"))
            for name in files:
                outside = _outside(name, path)
                if outside is not None:
                    problems.append(outside)
                else:
                    add(name, lambda name=name: _read_file(name))
        elif os.path.exists(path):
            add(path, lambda path=path: _read_file(path, named=True))
        elif os.path.islink(path):
            problems.append(Problem(Origin(path), "", f"a symbolic link to {os.readlink(path)}, which leads to no file "
                                    "(a missing file or a loop of links)"))
        else:
            problems.append(Problem(Origin(path), "", "no such file or directory"))
    return sources, problems
