"""JSON Schema validation of one document, every violation mapped to the YAML node it is about.

The schema is `schemas/manifest.schema.json` (shipped as `podspec.schemas`), compiled once per
process. Each jsonschema error becomes a `Problem` at the offending node: the key itself for an
unknown field, the value for a wrong value, the enclosing mapping for a missing field. Unknown
fields and unsupported values carry a "did you mean ...?" hint (difflib) or the list of what is
supported.
"""

from __future__ import annotations

import difflib
import functools
import json
from importlib import resources
from typing import Any, Iterable

from podspec.errors import Origin, Problem
from podspec.loader.yamlpos import Document
from podspec.model import FieldPath, dotted

SCHEMA_RESOURCE = "manifest.schema.json"
_SHOW = 60  # characters of a value shown in a message


@functools.cache
def schema() -> dict[str, Any]:
    """The manifest schema, as published in schemas/."""
    return json.loads(resources.files("podspec.schemas").joinpath(SCHEMA_RESOURCE).read_text("utf-8"))


@functools.cache
def _is_valid() -> Any:
    from podspec.loader.fastcheck import compile_schema

    return compile_schema(schema())


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def check(document: Document) -> list[Problem]:
    """Every schema violation of one document, sorted, without duplicates."""
    if _is_valid()(document.data):
        return []  # the common case, without jsonschema's cost (and import)
    validator = _validator()
    found: dict[tuple, Problem] = {}
    for error in validator.iter_errors(document.data):
        for problem in _problems(error, document):
            found.setdefault((problem.origin, problem.path, problem.message), problem)
    return sorted(found.values())


def _problems(error: Any, document: Document) -> Iterable[Problem]:
    path: FieldPath = tuple(error.absolute_path)
    keyword = error.validator
    instance = error.instance
    rule = error.validator_value
    subschema = error.schema if isinstance(error.schema, dict) else {}

    def at_value(message: str, hint: str = "", where: FieldPath = path) -> Problem:
        line, column = document.value_at(where)
        return Problem(Origin(document.file, line, column), dotted(where), message, hint)

    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = sorted(subschema.get("properties", {}))
        for key in instance:
            if key in subschema.get("properties", {}):
                continue
            if not known:  # a map of free keys whose values have the wrong type
                continue
            where = path + (key,)
            line, column = document.key_at(where)
            yield Problem(
                Origin(document.file, line, column), dotted(where), f"unknown field {_show(key)}",
                _suggest(key, known, "supported fields here"),
            )
        return
    if keyword == "required" and isinstance(instance, dict):
        line, column = document.value_at(path)  # the mapping that lacks the field
        for name in rule:
            if name not in instance:
                yield Problem(Origin(document.file, line, column), dotted(path + (name,)), f"missing required field {name}")
        return
    if keyword == "type":
        yield at_value(f"expected {_types(rule)}, got {_describe(instance)}", _type_hint(rule, instance))
        return
    if keyword in ("enum", "const"):
        allowed = [str(v) for v in (rule if keyword == "enum" else [rule])]
        field = str(path[-1]) if path and isinstance(path[-1], str) else "value"
        if field in _LISTED:  # the document type: always say what is supported
            hint = f"{_LISTED[field]}: {', '.join(allowed)}"
        else:
            hint = _suggest(str(instance), allowed, "supported values")
        yield at_value(f"unsupported {field} {_describe(instance)}", hint)
        return
    if keyword == "pattern":
        if instance == "" and subschema.get("minLength", 0) >= 1:
            return  # "must not be empty" says it better
        if len(instance) > subschema.get("maxLength", len(instance)):
            return  # "too long" says it better
        message = subschema.get("patternErrorMessage") or f"must match {rule}"
        yield at_value(f"invalid value {_describe(instance)}: {message}")
        return
    if keyword == "minimum":
        yield at_value(f"{_describe(instance)} is below the minimum {rule}")
        return
    if keyword == "maximum":
        yield at_value(f"{_describe(instance)} is above the maximum {rule}")
        return
    if keyword == "minLength":
        yield at_value("must not be empty" if rule == 1 else f"must be at least {rule} characters long")
        return
    if keyword == "maxLength":
        yield at_value(f"too long ({len(instance)} characters; at most {rule})")
        return
    if keyword == "minItems":
        yield at_value("must not be empty" if rule == 1 else f"needs at least {rule} items")
        return
    yield at_value(error.message[:200])


_LISTED = {"apiVersion": "supported apiVersions", "kind": "supported kinds"}


def _suggest(word: str, choices: list[str], label: str) -> str:
    """ "did you mean X?" when a choice is close, else the list of choices."""
    if len(word) <= 100:
        close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
        if not close:
            lowered = {c.lower(): c for c in choices}
            if word.lower() in lowered:
                close = [lowered[word.lower()]]
        if close:
            return f"did you mean {close[0]}?"
    return f"{label}: {', '.join(choices)}"


_TYPE_NAMES = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
    "object": "a mapping", "array": "a list", "null": "nothing",
}


def _types(rule: Any) -> str:
    names = [rule] if isinstance(rule, str) else list(rule)
    return " or ".join(_TYPE_NAMES.get(n, n) for n in names)


def _describe(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return _show(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _show(text: str) -> str:
    shown = text if len(text) <= _SHOW else text[:_SHOW] + "..."
    return json.dumps(shown, ensure_ascii=False)


def _type_hint(rule: Any, value: Any) -> str:
    wanted = [rule] if isinstance(rule, str) else list(rule)
    if value is None:
        return "give it a value, or remove the key"
    if "string" in wanted and isinstance(value, (bool, int, float)):
        return "quote the value to make it a string"
    if "array" in wanted and not isinstance(value, list):
        return "write it as a YAML list (lines starting with '- ')"
    return ""
