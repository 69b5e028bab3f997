"""JSON Schema validation of one document, every violation mapped to the YAML node it is about.

The schema is `schemas/manifest.schema.json` (shipped as `podspec.schemas`), compiled once per
process. Each jsonschema error becomes a `Problem` at the offending node: the key itself for an
unknown field, the value for a wrong value, the enclosing mapping for a missing field. Unknown
fields get the message kubefields gives them: a real Kubernetes field podspec does not support says
so and what to use instead; a likely typo of a real field gets "did you mean ...?"; anything else the
list of what is supported. Unsupported values get "did you mean" (difflib) or the supported values.
"""

from __future__ import annotations

import difflib
import functools
import json
import pkgutil
from typing import Any, Callable, Iterable

from podspec.errors import Origin, Problem
from podspec.loader import kubefields
from podspec.loader.yamlpos import Document
from podspec.model import FieldPath, dotted
from podspec.secrets import hidden, may_be_secret

SCHEMA_RESOURCE = "manifest.schema.json"
_SHOW = 60  # characters of a value shown in a message


@functools.cache
def schema() -> dict[str, Any]:
    """The manifest schema, as published in schemas/. (Read with pkgutil, which works wherever the
    package is installed, as importlib.resources does; importlib.resources would import zipfile and
    its adapters: ~5 ms of every command that loads manifests.)"""
    data = pkgutil.get_data("podspec.schemas", SCHEMA_RESOURCE)
    assert data is not None  # (None only for a loader that cannot read files: not podspec's)
    return json.loads(data)


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
    """The problems one jsonschema error stands for, each at the node it is about."""
    report = _Report(error, document)
    explain = _EXPLAIN.get(error.validator)
    if explain is None:
        return [report.at_value(f"{report.describe(report.instance)} is not valid here ({error.validator})"
                                if report.secret else error.message[:200])]
    return explain(report)


class _Report:
    """One jsonschema error, with helpers that place a message at its node."""

    def __init__(self, error: Any, document: Document) -> None:
        self.document = document
        self.path: FieldPath = tuple(error.absolute_path)
        self.instance = error.instance
        self.rule = error.validator_value
        self.keyword = error.validator
        self.schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
        kind = document.data.get("kind") if isinstance(document.data, dict) else None
        self.secret = may_be_secret(kind, self.path)  # then no message quotes the value

    def describe(self, value: Any) -> str:
        return hidden(value) if self.secret else _describe(value)

    def at_value(self, message: str, hint: str = "") -> Problem:
        line, column = self.document.value_at(self.path)
        return Problem(Origin(self.document.file, line, column), dotted(self.path), message, hint)

    def at_key(self, path: FieldPath, message: str, hint: str = "") -> Problem:
        line, column = self.document.key_at(path)
        return Problem(Origin(self.document.file, line, column), dotted(path), message, hint)


def _additional(r: _Report) -> list[Problem]:
    if not isinstance(r.instance, dict):
        return []
    properties = r.schema.get("properties", {})
    known = sorted(properties)
    if not known:  # a map of free keys whose values have the wrong type
        return []
    kind = r.schema.get("title", "")
    problems = []
    for key in r.instance:
        if key in properties:
            continue
        message, hint = kubefields.unknown_field(kind, str(key), known)
        problems.append(r.at_key(r.path + (key,), message, hint))
    return problems


def _required(r: _Report) -> list[Problem]:
    if not isinstance(r.instance, dict):
        return []
    line, column = r.document.value_at(r.path)  # the mapping that lacks the field
    return [
        Problem(Origin(r.document.file, line, column), dotted(r.path + (name,)), f"missing required field {name}")
        for name in r.rule if name not in r.instance
        and not (name == "name" and "generateName" in r.instance)  # its own problem says to set metadata.name
    ]


def _type(r: _Report) -> list[Problem]:
    return [r.at_value(f"expected {_types(r.rule)}, got {r.describe(r.instance)}", _type_hint(r.rule, r.instance))]


def _enum(r: _Report) -> list[Problem]:
    allowed = [str(v) for v in (r.rule if r.keyword == "enum" else [r.rule])]
    field = str(r.path[-1]) if r.path and isinstance(r.path[-1], str) else "value"
    if field in _LISTED:  # the document type: always say what is supported
        hint = f"{_LISTED[field]}: {', '.join(allowed)}"
        if field == "kind" and r.path == ("kind",) and str(r.instance) in kubefields.WORKLOAD_KINDS:
            hint = f"{kubefields.WORKLOAD_KINDS[str(r.instance)]}; {hint}"
    else:
        hint = f"supported values: {', '.join(allowed)}" if r.secret else _suggest(str(r.instance), allowed, "supported values")
    return [r.at_value(f"unsupported {field} {r.describe(r.instance)}", hint)]


def _pattern(r: _Report) -> list[Problem]:
    if r.instance == "" and r.schema.get("minLength", 0) >= 1:
        return []  # "must not be empty" says it better
    if len(r.instance) > r.schema.get("maxLength", len(r.instance)):
        return []  # "too long" says it better
    message = r.schema.get("patternErrorMessage") or f"must match {r.rule}"
    return [r.at_value(f"invalid value {r.describe(r.instance)}: {message}")]


def _min_length(r: _Report) -> list[Problem]:
    return [r.at_value("must not be empty" if r.rule == 1 else f"must be at least {r.rule} characters long")]


def _min_items(r: _Report) -> list[Problem]:
    return [r.at_value("must not be empty" if r.rule == 1 else f"needs at least {r.rule} items")]


_EXPLAIN: dict[str, Callable[[_Report], list[Problem]]] = {
    "additionalProperties": _additional,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "const": _enum,
    "pattern": _pattern,
    "minimum": lambda r: [r.at_value(f"{r.describe(r.instance)} is below the minimum {r.rule}")],
    "maximum": lambda r: [r.at_value(f"{r.describe(r.instance)} is above the maximum {r.rule}")],
    "minLength": _min_length,
    "maxLength": lambda r: [r.at_value(f"too long ({len(r.instance)} characters; at most {r.rule})")],
    "minItems": _min_items,
}


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
