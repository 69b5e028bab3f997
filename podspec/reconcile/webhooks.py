"""The agent's webhook receiver: is a git host's request genuine, and does it mean "sync now"? (pure)

Two git hosts' push webhooks, checked as each defines it:

- GitHub (`POST /hooks/github`): `X-Hub-Signature-256: sha256=HEX`, the HMAC-SHA256 of the raw
  body under the shared secret; `X-GitHub-Event: push` (a `ping` is answered, nothing more).
- GitLab (`POST /hooks/gitlab`): `X-Gitlab-Token`, the shared secret itself; `X-Gitlab-Event:
  Push Hook`.

A genuine push to the followed branch triggers a sync at once; a push to another branch, or another
event, is acknowledged and ignored. A request without the secret changes nothing and is answered
401 (the secret is compared in constant time). Nothing of the request is trusted before that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

MAX_BODY = 4 * 1024 * 1024  # GitHub caps payloads at 25 MB; a push of a manifests repo is small
PATHS = {"/hooks/github": "github", "/hooks/gitlab": "gitlab"}


@dataclass(frozen=True)
class HookAnswer:
    status: int  # the HTTP status to answer
    message: str  # the answer's text (and the log line's)
    trigger: bool = False  # sync now
    sender: str = ""  # github | gitlab


def expected_github(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def judge(path: str, method: str, headers: Mapping[str, str], body: bytes, secret: bytes | None,
          branch: str) -> HookAnswer:
    """What to answer, and whether to sync. `headers` with lower-case names; `secret` None: the
    receiver is off (404, as for any unknown path)."""
    sender = PATHS.get(path.rstrip("/"))
    if sender is None or not secret:
        return HookAnswer(404, "not found: the webhook receiver is off (podspec sync --webhook-secret-file FILE)"
                          if sender else "not found")
    if method != "POST":
        return HookAnswer(405, f"{path} takes POST requests from {sender}", sender=sender)
    if len(body) > MAX_BODY:
        return HookAnswer(413, "the body is too large", sender=sender)
    if sender == "github":
        given = headers.get("x-hub-signature-256", "")
        if not given:
            return HookAnswer(401, "no X-Hub-Signature-256 header: set the webhook's secret on GitHub", sender=sender)
        if not hmac.compare_digest(given.encode(), expected_github(secret, body).encode()):
            return HookAnswer(401, "the X-Hub-Signature-256 signature does not match the shared secret", sender=sender)
        event = headers.get("x-github-event", "")
        if event == "ping":
            return HookAnswer(200, "pong", sender=sender)
        if event != "push":
            return HookAnswer(202, f"ignored: a {event or 'nameless'} event (only push triggers a sync)", sender=sender)
    else:
        given = headers.get("x-gitlab-token", "")
        if not given:
            return HookAnswer(401, "no X-Gitlab-Token header: set the webhook's secret token on GitLab", sender=sender)
        if not hmac.compare_digest(given.encode(), secret):
            return HookAnswer(401, "the X-Gitlab-Token does not match the shared secret", sender=sender)
        event = headers.get("x-gitlab-event", "")
        if event != "Push Hook":
            return HookAnswer(202, f"ignored: a {event or 'nameless'} event (only Push Hook triggers a sync)", sender=sender)
    ref = pushed_ref(body)
    if ref is None:
        return HookAnswer(400, "the push payload is not JSON with a \"ref\"", sender=sender)
    if ref != f"refs/heads/{branch}":
        return HookAnswer(202, f"ignored: a push to {ref}, not to refs/heads/{branch}", sender=sender)
    return HookAnswer(202, f"sync triggered by a push to {branch}", trigger=True, sender=sender)


def pushed_ref(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) else None
