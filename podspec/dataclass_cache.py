"""The compiled methods of dataclasses, kept from one run of `podspec` to the next.

`@dataclass` writes each class's methods (__init__, __repr__, __eq__, __hash__, and for a frozen
class __setattr__ and __delattr__) as Python source and compiles it when the class is defined: on
Python 3.11 that is six calls of the compiler a frozen dataclass, ~0.8 ms, and a no-op `podspec diff`
defines ~60 of them, a third of its CPU (bench/README.md, issue 29). Python keeps the bytecode of
modules in __pycache__, but not of this source made at run time.

`install()` gives the dataclasses module a drop-in for `exec` that takes the code of a source text
it has compiled before from this cache, keyed by the whole text (so a text that changes, with a new
podspec or Python, is compiled afresh: an entry is never used for any other text). `save()` writes
what was compiled anew, beside the package's own bytecode (importlib's `cache_from_source`: in
`podspec/__pycache__`, or under `sys.pycache_prefix`), and only where Python itself would write
bytecode (not with PYTHONDONTWRITEBYTECODE, not where the directory is not writable). Anyone who can
write there can write podspec's .pyc files too: the cache trusts no one the bytecode does not.

A file that cannot be read, of another Python (its magic number), or not a mapping of texts to
code is ignored, and replaced at the next save. Classes defined with or without the cache are the
same: the code is what compiling the same text gives.
"""

from __future__ import annotations

import builtins
import importlib.util
import marshal
import os
import sys
from types import CodeType
from typing import Any

MAX_ENTRIES = 2000  # past this, a save keeps only the texts the run used (old podspecs' texts go)
_MAGIC = b"podspec-dataclass-methods\n" + importlib.util.MAGIC_NUMBER  # bytecode of another Python: ignored


def cache_path() -> str | None:
    """Where the cache lives: beside this package's bytecode, as Python would name its .pyc files."""
    tag = sys.implementation.cache_tag
    if tag is None:  # an implementation that keeps no bytecode
        return None
    pyc = importlib.util.cache_from_source(__file__)
    return os.path.join(os.path.dirname(pyc), f"dataclass-methods.{tag}.marshal")


class MethodCache:
    """Source text -> its compiled code, read from `path` and written back by save()."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.entries: dict[str, CodeType] = _read(path) if path else {}
        self.used: set[str] = set()
        self.compiled = 0  # texts compiled by this run (not found in the cache)

    def exec(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
        """`exec` for the dataclasses module: a source text's code comes from the cache."""
        if isinstance(source, str):
            code = self.entries.get(source)
            if code is None:
                code = self.entries[source] = compile(source, "<string>", "exec")
                self.compiled += 1
            self.used.add(source)
            source = code
        builtins.exec(source, globals, locals)

    def save(self) -> None:
        """Write the cache if this run compiled something new (atomically; failures are ignored)."""
        if not self.compiled or not self.path or sys.dont_write_bytecode:
            return
        keep = self.entries if len(self.entries) <= MAX_ENTRIES else {t: self.entries[t] for t in self.used}
        temporary = f"{self.path}.{os.getpid()}"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as out:
                out.write(_MAGIC + marshal.dumps(dict(sorted(keep.items()))))
            os.replace(temporary, self.path)
        except OSError:  # a read-only install, a full disk: run without the cache, as Python does
            try:
                os.unlink(temporary)
            except OSError:
                pass
        else:
            self.compiled = 0


def _read(path: str) -> dict[str, CodeType]:
    try:
        with open(path, "rb") as cached:
            data = cached.read()
    except OSError:
        return {}
    if not data.startswith(_MAGIC):
        return {}
    try:
        entries = marshal.loads(data[len(_MAGIC):])
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(entries, dict) or not all(
            isinstance(text, str) and isinstance(code, CodeType) for text, code in entries.items()):
        return {}
    return entries


_installed: MethodCache | None = None


def install(path: str | None = None) -> MethodCache:
    """Use the cache at `path` (default: cache_path()) for every dataclass defined from now on."""
    global _installed
    import dataclasses

    cache = MethodCache(path if path is not None else cache_path())
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]  # the module's global, before the builtin
    _installed = cache
    return cache


def uninstall() -> None:
    """Back to the builtin exec (tests)."""
    global _installed
    import dataclasses

    dataclasses.__dict__.pop("exec", None)
    _installed = None


def save() -> None:
    """Write the installed cache (see MethodCache.save); nothing when none is installed."""
    if _installed is not None:
        _installed.save()
