"""What the agent tells people (`podspec sync --notify URL`), as plain data (pure).

An event is one thing that happened to a project's revision on the host: a commit applied, an apply
that failed, a revision rolled back, a bad commit refused, drift repaired, an image updated (or one
available, in notify-only mode). `payload` is the JSON body POSTed to every --notify URL; with a
shared secret, `signature` is the HMAC-SHA256 of exactly that body, sent as GitHub sends its own
webhooks' (`X-Podspec-Signature-256: sha256=HEX`), so a receiver checks it the same way.

Events carry names, revisions, outcomes and podspec's own messages: never an environment value or
a Secret's data (the messages come from podspec's errors, which redact them already).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import Enum

SIGNATURE_HEADER = "X-Podspec-Signature-256"
EVENT_HEADER = "X-Podspec-Event"
USER_AGENT = "podspec-sync"


class EventKind(str, Enum):
    APPLIED = "applied"  # a new revision reached the host (or needed no change)
    FAILED = "failed"  # an apply (or a fetch) failed; the host stays on the last good revision
    ROLLED_BACK = "rolled-back"  # a revision that never became ready was undone
    REFUSED = "refused"  # a bad commit: invalid manifests, policy, no allowed signature, a rewind
    REPAIRED = "repaired"  # drift (a hand change) was undone
    IMAGE_UPDATE = "image-update"  # an auto-update image moved: applied, available (notify-only) or failed


@dataclass(frozen=True)
class ImageChange:
    """An image whose tag moved: the reference, the digest the containers run and the new one."""

    image: str
    running: str  # digest (or image ID) the containers run; "" unknown
    available: str  # digest the registry (or the local store) has now
    containers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    kind: EventKind
    project: str
    revision: str  # the revision the host is (or was meant to be) on; "" none yet
    outcome: str  # applied, no-changes, failed, rolled-back, invalid, unsigned, rewind, repaired, available, ...
    time: float  # Unix time
    message: str = ""
    pods: tuple[str, ...] = ()
    images: tuple[ImageChange, ...] = ()
    source: str = ""
    branch: str = ""


def iso_time(seconds: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def as_json(event: Event) -> dict[str, object]:
    """The event's documented shape (docs/operators.md): stable keys, sorted pods and images."""
    return {
        "event": event.kind.value,
        "project": event.project,
        "revision": event.revision,
        "outcome": event.outcome,
        "time": iso_time(event.time),
        "message": event.message,
        "pods": sorted(event.pods),
        "images": [
            {"image": i.image, "running": i.running, "available": i.available, "containers": sorted(i.containers)}
            for i in sorted(event.images, key=lambda i: i.image)
        ],
        "source": event.source,
        "branch": event.branch,
    }


def payload(event: Event) -> bytes:
    return json.dumps(as_json(event), sort_keys=True, separators=(",", ":")).encode()


def signature(secret: bytes, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the body under the shared secret (GitHub's format)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def headers(event: Event, body: bytes, secret: bytes | None) -> dict[str, str]:
    found = {"Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_HEADER: event.kind.value}
    if secret:
        found[SIGNATURE_HEADER] = signature(secret, body)
    return found


@dataclass(frozen=True)
class RetryRule:
    """How a notification is retried: `attempts` in all, waiting `first` seconds after the first
    failure, doubling, at most `cap`. A receiver's 4xx (other than 408 and 429) is not retried:
    sending the same body again cannot succeed."""

    attempts: int = 5
    first: float = 1.0
    cap: float = 30.0
    timeout: float = 10.0  # per attempt

    def delay(self, failed: int) -> float | None:
        """Seconds to wait after `failed` failed attempts; None: give up."""
        if failed >= self.attempts:
            return None
        return min(self.cap, self.first * 2 ** (failed - 1))


def worth_retrying(status: int | None) -> bool:
    """`status` None: no answer (refused, a timeout, a reset)."""
    return status is None or status >= 500 or status in (408, 429)
