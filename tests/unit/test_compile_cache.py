"""podspec.compile_cache: the code dataclasses compile for their methods and the code of regular
expressions, kept from one run to the next. The classes and patterns are the same with and without
it; a second run compiles nothing; a bad file or entry is ignored; nothing is written where Python
would write no bytecode."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import marshal
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from podspec import compile_cache


@pytest.fixture
def cache_file(tmp_path: Path):
    yield tmp_path / "pycache" / "compiled.marshal"
    compile_cache.uninstall()


def _define():
    @dataclasses.dataclass(frozen=True)
    class Port:
        name: str
        number: int = 80
        tags: tuple[str, ...] = ()

    return Port


def _check(port_class) -> None:
    port = port_class("http")
    assert port == port_class("http", 80, ())
    assert port != port_class("http", 81)
    assert hash(port) == hash(port_class("http"))
    assert repr(port).endswith("Port(name='http', number=80, tags=())")
    with pytest.raises(dataclasses.FrozenInstanceError):
        port.number = 81  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(port_class)] == ["name", "number", "tags"]
    assert dataclasses.replace(port, number=8080).number == 8080


def test_a_class_from_the_cache_is_the_class_without_it(cache_file, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    plain = _define()
    cache = compile_cache.install(str(cache_file))
    first = _define()
    assert cache.compiled_methods == 6  # __init__, __repr__, __eq__, __hash__, __setattr__, __delattr__
    cache.save()
    again = compile_cache.install(str(cache_file))
    second = _define()
    assert again.compiled_methods == 0 and len(again.used_methods) == 6
    for port_class in (plain, first, second):
        _check(port_class)
    assert first.__init__.__code__.co_code == plain.__init__.__code__.co_code == second.__init__.__code__.co_code


def test_a_second_run_of_the_cli_compiles_nothing(tmp_path: Path):
    """Two processes start the way the `podspec` command does (install, import the CLI, the model
    and the loader with PyYAML, save): the first compiles the methods and the patterns and writes
    them; the second takes them all."""
    cache = tmp_path / "compiled.marshal"
    code = (
        "import json, sys\n"
        "from podspec import compile_cache\n"
        f"cache = compile_cache.install({str(cache)!r})\n"
        "import podspec.cli, podspec.model, podspec.observed, podspec.loader.schema\n"
        "print(json.dumps([cache.compiled_methods, len(cache.used_methods),\n"
        "                  cache.compiled_patterns, len(cache.used_patterns)]))\n"
        "compile_cache.save()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    first, second = (json.loads(run.stdout) for run in runs)
    assert first[0] == first[1] > 100  # the model's and the observed types' methods
    assert first[2] == first[3] > 10  # PyYAML's reader and resolver, typer's, podspec's own
    assert second == [0, first[1], 0, first[3]]


@pytest.mark.parametrize("content", [
    b"",
    b"not a cache at all",
    b"podspec-compile-cache\n\x00\x00\x00\x00" + marshal.dumps(({}, {})),  # another Python's magic number
    b"podspec-dataclass-methods\n" + importlib.util.MAGIC_NUMBER + marshal.dumps({}),  # the cache's first format
    compile_cache._MAGIC + b"\xff\x00 truncated",
    compile_cache._MAGIC + marshal.dumps(({"def __create_fn__(): pass": "not code"}, {})),
    compile_cache._MAGIC + marshal.dumps(({}, {("a+", 0): "not a pattern's code"})),
    compile_cache._MAGIC + marshal.dumps(["a", "list"]),
])
def test_a_bad_cache_file_is_ignored_and_replaced(cache_file, monkeypatch, content):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(content)
    cache = compile_cache.install(str(cache_file))
    assert cache.methods == {} and cache.patterns == {}
    _check(_define())
    cache.save()
    assert len(compile_cache.install(str(cache_file)).methods) == 6


def test_an_entry_serves_only_its_own_text(cache_file, monkeypatch):
    """A planted entry under another text is never used: the key is the whole source text."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache_file.parent.mkdir(parents=True)
    planted = compile("raise SystemExit('planted')", "<string>", "exec")
    cache_file.write_bytes(compile_cache._MAGIC + marshal.dumps(({"some other text": planted}, {})))
    cache = compile_cache.install(str(cache_file))
    _check(_define())
    assert cache.compiled_methods == 6


