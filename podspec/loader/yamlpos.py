"""Safe, bounded YAML reading that remembers where every node was written.

`parse(raw, file)` turns the bytes of one file into `Document`s: plain Python data (dicts, lists,
str, int, float, bool, None) plus the 1-based (line, column) of every mapping key and every value
node, keyed by field path (`("spec", "containers", 0, "image")`).

It composes documents straight from the YAML event stream (libyaml's C parser when available), so
it never builds a node graph and never constructs anything but plain scalars: only the standard
`tag:yaml.org,2002:` scalar tags are accepted, every other tag is a problem. It is bounded:

- NUL bytes (binary data), invalid UTF-8 and UTF-16/32 text are rejected before parsing;
- a document may not nest deeper than MAX_DEPTH;
- a file may not hold more than MAX_NODES nodes, where an alias counts as many nodes as the
  subtree it refers to, so an alias bomb ("billion laughs") is rejected after a few hundred
  events, in constant memory (aliased values are shared, never copied);
- an integer or float scalar may not be longer than MAX_NUMBER_CHARS characters;
- a value may not hold a NUL character (an escape, `"\\0"`), but in a ConfigMap's or Secret's data.

Duplicate mapping keys and keys that are not plain scalars are problems too (Kubernetes rejects
them; PyYAML would silently keep the last one). Merge keys (`<<: *defaults`) are supported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from podspec.errors import Origin, Problem
from podspec.model import FieldPath, dotted
from podspec.secrets import hidden, may_be_secret

try:  # libyaml's parser: the same events, several times faster.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 500_000
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 64

Position = tuple[int, int]

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_TEXT_TAGS = frozenset(_TAG + t for t in ("str", "timestamp", "merge", "value"))
_NUMBER_TAGS = frozenset((_TAG + "int", _TAG + "float"))


@dataclass(frozen=True)
class Document:
    """One YAML document of a file, with positions; `problems` are what went wrong reading it."""

    file: str
    index: int  # 0-based, in file order
    data: Any
    start: Position
    keys: dict[FieldPath, Position] = field(default_factory=dict)  # where each mapping key is
    values: dict[FieldPath, Position] = field(default_factory=dict)  # where each value node starts
    problems: tuple[Problem, ...] = ()

    def key_at(self, path: FieldPath) -> Position:
        """Where the key of `path` was written, else its value, else its nearest ancestor."""
        return self.keys.get(path) or self.value_at(path)

    def value_at(self, path: FieldPath) -> Position:
        """Where the value of `path` starts, else its key, else its nearest ancestor's."""
        for end in range(len(path), -1, -1):
            sub = path[:end]
            found = self.values.get(sub) or self.keys.get(sub)
            if found is not None:
                return found
        return self.start

    def positions(self) -> dict[FieldPath, Position]:
        """Every node: the key's position for mapping entries, the node's own for list items."""
        merged = dict(self.values)
        merged.update(self.keys)
        return merged


