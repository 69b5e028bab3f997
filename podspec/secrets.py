"""Secret values: which env variables look secret, and how they are hidden in every output.

A name with one of the words below in it, the words separated by `_`, `-` or `.`, looks secret
(DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, APIKEY; not MONKEY or AUTHOR). Its value is shown
as REDACTED in diffs, plans, exports and errors, and kept in labels only as a digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from podspec.references import on_default_registry, registry_of

SECRET_NAME = re.compile(
    r"(^|[_.-])(PASSWORD|PASSWD|PASS|PWD|TOKEN|SECRET|KEY|APIKEY|API_KEY|CREDENTIALS?|PRIVATE|AUTH|CERT|SALT|DSN)([_.-]|$)",
    re.IGNORECASE,
)
REDACTED = "(redacted)"


def looks_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def stored_env_value(name: str, value: str) -> str:
    """What the intent (and so the last-applied label) keeps of an env value: secret-looking ones
    only as a digest, so that labels never hold them in clear; a change still changes the digest."""
    if looks_secret(name):
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]
    return value


_KEYED = ("env", "annotations", "labels")  # maps whose values are hidden under a secret-looking key
_HEADERS = "httpHeaders"  # a probe's headers, as intent records them: "Name: value"


def redact_at(parts: list, value: Any) -> Any:
    """A value of a diff at `parts` with what may be secret hidden (may_be_secret's places): env
    values, annotations and labels under a secret-looking name, and the value of every probe header
    that carries credentials (looks_secret_header; its name is kept: `Authorization: (redacted)`),
    wherever they appear."""
    if type(value).__name__ == "_Unset":  # the diff's marker for a field not set
        return value
    if len(parts) >= 2 and parts[-2] in _KEYED and isinstance(parts[-1], str) and looks_secret(parts[-1]):
        return REDACTED
    if _HEADERS in parts[:-1] and isinstance(value, str):
        return _header(value)
    return redact_spec(value, under=str(parts[-1]) if parts else "")


# Header names that carry credentials whatever they are called: besides these, a header whose
# name looks secret (X-Api-Key, X-Auth-Token) is hidden; X-Probe: ready is shown as it is.
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def looks_secret_header(name: str) -> bool:
    """Whether a probe header's value is hidden (diff, saved plans, export without --show-secrets)."""
    return name.strip().lower() in _CREDENTIAL_HEADERS or looks_secret(name.strip())


def _header(text: str) -> str:
    name, colon, _ = text.partition(":")
    if not colon:
        return REDACTED
    return f"{name}: {REDACTED}" if looks_secret_header(name) else text


def redact_spec(value: Any, under: str = "") -> Any:
    """`value` (a part of a spec found under the key `under`) with what may be secret hidden."""
    if isinstance(value, dict):
        if under in _KEYED:
            return {k: (REDACTED if looks_secret(k) else v) for k, v in value.items()}
        return {k: redact_spec(v, under=k) for k, v in value.items()}
    if isinstance(value, list):
        if under == _HEADERS:
            return [_header(v) if isinstance(v, str) else REDACTED for v in value]
        return [redact_spec(v) for v in value]
    return value


def may_be_secret(kind: Any, path: tuple) -> bool:
    """Whether the value at `path` of a manifest document of `kind` may be a secret, so that no
    message quotes it: anything in a Secret's data or stringData, anything under an `env` list
    (values, and whatever stands where one should be), probe HTTP headers, and ConfigMap data,
    labels and annotations under a secret-looking key."""
    parts = [str(p) for p in path]
    if kind == "Secret" and parts[:1] and parts[0] in ("data", "stringData"):
        return True
    if "env" in parts or "httpHeaders" in parts:
        return True
    for i, part in enumerate(parts[:-1]):
        if part in ("data", "binaryData", "annotations", "labels") and looks_secret(parts[i + 1]):
            return True
    return False


def secret_values(kind: Any, data: Any) -> set[str]:
    """The values of one manifest document that may be secret (may_be_secret's places; under `env`
    and `httpHeaders` the values, not the names): what no message may quote (scrub)."""
    found: set[str] = set()

    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))
        elif value is not None and not isinstance(value, bool) and may_be_secret(kind, path):
            parts = [str(p) for p in path]
            if ("env" in parts or "httpHeaders" in parts) and parts[-1] != "value" and not (kind == "Secret" and parts[0] in ("data", "stringData")):
                return  # an env entry's name, a reference's key: not a value
            found.add(str(value))

    walk(data, ())
    return found


