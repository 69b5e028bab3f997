"""A desired pod as plain JSON and back (pure): what the apply history keeps so that a revision can
be put back without its files (`podspec rollback`, `apply --rollback-on-failure`).

The model is frozen dataclasses, enums and tuples; `encode` walks it generically (fields equal to
their default are left out, `locations` never kept) and `decode` rebuilds it from the type hints, so
a field added to the model later needs nothing here. `decode(encode(pod)) == pod` for every pod.

Never a secret's value: a Secret's key is a reference with a digest already (the value lives only in
the Podman secret), and an env value whose name looks secret (secrets.looks_secret) is kept as its
digest, exactly as the last-applied label keeps it. Such a value comes back only from a container on
the host that still holds it (`fill_redacted`); `redacted` says which ones a pod needs.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, Mapping

from podspec import model
from podspec.model import Container, EnvVar, Pod
from podspec.secrets import looks_secret, stored_env_value

SKIPPED = frozenset({"locations"})  # where a thing was written: no part of what runs
REDACTED_KEY = "digest"  # an env entry kept as {"name", "digest"} instead of {"name", "value"}


class DecodeError(ValueError):
    """The JSON is not a pod this version of podspec can rebuild."""


def encode(pod: Pod) -> dict[str, Any]:
    return typing.cast(dict[str, Any], _encode(pod))


def _encode(value: Any) -> Any:
    if isinstance(value, EnvVar) and value.ref is None and looks_secret(value.name):
        return {"name": value.name, REDACTED_KEY: stored_env_value(value.name, value.value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            if f.name in SKIPPED:
                continue
            item = getattr(value, f.name)
            if _is_default(f, item):
                continue
            out[f.name] = _encode(item)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _is_default(f: dataclasses.Field, value: Any) -> bool:
    if f.default is not dataclasses.MISSING:
        return bool(value == f.default)
    if f.default_factory is not dataclasses.MISSING:
        return bool(value == f.default_factory())
    return False


def decode(data: Mapping[str, Any], values: Mapping[tuple[str, str], str] | None = None) -> Pod:
    """The pod `encode` wrote. `values`: (env name, digest) -> the value, for env values kept only as
    digests; one that is not there is left as its digest (see `redacted`)."""
    try:
        pod = _decode(Pod, data)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise DecodeError(str(error)) from None
    return fill_redacted(pod, data, values or {})


def redacted(data: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """(container, env name, digest) of every env value `data` keeps only as a digest."""
    found = []
    for group in ("init_containers", "containers"):
        for c in data.get(group) or ():
            for var in c.get("env") or ():
                if REDACTED_KEY in var:
                    found.append((str(c.get("name")), str(var.get("name")), str(var[REDACTED_KEY])))
    return tuple(found)


def fill_redacted(pod: Pod, data: Mapping[str, Any], values: Mapping[tuple[str, str], str]) -> Pod:
    needed = {(c, n): d for c, n, d in redacted(data)}
    if not needed:
        return pod

    def mend(c: Container) -> Container:
        env = tuple(
            dataclasses.replace(v, value=values.get((v.name, needed[(c.name, v.name)]), v.value))
            if (c.name, v.name) in needed and v.ref is None else v
            for v in c.env
        )
        return dataclasses.replace(c, env=env)

    return dataclasses.replace(pod, containers=tuple(mend(c) for c in pod.containers),
                               init_containers=tuple(mend(c) for c in pod.init_containers))


@cache
def _hints(cls: type) -> dict[str, Any]:
    # The annotations name classes of model.py and of model_extra.py (model.EXTRA: defined on demand).
    from podspec import model_extra

    return typing.get_type_hints(cls, {**vars(model_extra), **vars(model)})


def _decode(kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _decode_union(kind, value)
    if origin is tuple:
        return _decode_tuple(kind, value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _decode_object(kind, value)
    if kind is Any or (kind in (int, bool, str) and type(value) is kind):
        return value
    raise TypeError(f"{value!r} is not a {kind}")


def _decode_union(kind: Any, value: Any) -> Any:
    options = typing.get_args(kind)
    if value is None and type(None) in options:
        return None
    last: Exception | None = None
    for option in options:
        if option is type(None):
            continue
        try:
            return _decode(option, value)
        except (TypeError, ValueError, KeyError) as error:
            last = error
    raise ValueError(f"{value!r} is none of {kind}") from last


def _decode_tuple(kind: Any, value: Any) -> tuple:
    args = typing.get_args(kind)
    if not isinstance(value, list):
        raise TypeError(f"{value!r} is not a list")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(args[0], v) for v in value)
    return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))


def _decode_object(kind: type, value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise TypeError(f"{value!r} is not an object")
    if kind is EnvVar and REDACTED_KEY in value:  # the digest stands in until fill_redacted
        return EnvVar(str(value["name"]), str(value[REDACTED_KEY]))
    unknown = set(value) - {f.name for f in dataclasses.fields(kind)}
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} of {kind.__name__}")
    hints = _hints(kind)
    return kind(**{name: _decode(hints[name], v) for name, v in value.items()})
