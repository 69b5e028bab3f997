"""Input that is not a manifest: each rejected with a clear problem, quickly, in bounded memory."""

from __future__ import annotations

import io
import time

import pytest

from podspec.errors import ManifestError
from podspec.loader import load, yamlpos
from podspec.loader.yamlpos import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES


def problems(paths, stdin=None) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load(paths, stdin=stdin)
    return [str(p) for p in caught.value.problems]


def test_file_over_the_size_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert problems([str(big)]) == [
        f"{big}: file is 4.0 MiB, over the 4 MiB limit for a manifest file (split it into several files)",
    ]


def test_stdin_over_the_size_limit():
    stream = io.TextIOWrapper(io.BytesIO(b"a" * (MAX_FILE_BYTES + 10)))
    assert problems(["-"], stream) == [
        "<stdin>: file is over the 4 MiB limit for a manifest file (split it into several files)",
    ]


def test_missing_path_and_directory_without_manifests(tmp_path):
    (tmp_path / "empty").mkdir()
    assert problems([str(tmp_path / "nope.yaml"), str(tmp_path / "empty")]) == [
        f"{tmp_path / 'empty'}: no *.yaml or *.yml files in this directory",
        f"{tmp_path / 'nope.yaml'}: no such file or directory",
    ]


def test_no_paths():
    assert problems([]) == ["<arguments>: no manifest path given (name a file, a directory or -)"]


def test_stdin_not_given():
    assert problems(["-"]) == ["<stdin>: standard input is not available"]


def test_invalid_utf8_on_stdin():
    stream = io.TextIOWrapper(io.BytesIO(b"kind: Pod\nname: \xff\n"))
    assert problems(["-"], stream) == [
        "<stdin>:2:7: invalid UTF-8 (byte 0xff) (manifests are UTF-8 text files; re-encode it, e.g. with iconv -t UTF-8)",
    ]


def test_utf16(tmp_path):
    path = tmp_path / "u16.yaml"
    path.write_bytes("kind: Pod\n".encode("utf-16"))
    assert problems([str(path)]) == [f"{path}:1:1: UTF-16 text is not supported (save the file as UTF-8)"]


def test_control_character(tmp_path):
    path = tmp_path / "bell.yaml"
    path.write_text("kind: Pod\nname: a\x07b\n")
    assert problems([str(path)]) == [
        f"{path}:2:8: invalid YAML: character '\\x07' is not allowed (manifests are printable text)",
    ]


def test_deep_nesting_is_rejected(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 100 + "]" * 100 + "\n")
    assert problems([str(path)]) == [f"{path}:1:{4 + MAX_DEPTH - 1}: nested deeper than {MAX_DEPTH} levels"]
    path.write_text("a: " + "[" * 10_000 + "]" * 10_000 + "\n")  # libyaml's own bound stops this one earlier
    (found,) = problems([str(path)])
    assert found.startswith(f"{path}:1:") and "nesting depth" in found


def test_too_many_nodes_without_aliases(tmp_path, monkeypatch):
    assert MAX_NODES == 500_000
    monkeypatch.setattr(yamlpos, "MAX_NODES", 1000)  # the same rule, a smaller file
    path = tmp_path / "wide.yaml"
    path.write_text("a: [" + "0," * 1000 + "0]\n")
    assert problems([str(path)]) == [
        f"{path}:1:1999: too many YAML nodes (over 1,000 in one file, aliases expanded) "
        "(split the file; deeply nested aliases (an alias bomb) are not accepted)",
    ]


def test_alias_bomb_is_rejected_fast(tmp_path):
    levels = ["a: &a [" + ",".join(['"lol"'] * 10) + "]"]
    for n in range(1, 30):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n")
    start = time.perf_counter()
    found = problems([str(path)])
    assert time.perf_counter() - start < 2
    assert len(found) == 1 and "an alias bomb" in found[0]


CLAIM = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: v\n"