_QUOTED_ONLY = 6  # shorter values are hidden where quoted ('abc', "abc"); longer ones wherever they appear


def scrub(text: str, values: set[str]) -> str:
    """`text` with every value of `values` in it replaced by REDACTED (longest first)."""
    for value in sorted(values, key=len, reverse=True):
        if not value or value not in text:
            continue
        if len(value) >= _QUOTED_ONLY:
            text = text.replace(value, REDACTED)
        else:
            for quoted in (repr(value), f'"{value}"', f"'{value}'"):
                text = text.replace(quoted, REDACTED)
    return text


def hidden(value: Any) -> str:
    """What a message says instead of a value that may be secret: its type and size only."""
    if isinstance(value, str):
        return f"a string of {len(value)} characters {REDACTED}"
    if isinstance(value, bool):
        return f"a boolean {REDACTED}"
    if value is None:
        return "an empty value"
    if isinstance(value, (int, float)):
        return f"a number {REDACTED}"
    return f"a {'mapping' if isinstance(value, dict) else 'list' if isinstance(value, list) else 'value'} {REDACTED}"


_URL_CREDENTIALS = r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@"  # (a pattern's text: re compiles it at its first use, not at every start-up)


def redact_url(text: str) -> str:
    """A URL (or any text holding URLs) with the user and password of each removed:
    https://user:token@host/repo -> https://(redacted)@host/repo."""
    return re.sub(_URL_CREDENTIALS, lambda m: f"{m.group(1)}{REDACTED}@", text)


def value_digest(value: bytes, *context: str) -> str:
    """What podspec keeps of a ConfigMap or Secret value (in intent, labels and Podman secret
    names): a digest that changes when the value changes and does not show it. `context` (kind,
    object, key) salts it, so that equal values in different places do not give equal digests and
    a digest cannot be looked up in a table of common values."""
    salt = "\0".join(context).encode()
    return "sha256:" + hashlib.sha256(salt + b"\0" + value).hexdigest()[:16]


@dataclass(frozen=True)
class RegistryCredential:
    """A user name and password for one registry. The password is never in a repr, a message, a
    label or a log: only `header()` (the X-Registry-Auth value sent to Podman) holds it."""

    registry: str  # host[:port], as image references start
    username: str
    password: str = field(repr=False)
    source: str = ""  # where it came from, for messages: "auth file /root/auth.json", "Secret regcred"

    def header(self) -> str:
        """X-Registry-Auth: base64url of the JSON Podman's API (and Docker's) reads."""
        data = {"username": self.username, "password": self.password, "serveraddress": self.registry}
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def credentials_from_auth_json(text: str, source: str) -> dict[str, RegistryCredential]:
    """Registry -> credential from an auth file (Podman's auth.json, Docker's config.json, or a
    Secret's .dockerconfigjson): `auths.{registry}.auth` (base64 of user:password) or
    `username`/`password`. Keys may be URLs (`https://index.docker.io/v1/`). Raises ValueError with
    a message that holds no secret."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON (line {getattr(exc, 'lineno', '?')})") from None
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        raise ValueError("no 'auths' object")
    found = {}
    for key, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
            except ValueError:
                raise ValueError(f"the 'auth' of {_registry_key(key)} is not base64 of user:password") from None
        if user:
            registry = _registry_key(key)
            found[registry] = RegistryCredential(registry, user, password, source)
    return found


def _registry_key(key: str) -> str:
    """`https://index.docker.io/v1/` -> `docker.io`; `quay.io/org` -> `quay.io/org` (Podman allows a
    namespace after the host); a plain host stays as written."""
    key = re.sub(r"^https?://", "", key).rstrip("/")
    if key in ("index.docker.io/v1", "index.docker.io", "registry-1.docker.io"):
        return "docker.io"
    return key


def credential_for(reference: str, credentials: dict[str, RegistryCredential]) -> RegistryCredential | None:
    """The credential for a reference: the longest key that is its registry, or its registry and a
    namespace prefix (`quay.io/org` for `quay.io/org/app`), as Podman looks them up."""
    registry = registry_of(reference)
    name = on_default_registry(reference.split("@", 1)[0])
    best = None
    for key, credential in credentials.items():
        if key == registry or name.startswith(key + "/"):
            if best is None or len(key) > len(best[0]):
                best = (key, credential)
    return best[1] if best else None