def test_nothing_is_written_without_bytecode(cache_file, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = compile_cache.install(str(cache_file))
    _define()
    cache.save()
    assert not cache_file.exists()


def test_an_unwritable_place_is_no_error(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    blocker = tmp_path / "a file"
    blocker.write_text("")
    cache = compile_cache.install(str(blocker / "pycache" / "methods.marshal"))
    try:
        _check(_define())
        cache.save()  # cannot make a directory under a file: run on without the cache
        assert list(tmp_path.iterdir()) == [blocker]
    finally:
        compile_cache.uninstall()


def test_a_cache_past_its_bound_keeps_what_the_run_used(cache_file, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(compile_cache, "MAX_ENTRIES", 8)
    cache_file.parent.mkdir(parents=True)
    old = {f"# text of an older podspec {i}": compile("pass", "<string>", "exec") for i in range(10)}
    cache_file.write_bytes(compile_cache._MAGIC + marshal.dumps((old, {})))
    cache = compile_cache.install(str(cache_file))
    _define()
    cache.save()
    kept = compile_cache.install(str(cache_file)).methods
    assert len(kept) == 6 and not set(kept) & set(old)


def test_the_cache_sits_beside_the_packages_bytecode():
    path = compile_cache.cache_path()
    assert path is not None
    assert os.path.dirname(path) == os.path.dirname(importlib.util.cache_from_source(compile_cache.__file__))
    assert os.path.basename(path) == f"compiled.{sys.implementation.cache_tag}.marshal"


# ------------------------------------------------------------------------------ regular expressions

PATTERNS = [
    ("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]", 0),  # PyYAML's reader
    (r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})(?:(?P<rest>T.*))?$", 0),
    (r"""(?x) ^ (?: [a-z0-9] (?: [-a-z0-9]* [a-z0-9] )? ) $  # a DNS label, verbose""", 0),
    (r"(^|[_.-])(password|token)($|[_.-])", re.IGNORECASE),
    (r"(?=.{1,5}$)a+(?!b)", 0),
    (rb"(?P<n>\d+)\s*(?:ms|s)\b", 0),
    (r"\w+", re.ASCII | re.MULTILINE),
]
SAMPLES = ["", "2026-12-07", "2026-1T08:00", "web-1", "Web_1", "db_PASSWORD", "x.token", "aaa", "aaab",
           "tab\there", "nul\x00", "\ufeffbom", "caf\u00e9 \U0001f600", "line\nnext"]


def _behaviour(compiled: re.Pattern) -> list:
    seen: list = [compiled.pattern, compiled.flags, compiled.groups, dict(compiled.groupindex)]
    for sample in SAMPLES:
        text = sample.encode("utf-8", "replace") if isinstance(compiled.pattern, bytes) else sample
        if isinstance(compiled.pattern, bytes):
            text = text + b" 12 ms"
        match = compiled.search(text)
        seen.append((match and (match.span(), match.groups()), compiled.findall(text)))
    return seen


def test_a_pattern_from_the_cache_is_the_pattern_without_it(cache_file, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    plain = [_behaviour(re._compiler.compile(p, f)) for p, f in PATTERNS]  # (re.compile would use re's own cache)
    cache = compile_cache.install(str(cache_file))
    first = [_behaviour(re._compiler.compile(p, f)) for p, f in PATTERNS]
    assert cache.compiled_patterns == len(PATTERNS)
    cache.save()
    again = compile_cache.install(str(cache_file))
    second = [_behaviour(re._compiler.compile(p, f)) for p, f in PATTERNS]
    assert again.compiled_patterns == 0 and again.used_patterns == {(p, int(f)) for p, f in PATTERNS}
    assert plain == first == second


def test_what_the_cache_does_not_keep_still_compiles(cache_file):
    cache = compile_cache.install(str(cache_file))
    with pytest.raises(re.error, match="unterminated character set"):
        re._compiler.compile("[a-", 0)
    scanner = re.Scanner([(r"\d+", lambda s, t: int(t)), (r"\s+", None)])  # compiles a parsed pattern
    assert scanner.scan("1 22 333") == ([1, 22, 333], "")
    assert ("[a-", 0) not in cache.patterns  # (the match= text above is a pattern compiled and kept)
    assert all(isinstance(pattern, str) for pattern, _ in cache.patterns)
    assert compile_cache._original_compile is not None
    compile_cache.uninstall()
    assert re._compiler.compile is compile_cache._compiler.compile and compile_cache._original_compile is None


@pytest.mark.parametrize("entry", [
    (0, [1, 2, 3], 0, {}, (None,)),  # code the engine refuses
    (0, ["not", "ints"], 0, {}, (None,)),
    (0, [], 5, {"n": 9}, ()),
])
def test_an_entry_the_engine_refuses_is_compiled_afresh(cache_file, monkeypatch, entry):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(compile_cache._MAGIC + marshal.dumps(({}, {("a+b", 0): entry})))
    cache = compile_cache.install(str(cache_file))
    compiled = re._compiler.compile("a+b", 0)
    assert compiled.findall("aab ab b") == ["aab", "ab"]
    assert cache.compiled_patterns == 1 and cache.patterns[("a+b", 0)] != entry


def test_a_pattern_entry_serves_only_its_own_pattern_and_flags(cache_file, monkeypatch):
    """A planted entry (the code of `x`) under another pattern is never used for this one."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    compile_cache.install(str(cache_file))
    re._compiler.compile("x", 0)
    planted = compile_cache._installed.patterns[("x", 0)]
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_bytes(compile_cache._MAGIC + marshal.dumps(({}, {("y", 0): planted, ("z", int(re.I)): planted})))
    compile_cache.install(str(cache_file))
    assert re._compiler.compile("z", 0).match("z") and not re._compiler.compile("z", 0).match("x")
