"""What Python compiles anew in every run of `podspec`, kept from one run to the next: the methods of
dataclasses and the regular expressions.

Python keeps the bytecode of modules in __pycache__, but not what it compiles while they run:

- `@dataclass` writes each class's methods (__init__, __repr__, __eq__, __hash__, and for a frozen
  class __setattr__ and __delattr__) as Python source and compiles it when the class is defined: on
  Python 3.11 six calls of the compiler a frozen dataclass, ~0.8 ms, and a no-op `podspec diff`
  defines ~60 of them (~0.04 s of its ~0.17 s of CPU before this cache: bench/README.md, issue 29);
- `re.compile` parses each pattern and compiles it to the regex engine's code, in Python: a no-op
  diff compiles ~35 patterns when its modules (PyYAML's, typer's, podspec's) are imported and its
  manifests checked, ~9 ms, half of it for one character class of PyYAML's reader.

`install()` gives the dataclasses module a drop-in for `exec` that takes the code of a source text it
has compiled before from this cache, keyed by the whole text, and `re` a drop-in for its compiler
(`re._compiler.compile`) that takes the engine code of a (pattern, flags) it has compiled before,
keyed by the whole pattern and its flags: a text or a pattern that changes, with a new podspec, a new
dependency or a new Python, is compiled afresh, and an entry is never used for anything else.
`save()` writes what was compiled anew, beside the package's own bytecode (importlib's
`cache_from_source`: in `podspec/__pycache__`, or under `sys.pycache_prefix`), and only where Python
itself would write bytecode (not with PYTHONDONTWRITEBYTECODE, not where the directory is not
writable). Anyone who can write there can write podspec's .pyc files too: the cache trusts no one the
bytecode does not; and the regex engine checks the code it is given (an invalid one is refused, and
the pattern compiled afresh).

A file that cannot be read, of another Python (its bytecode's magic number, the regex engine's
version), or not of this shape is ignored, and replaced at the next save; so is an entry of the wrong
shape. Classes and patterns made with or without the cache are the same: the code is what compiling
the same text gives. Only the `podspec` command installs it (podspec/__main__.py), never an import
of the package.
"""

from __future__ import annotations

import builtins
import importlib.util
import marshal
import os
import re
import sys
from types import CodeType
from typing import Any, Callable

# The regex engine and its compiler's own parts (modules without type stubs): compile_pattern() does
# what re._compiler.compile does, keeping the code.
_sre: Any = importlib.import_module("_sre")
_compiler: Any = importlib.import_module("re._compiler")
_parser: Any = importlib.import_module("re._parser")

MAX_ENTRIES = 2000  # of each kind; past this, a save keeps only what the run used (older podspecs' go)
# Bytecode of another Python, or code of another regex engine: the file is ignored.
_MAGIC = b"podspec-compile-cache\n" + importlib.util.MAGIC_NUMBER + b"sre %d %d\n" % (_sre.MAGIC, _sre.CODESIZE)

PatternKey = tuple[Any, int]  # (the pattern as written: str or bytes, the flags asked for)
# What the regex engine is made from (the arguments of _sre.compile after the pattern): the flags
# in effect, the code, the number of groups, name -> group, group -> name.
PatternCode = tuple[int, list[int], int, dict[str, int], tuple[Any, ...]]


def cache_path() -> str | None:
    """Where the cache lives: beside this package's bytecode, as Python would name its .pyc files."""
    tag = sys.implementation.cache_tag
    if tag is None:  # an implementation that keeps no bytecode
        return None
    pyc = importlib.util.cache_from_source(__file__)
    return os.path.join(os.path.dirname(pyc), f"compiled.{tag}.marshal")


