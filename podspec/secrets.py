"""Secret values: which env variables look secret, and how they are hidden in every output.

A name with one of the words below in it, the words separated by `_`, `-` or `.`, looks secret
(DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, APIKEY; not MONKEY or AUTHOR). Its value is shown
as REDACTED in diffs, plans, exports and errors, and kept in labels only as a digest.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

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


def redact_at(parts: list, value: Any) -> Any:
    """Hide the values of env variables whose names look secret, wherever they appear."""
    if type(value).__name__ == "_Unset":  # the diff's marker for a field not set
        return value
    if len(parts) >= 2 and parts[-2] == "env" and isinstance(parts[-1], str) and looks_secret(parts[-1]):
        return REDACTED
    return redact_spec(value, under_env=bool(parts) and parts[-1] == "env")


def redact_spec(value: Any, under_env: bool = False) -> Any:
    if isinstance(value, dict):
        if under_env:
            return {k: (REDACTED if looks_secret(k) else v) for k, v in value.items()}
        return {k: redact_spec(v, under_env=(k == "env")) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_spec(v) for v in value]
    return value


def value_digest(value: bytes, *context: str) -> str:
    """What podspec keeps of a ConfigMap or Secret value (in intent, labels and Podman secret
    names): a digest that changes when the value changes and does not show it. `context` (kind,
    object, key) salts it, so that equal values in different places do not give equal digests and
    a digest cannot be looked up in a table of common values."""
    salt = "\0".join(context).encode()
    return "sha256:" + hashlib.sha256(salt + b"\0" + value).hexdigest()[:16]
