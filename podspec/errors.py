"""podspec's one exception tree.

The core raises these; only the CLI turns them into messages and exit codes. Each error carries
what is wrong, where (a file position or an object name) and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True, order=True)
class Origin:
    """A place in a manifest file; line and column count from 1."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where, which field, what, and how to fix it."""

    origin: Origin
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.origin}: {self.path}: " if self.path else f"{self.origin}: "
        text = where + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class PodspecError(Exception):
    """Base of every error podspec reports to a person."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ManifestError(PodspecError):
    """The manifests are not valid: every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(sorted(problems))
        count = len(self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the manifests",
            "fix the fields named above; nothing was changed on the host",
        )

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class PolicyError(ManifestError):
    """The manifests ask for something the security policy forbids."""


class RootlessLimitError(ManifestError):
    """The manifests ask for what the rootless Podman they are applied to cannot do."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], podman: str = "rootless Podman") -> None:
        super().__init__(problems)
        count = len(self.problems)
        self.message = f"{count} problem{'s' if count != 1 else ''} with {podman}: it cannot do what the manifests ask"
        self.hint = "change the fields named above, or apply them with root Podman; nothing was changed on the host"


class UsageError(PodspecError):
    """Flags or arguments that do not fit together."""


class PodmanUnavailable(PodspecError):
    """No Podman service could be reached or started."""


class ConflictError(PodspecError):
    """An object with the name podspec needs exists and podspec did not create it."""


class ImageUnavailable(PodspecError):
    """An image is missing and cannot be pulled."""


class Refusal(str, Enum):
    """Why Podman refused a call, read once from its answer (engine/parse.refusal) for callers to
    branch on: never its message text."""

    NOT_FOUND = "not found"  # no such object (or repository, at a registry)
    EXISTS = "exists"  # the name is taken
    IN_USE = "in use"  # the object is used by another (a volume mounted by a container)
    UNKNOWN_IMAGE = "unknown image"  # the image is not in local storage
    WRONG_STATE = "wrong state"  # the object is not in a state that allows it (not running, already running)
    RACED = "raced"  # another client created or removed the same name at the same moment: try again
    SUBNET_TAKEN = "subnet taken"  # a network's subnet is used on the host (by a network or a route Podman knows)
    OTHER = "other"


class EngineError(PodspecError):
    """A Podman call failed; `reason` says why, as far as Podman's answer tells."""

    def __init__(self, message: str, hint: str = "", reason: Refusal = Refusal.OTHER) -> None:
        super().__init__(message, hint)
        self.reason = reason


class PodNotFound(PodspecError):
    """A pod named on the command line is not on the host."""


class LockTimeout(PodspecError):
    """Another podspec command holds the project's lock."""


class StepFailed(PodspecError):
    """A plan step failed; carries what was done and what was not."""

    def __init__(self, message: str, hint: str, done: tuple = (), not_done: tuple = ()) -> None:
        super().__init__(message, hint)
        self.done = done
        self.not_done = not_done


class StalePlan(PodspecError):
    """A saved plan no longer fits the manifests or the host; nothing was changed."""


class SyncError(PodspecError):
    """The pull agent could not fetch, read or trust its repository (`podspec sync`)."""


class InvalidRevision(SyncError):
    """A commit that must never reach the host as it is (its files cannot be checked out safely)."""


class Stopped(SyncError):
    """The executor was asked to stop (run/executor.py's StopFlag: the pull agent's SIGTERM) before a
    step started; that step was not run."""


class RollbackRefused(PodspecError):
    """A revision cannot be put back as recorded (no such record, a record without pods, an image or
    a secret value no longer on the host): nothing was changed."""


class DecryptionError(PodspecError):
    """A SOPS-encrypted manifest could not be decrypted (no key, a wrong key, a changed file, no sops).

    Raised by the decryptor the commands hand to the loader (run/sops.py); the loader turns it into a
    problem naming the file, so that nothing on the host changes. Its text never holds a decrypted value.
    `host_side`: the host lacks something (a key, sops) that can be installed, unlike a damaged file."""

    def __init__(self, message: str, hint: str = "", host_side: bool = False) -> None:
        super().__init__(message, hint)
        self.host_side = host_side


class KeyUnavailable(ManifestError):
    """Manifests that could not be decrypted with what this host has (no key, a wrong key, no sops):
    the same commit may pass once the key is installed (the sync agent tries it again)."""
