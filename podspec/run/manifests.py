"""Reading the manifests a workflow works on, with the security policy checked in the same pass.

Both happen before any Podman call: bad input changes nothing on the host.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from podspec.loader.sops import Decrypt
    from podspec.model import DesiredState
    from podspec.policy import Policy
    from podspec.run.listener import Listener

POLICY_ENV = "PODSPEC_POLICY"
ALLOW_HOST_PATHS_ENV = "PODSPEC_ALLOW_HOST_PATHS"
ALLOW_HOST_PORTS_ENV = "PODSPEC_ALLOW_HOST_PORTS"
ALLOW_CAPABILITIES_ENV = "PODSPEC_ALLOW_CAPABILITIES"
ALLOW_ANNOTATIONS_ENV = "PODSPEC_ALLOW_ANNOTATIONS"
REQUIRE_ENCRYPTED_SECRETS_ENV = "PODSPEC_REQUIRE_ENCRYPTED_SECRETS"


@dataclass(frozen=True)
class Manifests:
    """Which manifests, and how they are checked."""

    paths: tuple[str, ...]
    policy: Policy | None = None  # None: no policy (only for commands that add nothing: delete)
    stdin: TextIO | None = None  # read for the path "-"
    strict: bool = False  # cluster-only fields are errors, not warnings
    # validate: a ConfigMap or Secret the files read do not define is a warning (diff and apply,
    # which act on the set, need it among their manifests)
    defined_elsewhere: bool = False
    # SOPS-encrypted files: decrypted by this (run/sops.py's Sops, with the host's keys); None:
    # their shape is checked without decrypting (validate, which needs no key)
    decrypt: Decrypt | None = None


def load(manifests: Manifests) -> DesiredState:
    """The desired state, or ManifestError (PolicyError) carrying every problem found. Its
    `warnings` (fields only a cluster uses) are for the caller to show: see `warn`."""
    from podspec.loader import load as load_files

    policy = manifests.policy
    checks = None
    if policy is not None:
        from podspec.policy import check

        checks = lambda state: check(state, policy)
    return load_files(manifests.paths, stdin=manifests.stdin, strict=manifests.strict,
                      defined_elsewhere=manifests.defined_elsewhere, extra_checks=checks,
                      decrypt=manifests.decrypt)


class LoadOnce:
    """One load of the manifests for every target that names them (`--target`): the first target to
    ask loads them, the others wait for it and share its DesiredState (immutable) or its ManifestError.
    What depends on the host (rootless limits, the images there, the diff) stays each target's own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # held while loading: the others wait on it
        self._state: DesiredState | None = None
        self._error: Exception | None = None

    def load(self, manifests: Manifests) -> DesiredState:
        from podspec.errors import PodspecError

        with self._lock:
            if self._state is None and self._error is None:
                try:
                    self._state = load(manifests)
                except PodspecError as error:  # bad input: the same report for every target
                    self._error = error
            if self._error is not None:
                raise self._error
            assert self._state is not None
            return self._state


def policy_from(
    profile: str | None,
    host_paths: Sequence[str] | None,
    host_ports: Sequence[str] | None,
    capabilities: Sequence[str] | None,
    env: Mapping[str, str],
    require_encrypted_secrets: bool = False,
) -> Policy:
    """The policy from the flags; each one absent falls back to its environment variable.

    A flag replaces its variable (no merging). List variables separate entries by commas or colons;
    PODSPEC_REQUIRE_ENCRYPTED_SECRETS is on when 1, true or yes.
    """
    from podspec.policy import make_policy, split_list

    def pick(values: Sequence[str] | None, flag: str, variable: str) -> tuple[tuple[str, ...], str]:
        if values:
            return tuple(values), flag
        return split_list(env.get(variable, "")), variable

    if profile is not None:
        chosen = (profile, "--policy")
    elif env.get(POLICY_ENV, "").strip():
        chosen = (env[POLICY_ENV], POLICY_ENV)
    else:
        chosen = ("baseline", "the default")
    return make_policy(
        chosen,
        host_paths=pick(host_paths, "--allow-host-path", ALLOW_HOST_PATHS_ENV),
        host_ports=pick(host_ports, "--allow-host-port", ALLOW_HOST_PORTS_ENV),
        capabilities=pick(capabilities, "--allow-capability", ALLOW_CAPABILITIES_ENV),
        annotations=pick(None, "", ALLOW_ANNOTATIONS_ENV),
        require_encrypted_secrets=require_encrypted_secrets
        or env.get(REQUIRE_ENCRYPTED_SECRETS_ENV, "").strip().lower() in ("1", "true", "yes"),
    )


def warn(desired: DesiredState, listener: Listener) -> None:
    """Each field that only means something to a cluster, once, as a warning."""
    for problem in desired.warnings:
        listener.warning(str(problem))
