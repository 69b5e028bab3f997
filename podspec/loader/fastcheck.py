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
    """A function telling whether an instance is valid against `root`."""
    compiled: dict[str, Check] = {}

    def ref(pointer: str) -> Check:
        if not pointer.startswith("#/$defs/") or pointer.count("/") != 2:
            raise UnsupportedSchema(f"$ref {pointer}")
        name = pointer.rsplit("/", 1)[1]

        def check(x: Any) -> bool:
            found = compiled.get(name)
            if found is None:
                found = compiled[name] = build(root["$defs"][name])
            return found(x)

        return check

    def build(schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda x: True
        if schema is False:
            return lambda x: False
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in ("then", "else"):  # read with "if"
                continue
            checks.append(keyword_check(keyword, value, schema))
        if len(checks) == 1:
            return checks[0]
        return lambda x: all(c(x) for c in checks)

    def keyword_check(keyword: str, value: Any, schema: dict[str, Any]) -> Check:
        if keyword == "type":
            names = [value] if isinstance(value, str) else list(value)
            tests = [_TYPES[n] for n in names]
            if len(tests) == 1:
                return tests[0]
            return lambda x: any(t(x) for t in tests)
        if keyword in ("enum", "const"):
            options = value if keyword == "enum" else [value]
            if not all(isinstance(o, str) for o in options):
                raise UnsupportedSchema(f"{keyword} with non-string values")
            allowed = frozenset(options)
            return lambda x: isinstance(x, str) and x in allowed
        if keyword == "required":
            names = tuple(value)
            return lambda x: not isinstance(x, dict) or all(n in x for n in names)
        if keyword == "properties":
            props = {k: build(v) for k, v in value.items()}
            return lambda x: not isinstance(x, dict) or all(props[k](v) for k, v in x.items() if k in props)
        if keyword == "additionalProperties":
            if "patternProperties" in schema:
                raise UnsupportedSchema("patternProperties")
            known = frozenset(schema.get("properties", {}))
            if value is False:
                return lambda x: not isinstance(x, dict) or all(k in known for k in x)
            extra = build(value)
            return lambda x: not isinstance(x, dict) or all(extra(v) for k, v in x.items() if k not in known)
        if keyword == "items":
            item = build(value)
            return lambda x: not isinstance(x, list) or all(item(i) for i in x)
        if keyword == "minItems":
            return lambda x: not isinstance(x, list) or len(x) >= value
        if keyword == "minimum":
            return lambda x: not _is_number(x) or not x < value
        if keyword == "maximum":
            return lambda x: not _is_number(x) or not x > value
        if keyword == "minLength":
            return lambda x: not isinstance(x, str) or len(x) >= value
        if keyword == "maxLength":
            return lambda x: not isinstance(x, str) or len(x) <= value
        if keyword == "pattern":
            search = re.compile(value).search
            return lambda x: not isinstance(x, str) or search(x) is not None
        if keyword == "$ref":
            return ref(value)
        if keyword == "allOf":
            parts = [build(s) for s in value]
            return lambda x: all(p(x) for p in parts)
        if keyword == "if":
            condition = build(value)
            then = build(schema.get("then", True))
            otherwise = build(schema.get("else", True))
            return lambda x: then(x) if condition(x) else otherwise(x)
        raise UnsupportedSchema(keyword)

    return build(root)