class CompileCache:
    """Source texts -> their code, and patterns -> their engine code, read from `path` and written
    back by save()."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.methods: dict[str, CodeType]
        self.patterns: dict[PatternKey, PatternCode]
        self.methods, self.patterns = _read(path) if path else ({}, {})
        self.used_methods: set[str] = set()
        self.used_patterns: set[PatternKey] = set()
        self.compiled_methods = 0  # texts compiled by this run (not found in the cache)
        self.compiled_patterns = 0  # patterns compiled by this run

    def exec(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
        """`exec` for the dataclasses module: a source text's code comes from the cache."""
        if isinstance(source, str):
            code = self.methods.get(source)
            if code is None:
                code = self.methods[source] = compile(source, "<string>", "exec")
                self.compiled_methods += 1
            self.used_methods.add(source)
            source = code
        builtins.exec(source, globals, locals)

    def compile_pattern(self, pattern: Any, flags: int = 0) -> Any:
        """`re._compiler.compile` for the re module: a pattern's engine code comes from the cache.
        (A parsed pattern, as re.Scanner passes, and a DEBUG compile go to the compiler itself.)"""
        if not isinstance(pattern, (str, bytes)) or flags & re.DEBUG:
            return (_original_compile or _compiler.compile)(pattern, flags)
        key = (pattern, int(flags))
        found = self.patterns.get(key)
        if found is not None:
            try:
                made = _made(pattern, found)
            except (TypeError, ValueError, RuntimeError, OverflowError, IndexError):
                del self.patterns[key]  # not what the engine takes: compiled afresh below
            else:
                self.used_patterns.add(key)
                return made
        parsed = _parser.parse(pattern, flags)  # (an invalid pattern raises re.error here)
        code = [int(op) for op in _compiler._code(parsed, flags)]  # (opcodes are int subclasses)
        names: dict[str, int] = dict(parsed.state.groupdict)
        by_group: list[Any] = [None] * parsed.state.groups
        for name, group in names.items():
            by_group[group] = name
        entry: PatternCode = (int(flags | parsed.state.flags), code, parsed.state.groups - 1, names, tuple(by_group))
        made = _made(pattern, entry)
        self.patterns[key] = entry
        self.used_patterns.add(key)
        self.compiled_patterns += 1
        return made

    def save(self) -> None:
        """Write the cache if this run compiled something new (atomically; failures are ignored)."""
        if not (self.compiled_methods or self.compiled_patterns) or not self.path or sys.dont_write_bytecode:
            return
        methods = _bounded(self.methods, self.used_methods)
        patterns = _bounded(self.patterns, self.used_patterns)
        temporary = f"{self.path}.{os.getpid()}"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as out:
                out.write(_MAGIC + marshal.dumps((dict(sorted(methods.items())),
                                                  dict(sorted(patterns.items(), key=_pattern_order)))))
            os.replace(temporary, self.path)
        except OSError:  # a read-only install, a full disk: run without the cache, as Python does
            try:
                os.unlink(temporary)
            except OSError:
                pass
        else:
            self.compiled_methods = self.compiled_patterns = 0


def _made(pattern: Any, entry: PatternCode) -> Any:
    """The compiled pattern the regex engine makes of `entry` (its own copy of the name map)."""
    flags, code, groups, names, by_group = entry
    return _sre.compile(pattern, flags, code, groups, dict(names), by_group)


def _bounded(entries: dict[Any, Any], used: set[Any]) -> dict[Any, Any]:
    return entries if len(entries) <= MAX_ENTRIES else {key: entries[key] for key in used}


def _pattern_order(item: tuple[PatternKey, PatternCode]) -> tuple[bool, Any, int]:
    (pattern, flags), _ = item
    return isinstance(pattern, bytes), pattern, flags


def _read(path: str) -> tuple[dict[str, CodeType], dict[PatternKey, PatternCode]]:
    try:
        with open(path, "rb") as cached:
            data = cached.read()
    except OSError:
        return {}, {}
    if not data.startswith(_MAGIC):
        return {}, {}
    try:
        read = marshal.loads(data[len(_MAGIC):])
    except (ValueError, EOFError, TypeError):
        return {}, {}
    if not (isinstance(read, tuple) and len(read) == 2 and isinstance(read[0], dict) and isinstance(read[1], dict)):
        return {}, {}
    methods = {text: code for text, code in read[0].items() if isinstance(text, str) and isinstance(code, CodeType)}
    patterns = {key: entry for key, entry in read[1].items() if _is_pattern_entry(key, entry)}
    return methods, patterns


def _is_pattern_entry(key: Any, entry: Any) -> bool:
    """Of the shape compile_pattern() writes (the engine itself checks the code's content)."""
    return (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], (str, bytes)) and isinstance(key[1], int)
            and isinstance(entry, tuple) and len(entry) == 5 and isinstance(entry[0], int)
            and isinstance(entry[1], list) and isinstance(entry[2], int) and isinstance(entry[3], dict)
            and isinstance(entry[4], tuple))


_installed: CompileCache | None = None
_original_compile: Callable[..., Any] | None = None


def install(path: str | None = None) -> CompileCache:
    """Use the cache at `path` (default: cache_path()) for every dataclass defined and every regular
    expression compiled from now on."""
    global _installed, _original_compile
    import dataclasses

    uninstall()
    cache = CompileCache(path if path is not None else cache_path())
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]  # the module's global, before the builtin
    if all(hasattr(_compiler, name) for name in ("compile", "_code")):  # (a Python whose re works otherwise: no cache)
        _original_compile = _compiler.compile
        _compiler.compile = cache.compile_pattern
    _installed = cache
    return cache


def uninstall() -> None:
    """Back to the builtin exec and re's own compiler (tests)."""
    global _installed, _original_compile
    import dataclasses

    dataclasses.__dict__.pop("exec", None)
    if _original_compile is not None:
        _compiler.compile = _original_compile
        _original_compile = None
    _installed = None


def save() -> None:
    """Write the installed cache (see CompileCache.save); nothing when none is installed."""
    if _installed is not None:
        _installed.save()
