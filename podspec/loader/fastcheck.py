"""A fast yes/no check against the manifest schema: the JSON Schema subset it uses, compiled to closures.

jsonschema stays the authority for *why* a document is invalid (schema.py asks it for every
error); this module only answers "valid?" about twenty times faster, so that a thousand valid pods
validate well under a second. It implements exactly the keywords the manifest schema uses, with
draft 2020-12 semantics as jsonschema applies them (a bool is not an integer, 1.0 is an integer,
`pattern` uses re.search, size and range keywords ignore other types). A keyword it does not know
is a compile error, never silently skipped; a test compares it with jsonschema on random input.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

# Keywords that never affect validity.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "patternErrorMessage"})


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this compiler does not implement."""


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    return isinstance(x, float) and x.is_integer()


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "null": lambda x: x is None,
}


def compile_schema(root: dict[str, Any]) -> Check:
    """A function telling whether an instance is valid against `root`.

    Every definition under `$defs` is compiled here, used or not, so that a keyword this module
    does not implement fails at once (UnsupportedSchema), never on the first document that
    reaches it.
    """
    return _Compiler(root).root


class _Compiler:
    """Compiles one schema; `$ref`s resolve through `self.defs`, filled before any check runs."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.schema = root
        self.defs: dict[str, Check] = {}
        definitions: dict[str, Any] = root.get("$defs", {})
        for name, definition in definitions.items():
            self.defs[name] = self.build(definition)
        self.root = self.build(root)

    def build(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda x: True
        if schema is False:
            return lambda x: False
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in ("then", "else"):  # read with "if"
                continue
            make = _KEYWORDS.get(keyword)
            if make is None:
                raise UnsupportedSchema(keyword)
            checks.append(make(self, value, schema))
        if len(checks) == 1:
            return checks[0]
        return lambda x: all(c(x) for c in checks)

    def ref(self, pointer: Any, schema: dict[str, Any]) -> Check:
        if not isinstance(pointer, str) or not pointer.startswith("#/$defs/") or pointer.count("/") != 2:
            raise UnsupportedSchema(f"$ref {pointer}")
        name = pointer.rsplit("/", 1)[1]
        if name not in self.schema.get("$defs", {}):
            raise UnsupportedSchema(f"$ref {pointer}: no such definition")
        defs = self.defs
        return lambda x: defs[name](x)

    def type(self, value: Any, schema: dict[str, Any]) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        tests = [_TYPES[n] for n in names]
        if len(tests) == 1:
            return tests[0]
        return lambda x: any(t(x) for t in tests)

    def enum(self, value: Any, schema: dict[str, Any]) -> Check:
        if not all(isinstance(o, str) for o in value):
            raise UnsupportedSchema("enum with non-string values")
        allowed = frozenset(value)
        return lambda x: isinstance(x, str) and x in allowed

    def const(self, value: Any, schema: dict[str, Any]) -> Check:
        if not isinstance(value, str):
            raise UnsupportedSchema("const with a non-string value")
        return lambda x: isinstance(x, str) and x == value

    def required(self, value: Any, schema: dict[str, Any]) -> Check:
        names = tuple(value)
        return lambda x: not isinstance(x, dict) or all(n in x for n in names)

    def properties(self, value: Any, schema: dict[str, Any]) -> Check:
        props = {k: self.build(v) for k, v in value.items()}
        return lambda x: not isinstance(x, dict) or all(props[k](v) for k, v in x.items() if k in props)

    def additional_properties(self, value: Any, schema: dict[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise UnsupportedSchema("patternProperties")
        known = frozenset(schema.get("properties", {}))
        if value is False:
            return lambda x: not isinstance(x, dict) or all(k in known for k in x)
        extra = self.build(value)
        return lambda x: not isinstance(x, dict) or all(extra(v) for k, v in x.items() if k not in known)

    def items(self, value: Any, schema: dict[str, Any]) -> Check:
        item = self.build(value)
        return lambda x: not isinstance(x, list) or all(item(i) for i in x)

    def all_of(self, value: Any, schema: dict[str, Any]) -> Check:
        parts = [self.build(s) for s in value]
        return lambda x: all(p(x) for p in parts)

    def if_then_else(self, value: Any, schema: dict[str, Any]) -> Check:
        condition = self.build(value)
        then = self.build(schema.get("then", True))
        otherwise = self.build(schema.get("else", True))
        return lambda x: then(x) if condition(x) else otherwise(x)


def _bound(test: Callable[[Any, Any], bool]) -> Callable[[_Compiler, Any, dict[str, Any]], Check]:
    """A size or range keyword: `test(instance, limit)`, applied to the instances it is about."""
    return lambda compiler, limit, schema: lambda x: test(x, limit)


def _pattern(compiler: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    """Compiled at its first string, not with the schema: most of the schema's patterns (quantities,
    names of rarely used fields) never meet a value in a given set of manifests, and compiling them
    all was a tenth of a no-op diff's CPU."""
    search: Callable[[str], Any] | None = None

    def check(x: Any) -> bool:
        nonlocal search
        if not isinstance(x, str):
            return True
        if search is None:
            search = re.compile(value).search
        return search(x) is not None

    return check


_KEYWORDS: dict[str, Callable[[_Compiler, Any, dict[str, Any]], Check]] = {
    "type": _Compiler.type,
    "enum": _Compiler.enum,
    "const": _Compiler.const,
    "required": _Compiler.required,
    "properties": _Compiler.properties,
    "additionalProperties": _Compiler.additional_properties,
    "items": _Compiler.items,
    "$ref": _Compiler.ref,
    "allOf": _Compiler.all_of,
    "if": _Compiler.if_then_else,
    "pattern": _pattern,
    "minItems": _bound(lambda x, n: not isinstance(x, list) or len(x) >= n),
    "minimum": _bound(lambda x, n: not _is_number(x) or not x < n),
    "maximum": _bound(lambda x, n: not _is_number(x) or not x > n),
    "minLength": _bound(lambda x, n: not isinstance(x, str) or len(x) >= n),
    "maxLength": _bound(lambda x, n: not isinstance(x, str) or len(x) <= n),
}
