"""`$(VAR)` in a container's command, args and env values, expanded as Kubernetes (and `podman
kube play` since 4.7, for command and args) expands it (pure).

Kubernetes' rules (k8s.io/kubernetes third_party/forked/golang/expansion): `$(NAME)` is the
variable NAME's value, NAME being everything up to the first `)`; a name that is no variable is left
as written; `$$` is one `$` (so `$$(NAME)` is the text `$(NAME)`); a `$(` without its `)`, a `$`
before any other character and a `$` at the end stay as they are. An env value is expanded against
the variables defined before it (every envFrom key, then the env entries above it); command and
args against all of the container's variables. Values read from a Secret are not expanded: podspec
never puts a Secret's value on a command line nor in a plain env value, where `podman inspect` shows
it; such a reference is left as written and named in `Expanded.withheld` (the loader warns).

The intent (the last-applied label) and the diff keep the manifest's text; only the create body
(engine/specgen.py) gets the expansion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from podspec.model import Container, KeyRef, SourceKind

FieldPath = tuple[str | int, ...]


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """`text` with each `$(NAME)` that `lookup` knows (not None) replaced by its value."""
    if "$" not in text:
        return text
    out: list[str] = []
    i, end = 0, len(text)
    while i < end:
        dollar = text.find("$", i)
        if dollar < 0 or dollar == end - 1:  # none left, or a `$` at the very end: as written
            out.append(text[i:])
            break
        out.append(text[i:dollar])
        following = text[dollar + 1]
        if following == "$":  # `$$`: one `$`
            out.append("$")
            i = dollar + 2
        elif following == "(":
            close = text.find(")", dollar + 2)
            if close < 0:  # `$(` never closed: as written, and reading goes on after the `(`
                out.append("$(")
                i = dollar + 2
            else:
                name = text[dollar + 2:close]
                value = lookup(name)
                out.append(f"$({name})" if value is None else value)
                i = close + 1
        else:  # `$x`: as written
            out.append("$" + following)
            i = dollar + 2
    return "".join(out)


def references(text: str) -> list[str]:
    """The names `text` refers to with `$(NAME)`, in order (as `expand` reads them)."""
    found: list[str] = []

    def note(name: str) -> None:
        found.append(name)

    expand(text, note)
    return found


def escape(text: str) -> str:
    """The manifest text that expands to `text` whatever the variables: each `$` that would start
    an escape or a reference is doubled (export writes a running container's command this way)."""
    return re.sub(r"\$(?=[$(])", "$$", text)


@dataclass(frozen=True)
class Expanded:
    """What a container runs: its command, args and environment (Container.effective_env's
    order; Secret values stay KeyRefs), with the references expanded."""

    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[tuple[str, str | KeyRef], ...]
    # (field path within the container, variable name): references to a Secret's variable, or to an
    # env value that holds one, left as written.
    withheld: tuple[tuple[FieldPath, str], ...] = ()


def _held(value: str | KeyRef) -> bool:
    """A value podspec does not put in clear: a Secret's (or a host secret's), read by Podman."""
    return isinstance(value, KeyRef) and not (value.kind is SourceKind.CONFIG_MAP and not value.host)


def expand_container(container: Container) -> Expanded:
    """The container's command, args and env values expanded as Kubernetes expands them."""
    known: dict[str, str] = {}  # the variables defined so far, with their (expanded) values
    secret: set[str] = set()  # the variables whose value is a Secret's, or holds one
    withheld: list[tuple[FieldPath, str]] = []

    def define(name: str, value: str | KeyRef) -> None:
        if _held(value):
            known.pop(name, None)
            secret.add(name)
        else:
            known[name] = value.value if isinstance(value, KeyRef) else value
            secret.discard(name)

    def expanded(place: FieldPath, text: str) -> tuple[str, bool]:
        tainted = False

        def lookup(name: str) -> str | None:
            nonlocal tainted
            if name in secret:
                tainted = True
                withheld.append((place, name))
            return known.get(name)

        return expand(text, lookup), tainted

    for source in container.env_from:
        for ref in source.entries:
            if ref.present:
                define(source.prefix + ref.key, ref)
    values: dict[str, str] = {}  # env entries' literal values, expanded
    for j, var in enumerate(container.env):
        if var.ref is None:
            value, tainted = expanded(("env", j, "value"), var.value)
            if tainted:  # keeps its text: a Secret's value is never a plain env value
                value = var.value
                known.pop(var.name, None)
                secret.add(var.name)
            else:
                define(var.name, value)
            values[var.name] = value
        elif var.ref.present:
            define(var.name, var.ref)
        else:
            known.pop(var.name, None)
            secret.discard(var.name)
    command = tuple(expanded(("command", j), text)[0] for j, text in enumerate(container.command))
    args = tuple(expanded(("args", j), text)[0] for j, text in enumerate(container.args))
    env = tuple((name, values.get(name, value) if isinstance(value, str) else value)
                for name, value in container.effective_env())
    return Expanded(command, args, env, tuple(dict.fromkeys(withheld)))
