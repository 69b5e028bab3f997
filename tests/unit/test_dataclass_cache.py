"""podspec.dataclass_cache: the code dataclasses compile for their methods, kept from one run to the
next. The classes are the same with and without it; a second run compiles nothing; a bad file is
ignored; nothing is written where Python would write no bytecode."""

from __future__ import annotations

import dataclasses
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from podspec import dataclass_cache


@pytest.fixture
def cache_file(tmp_path: Path):
    yield tmp_path / "pycache" / "dataclass-methods.marshal"
    dataclass_cache.uninstall()


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
    cache = dataclass_cache.install(str(cache_file))
    first = _define()
    assert cache.compiled == 6  # __init__, __repr__, __eq__, __hash__, __setattr__, __delattr__
    cache.save()
    again = dataclass_cache.install(str(cache_file))
    second = _define()
    assert again.compiled == 0 and len(again.used) == 6
    for port_class in (plain, first, second):
        _check(port_class)
    assert first.__init__.__code__.co_code == plain.__init__.__code__.co_code == second.__init__.__code__.co_code


def test_a_second_run_of_the_cli_compiles_nothing(tmp_path: Path):
    """Two processes start the way the `podspec` command does (install, import the CLI and the
    model, save): the first compiles the methods and writes them; the second takes them all."""
    cache = tmp_path / "methods.marshal"
    code = (
        "import json, sys\n"
        "from podspec import dataclass_cache\n"
        f"cache = dataclass_cache.install({str(cache)!r})\n"
        "import podspec.cli, podspec.model, podspec.observed\n"
        "print(json.dumps([cache.compiled, len(cache.used)]))\n"
        "dataclass_cache.save()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    (compiled_first, used_first), (compiled_second, used_second) = (json.loads(run.stdout) for run in runs)
    assert compiled_first == used_first > 100  # the model's and the observed types' methods
    assert (compiled_second, used_second) == (0, used_first)


@pytest.mark.parametrize("content", [
    b"",
    b"not a cache at all",
    b"podspec-dataclass-methods\n\x00\x00\x00\x00" + marshal.dumps({}),  # another Python's magic number
    dataclass_cache._MAGIC + b"\xff\x00 truncated",
    dataclass_cache._MAGIC + marshal.dumps({"def __create_fn__(): pass": "not code"}),
    dataclass_cache._MAGIC + marshal.dumps(["a", "list"]),
])
def test_a_bad_cache_file_is_ignored_and_replaced(cache_file, monkeypatch, content):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(content)
    cache = dataclass_cache.install(str(cache_file))
    assert cache.entries == {}
    _check(_define())
    cache.save()
    assert len(dataclass_cache.install(str(cache_file)).entries) == 6


def test_an_entry_serves_only_its_own_text(cache_file, monkeypatch):
    """A planted entry under another text is never used: the key is the whole source text."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache_file.parent.mkdir(parents=True)
    planted = compile("raise SystemExit('planted')", "<string>", "exec")
    cache_file.write_bytes(dataclass_cache._MAGIC + marshal.dumps({"some other text": planted}))
    cache = dataclass_cache.install(str(cache_file))
    _check(_define())
    assert cache.compiled == 6


def test_nothing_is_written_without_bytecode(cache_file, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = dataclass_cache.install(str(cache_file))
    _define()
    cache.save()
    assert not cache_file.exists()


def test_an_unwritable_place_is_no_error(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    blocker = tmp_path / "a file"
    blocker.write_text("")
    cache = dataclass_cache.install(str(blocker / "pycache" / "methods.marshal"))
    try:
        _check(_define())
        cache.save()  # cannot make a directory under a file: run on without the cache
        assert list(tmp_path.iterdir()) == [blocker]
    finally:
        dataclass_cache.uninstall()


def test_a_cache_past_its_bound_keeps_what_the_run_used(cache_file, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(dataclass_cache, "MAX_ENTRIES", 8)
    cache_file.parent.mkdir(parents=True)
    old = {f"# text of an older podspec {i}": compile("pass", "<string>", "exec") for i in range(10)}
    cache_file.write_bytes(dataclass_cache._MAGIC + marshal.dumps(old))
    cache = dataclass_cache.install(str(cache_file))
    _define()
    cache.save()
    kept = dataclass_cache.install(str(cache_file)).entries
    assert len(kept) == 6 and not set(kept) & set(old)


def test_the_cache_sits_beside_the_packages_bytecode():
    import importlib.util

    path = dataclass_cache.cache_path()
    assert path is not None
    assert os.path.dirname(path) == os.path.dirname(importlib.util.cache_from_source(dataclass_cache.__file__))
    assert os.path.basename(path) == f"dataclass-methods.{sys.implementation.cache_tag}.marshal"