def test_undefined_and_recursive_alias(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text(CLAIM + "  labels:\n    a: *nothing\n    b: &self [*self]\n")
    assert problems([str(path)]) == [
        # the schema's "expected a string, got an empty value" for labels.a would say it twice
        f"{path}:6:8: metadata.labels.a: undefined alias *nothing (define the anchor before using it)",
        f"{path}:7:8: metadata.labels.b: expected a string, got a list",
        f"{path}:7:15: metadata.labels.b[0]: undefined alias *self (define the anchor before using it)",
    ]


def test_non_string_key_and_huge_number(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text(CLAIM + "  labels:\n    ? [a, b]\n    : x\n    n: " + "9" * 100 + "\n")
    assert problems([str(path)]) == [
        f"{path}:6:7: metadata.labels: a mapping key must be a plain string",
        f"{path}:8:8: metadata.labels.n: number longer than 64 characters",
    ]


def test_a_document_with_yaml_problems_is_still_checked_against_the_schema(tmp_path):
    path = tmp_path / "both.yaml"
    path.write_text(CLAIM + "  name: w\n  lables: {}\n")
    assert problems([str(path)]) == [
        f"{path}:5:3: metadata.name: duplicate key 'name' (first written at line 4; keep one)",
        f'{path}:6:3: metadata.lables: unknown field "lables" (did you mean labels?)',
    ]


def test_a_document_with_only_yaml_problems_is_built_and_checked(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(CLAIM + "  name: w\n---\n" + CLAIM.replace("name: v", "name: w"))
    assert problems([str(path)]) == [
        f"{path}:5:3: metadata.name: duplicate key 'name' (first written at line 4; keep one)",
        f"{path}:10:3: metadata.name: PersistentVolumeClaim w is defined twice (first defined at {path}:5:3; "
        "rename or remove one)",
    ]


def test_documents_before_a_syntax_error_are_still_checked(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("apiVersion: v2\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x}]}\n---\n[\n")
    assert problems([str(path)]) == [
        f'{path}:1:13: apiVersion: unsupported apiVersion "v2" (supported apiVersions: v1)',
        f"{path}:7:1: invalid YAML: did not find expected node content (while parsing a flow node)",
    ]


def test_empty_documents_between_separators_are_skipped(tmp_path):
    path = tmp_path / "seps.yaml"
    path.write_text("---\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: v}\n---\n")
    assert [c.name for c in load([str(path)]).claims] == ["v"]


def _in_time(call, seconds: float = 10.0):
    """Run `call` on a thread: a hang is a failure, not a stuck test run."""
    import threading

    box: list = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the loader hung"
    return box[0]


@pytest.mark.parametrize("kind", ["fifo", "device", "link-to-device", "link-out-to-device", "socket"])
def test_special_files_in_a_manifest_directory_are_refused_at_once(tmp_path, kind):
    import os
    import socket

    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    special = tmp_path / "special.yaml"
    if kind == "fifo":
        os.mkfifo(special)
        what = "a FIFO (named pipe)"
    elif kind == "device":
        os.mknod(special, 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers
        what = "a character device"
    elif kind == "link-to-device":  # a link that stays in the directory, to a device
        (tmp_path / "dev").mkdir()
        os.mknod(tmp_path / "dev" / "zero", 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 5))
        special.symlink_to("dev/zero")
        what = "a character device"
    elif kind == "link-out-to-device":  # refused before it is looked at: it leads out of the directory
        special.symlink_to("/dev/zero")
        found = _in_time(lambda: problems([str(tmp_path)]))
        assert found == [f"{special}: is a symbolic link to a file outside {tmp_path}: refused "
                         "(keep the manifests themselves in the directory, or name the file on the command line)"]
        return
    else:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(special))
        what = "a socket"
    found = _in_time(lambda: problems([str(tmp_path)]))
    assert found == [f"{special}: is {what}, not a regular file: refused "
                     "(keep only regular manifest files in manifest directories)"]


def test_a_pipe_named_on_the_command_line_is_read(tmp_path):
    import os
    import threading

    pipe = tmp_path / "from-sops.yaml"
    os.mkfifo(pipe)
    # As with `<(sops -d ...)`, the writer has the pipe open before podspec reads it: a reader held
    # here lets it open and write at once (else the loader could open the pipe before the writer
    # and read an end of file, and the writer then wait for a reader for ever).
    held = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    opened = threading.Event()

    def writer():
        with open(pipe, "w") as out:
            opened.set()
            out.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: piped}\ndata: {a: b}\n")

    threading.Thread(target=writer, daemon=True).start()
    try:
        assert opened.wait(10)
        state = _in_time(lambda: load([str(pipe)]), seconds=60)  # (a first load imports much: loaded CI shards)
    finally:
        os.close(held)
    assert [c.name for c in state.config_maps] == ["piped"]


def test_a_link_that_leads_nowhere_is_named_as_one(tmp_path):
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")  # a loop
    (tmp_path / "gone.yaml").symlink_to("missing.yaml")
    assert problems([str(tmp_path / "a.yaml"), str(tmp_path / "gone.yaml")]) == [
        f"{tmp_path / 'a.yaml'}: a symbolic link to b.yaml, which leads to no file (a missing file or a loop of links)",
        f"{tmp_path / 'gone.yaml'}: a symbolic link to missing.yaml, which leads to no file (a missing file or a loop of links)",
    ]


def test_a_nul_character_written_as_an_escape_is_refused_at_its_place_but_in_data(tmp_path):
    """`value: "a\\u0000b"` passed validate, and the container's start failed midway through apply."""
    path = tmp_path / "nul.yaml"
    path.write_text('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n'
                    '    - {name: a, image: alpine, env: [{name: X, value: "a\\u0000b"}]}\n---\n'
                    'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: "bin\\0ary"}\n')
    found = problems([str(path)])
    assert len(found) == 1 and found[0].startswith(f"{path}:6:55: spec.containers[0].env[0].value: a NUL character")