class _Abort(Exception):
    """Reading this file cannot go on (too deep, too big); carries the problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _line_col(data: bytes | str, offset: int) -> Position:
    if isinstance(data, bytes):
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    else:
        line = data.count("\n", 0, offset) + 1
        column = offset - (data.rfind("\n", 0, offset) + 1) + 1
    return line, column


def decode(raw: bytes, file: str) -> tuple[str | None, Problem | None]:
    """The text of a manifest file, or the problem that stops it from being one."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, Problem(Origin(file, 1, 1), "", "UTF-16 text is not supported", "save the file as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _line_col(raw, nul)
        return None, Problem(
            Origin(file, line, column), "", "binary data (a NUL byte), not a YAML manifest",
            "manifests are UTF-8 text files",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line, column = _line_col(raw, error.start)
        return None, Problem(
            Origin(file, line, column), "", f"invalid UTF-8 (byte 0x{raw[error.start]:02x})",
            "manifests are UTF-8 text files; re-encode it, e.g. with iconv -t UTF-8",
        )


class _Composer:
    """Turns the event stream of one file into Documents; one instance per file."""

    _resolver = Resolver()
    _constructor = SafeConstructor()

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.loader = _Loader(text)
        self.nodes = 0
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.keys: dict[FieldPath, Position] = {}
        self.values: dict[FieldPath, Position] = {}
        self.read: list[Document] = []  # complete documents so far

    def origin(self, mark: Any) -> Origin:
        return Origin(self.file, mark.line + 1, mark.column + 1)

    def problem(self, mark: Any, path: FieldPath, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.origin(mark), dotted(path), message, hint))

    def count(self, mark: Any, size: int) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise _Abort(Problem(
                self.origin(mark), "", f"too many YAML nodes (over {MAX_NODES:,} in one file, aliases expanded)",
                "split the file; deeply nested aliases (an alias bomb) are not accepted",
            ))

    def documents(self) -> list[Document]:
        loader = self.loader
        documents = self.read
        try:
            event = loader.get_event()
            assert isinstance(event, StreamStartEvent)
            while True:
                event = loader.get_event()
                if isinstance(event, StreamEndEvent):
                    break
                assert isinstance(event, DocumentStartEvent)
                self.anchors = {}
                self.keys, self.values = {}, {}
                before = len(self.problems)
                start: Any = loader.get_event()
                data, _ = self.node(start, (), 0)
                end = loader.get_event()
                assert isinstance(end, DocumentEndEvent)
                documents.append(Document(
                    file=self.file, index=len(documents), data=data,
                    start=(start.start_mark.line + 1, start.start_mark.column + 1),
                    keys=self.keys, values=self.values, problems=tuple(self.problems[before:]),
                ))
        finally:
            loader.dispose()
        return documents

    def node(self, event: Any, path: FieldPath, depth: int) -> tuple[Any, int]:
        """Compose the node that starts with `event`; return its value and its size in nodes."""
        mark = event.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        if isinstance(event, ScalarEvent):
            self.count(mark, 1)
            value = self.scalar(event, path)
            size = 1
        elif isinstance(event, AliasEvent):
            found = self.anchors.get(event.anchor or "")
            if found is None:
                self.problem(mark, path, f"undefined alias *{event.anchor}", "define the anchor before using it")
                return None, 1
            value, size = found
            self.count(mark, size)
            return value, size  # an alias is never itself an anchor
        elif depth >= MAX_DEPTH:
            raise _Abort(Problem(self.origin(mark), "", f"nested deeper than {MAX_DEPTH} levels", ""))
        elif isinstance(event, SequenceStartEvent):
            self.tag_check(event, "seq", path)
            self.count(mark, 1)
            value, size = self.sequence(path, depth)
        elif isinstance(event, MappingStartEvent):
            self.tag_check(event, "map", path)
            self.count(mark, 1)
            value, size = self.mapping(path, depth)
        else:  # pragma: no cover - the parser guarantees a node here
            raise _Abort(Problem(self.origin(mark), dotted(path), "unexpected YAML event", ""))
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, size)
        return value, size

    def tag_check(self, event: Any, kind: str, path: FieldPath) -> None:
        if event.tag not in (None, "!", _TAG + kind):
            self.problem(event.start_mark, path, f"unsupported YAML tag {event.tag}", "remove the tag")

    def sequence(self, path: FieldPath, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        size = 1
        get = self.loader.get_event
        while True:
            event = get()
            if isinstance(event, SequenceEndEvent):
                return items, size
            value, sub = self.node(event, path + (len(items),), depth + 1)
            items.append(value)
            size += sub

    def mapping(self, path: FieldPath, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        size = 1
        get = self.loader.get_event
        while True:
            event: Any = get()
            if isinstance(event, MappingEndEvent):
                break
            mark = event.start_mark
            if not isinstance(event, ScalarEvent):
                self.problem(mark, path, "a mapping key must be a plain string", "")
                self.node(event, path + ("?",), depth + 1)  # consume the key
                _, sub = self.node(get(), path + ("?",), depth + 1)
                size += sub
                continue
            self.count(mark, 1)
            key = event.value
            if key == "<<" and not event.style and event.tag is None:
                value_event = get()
                value, sub = self.node(value_event, path + ("<<",), depth + 1)
                size += sub
                self.merge(merged, value, value_event, path)
                continue
            if event.tag not in (None, "!", _STR):
                self.problem(mark, path + (key,), f"unsupported YAML tag {event.tag} on a key", "")
            child = path + (key,)
            if key in result:
                first = self.keys[child]
                self.problem(
                    mark, child, f"duplicate key {key!r}", f"first written at line {first[0]}; keep one",
                )
            self.keys[child] = (mark.line + 1, mark.column + 1)
            value, sub = self.node(get(), child, depth + 1)
            result[key] = value
            size += sub + 1
        if merged:
            for key, value in merged.items():
                result.setdefault(key, value)
        return result, size

    def merge(self, merged: dict[str, Any], value: Any, event: Any, path: FieldPath) -> None:
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            self.problem(event.start_mark, path, "a merge key (<<) needs a mapping or a list of mappings", "")
            return
        mark = event.start_mark
        for source in sources:  # earlier sources win, as in YAML's merge key spec
            for key, item in source.items():
                if key not in merged:
                    merged[key] = item
                    self.keys.setdefault(path + (key,), (mark.line + 1, mark.column + 1))

    def scalar(self, event: Any, path: FieldPath) -> Any:
        value: str = event.value
        tag = event.tag
        if "\0" in value and path[:1] not in (("data",), ("stringData",), ("binaryData",)):
            self.problem(event.start_mark, path, "a NUL character (written \\0 or \\u0000) in a value: an env value, "
                         "an argument or a name ends there, and Podman refuses it when the container starts",
                         "remove it; a ConfigMap's or Secret's data may hold one: mount it as a file")
            return None
        if tag is None or tag == "!":
            if event.style or tag == "!" or not event.implicit[0]:
                return value
            tag = self._resolver.resolve(ScalarNode, value, (True, False))
        if tag in _TEXT_TAGS:
            return value  # timestamps stay text, as Kubernetes reads them into strings
        if tag not in _SCALAR_TAGS:
            self.problem(event.start_mark, path, f"unsupported YAML tag {tag}", "remove the tag")
            return value
        if tag in _NUMBER_TAGS and len(value) > MAX_NUMBER_CHARS:
            self.problem(event.start_mark, path, f"number longer than {MAX_NUMBER_CHARS} characters", "")
            return None
        try:
            constructor = self._constructor.yaml_constructors[tag]
            return constructor(self._constructor, ScalarNode(tag, value))
        except (ValueError, ArithmeticError, yaml.YAMLError):
            # The document's kind is not known yet: a place where a Secret's value may stand is hidden.
            shown = hidden(value) if may_be_secret("Secret", path) else repr(value)
            self.problem(event.start_mark, path, f"{shown} is not a valid {tag.rsplit(':', 1)[1]}", "")
            return None


def _tab_near(text: str, line: int) -> tuple[int, int] | None:
    """(line, column), 1-based, of a tab in the indentation of the 0-based `line` where the parser
    stopped, or of one in the line before it (a tab ends the previous token); None when there is none."""
    lines = text.split("\n")
    for number in (line, line - 1):
        if 0 <= number < len(lines):
            content = lines[number]
            indent = content[: len(content) - len(content.lstrip(" \t"))]
            if "\t" in indent:
                return number + 1, indent.index("\t") + 1
    return None


def parse(text: str, file: str) -> tuple[list[Document], list[Problem]]:
    """Every document of one file's text, and the problems that stopped reading it (if any).

    Documents read before a syntax error are returned too, so that one run reports as much as
    possible; problems inside a document are on the document.
    """
    composer = _Composer(text, file)
    try:
        return composer.documents(), []
    except _Abort as abort:
        return composer.read, [abort.problem]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        origin = composer.origin(mark) if mark is not None else Origin(file)
        message = "invalid YAML: " + (error.problem or "syntax error")
        hint = error.context or ""
        tab = _tab_near(text, mark.line) if mark is not None else None
        if tab is not None:
            origin = Origin(file, tab[0], tab[1])
            message = f"invalid YAML: a tab character at line {tab[0]}, column {tab[1]}; YAML indents with spaces only"
            hint = "replace the tab with spaces"
        return composer.read, [Problem(origin, "", message, hint)]
    except yaml.reader.ReaderError as error:
        line, column = _line_col(text, error.position)
        character = chr(error.character) if isinstance(error.character, int) else error.character
        return composer.read, [Problem(
            Origin(file, line, column), "", f"invalid YAML: character {character!r} is not allowed",
            "manifests are printable text",
        )]
    except (yaml.YAMLError, RecursionError, MemoryError) as error:
        return composer.read, [Problem(Origin(file), "", f"invalid YAML: {type(error).__name__}: {error}", "")]
