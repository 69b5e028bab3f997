"""The steps commands share: read manifests, name the project, reach Podman, read the host."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import typer

from podspec.run import project as project_rules

if TYPE_CHECKING:
    from podspec.engine.podman import PodmanEngine
    from podspec.model import DesiredState
    from podspec.observed import ObservedState
    from podspec.policy import Policy

POLICY_ENV = "PODSPEC_POLICY"
ALLOW_HOST_PATHS_ENV = "PODSPEC_ALLOW_HOST_PATHS"
ALLOW_HOST_PORTS_ENV = "PODSPEC_ALLOW_HOST_PORTS"
ALLOW_CAPABILITIES_ENV = "PODSPEC_ALLOW_CAPABILITIES"


def load_desired(paths: list[str], *, policy: Policy | None) -> DesiredState:
    """Read and check the manifests, then the security policy: both before any Podman call.

    `policy=None` skips the policy; only for commands that cannot add anything to the host (delete).
    """
    from podspec.loader import load

    if policy is None:
        return load(paths, stdin=sys.stdin)
    from podspec.policy import check

    return load(paths, stdin=sys.stdin, extra_checks=lambda state: check(state, policy))


def policy_from(
    profile: str | None,
    host_paths: Sequence[str] | None,
    host_ports: Sequence[str] | None,
    capabilities: Sequence[str] | None,
    env: Mapping[str, str] = os.environ,
) -> Policy:
    """The policy from the flags; each one absent falls back to its environment variable.

    A flag replaces its variable (no merging). List variables separate entries by commas or colons.
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
    )


def project_name(flag: str | None, paths: list[str]) -> str:
    return project_rules.resolve(flag, os.environ, paths, Path.cwd())


def open_engine(url: str | None, connection: str | None) -> PodmanEngine:
    from podspec.engine.podman import connect

    return connect(url, connection, os.environ)


def prepare_images(
    engine: PodmanEngine, desired: DesiredState, observed: ObservedState, say: Callable[[str], None],
    pull: bool,
) -> ObservedState:
    """Before planning: pull what the pull policies ask for (only when `pull`; otherwise say what
    apply would pull), and fail before any change when an image cannot be had or runAsNonRoot
    cannot hold for it. diff and apply --dry-run run the same checks without pulling."""
    from dataclasses import replace

    from podspec.errors import PodspecError
    from podspec.reconcile import pulls as images

    pulled = False
    for need in images.needs(desired, observed):
        if not need.pull:
            if not need.present:
                raise images.missing_error(need, "")
            continue
        if not pull:
            if not need.present:
                say_err(f"warning: image {need.reference} is not on the host; apply will pull it")
            continue
        say(f"pull {need.reference} (imagePullPolicy {need.policy.value})")
        try:
            engine.pull(need.reference)
            pulled = True
        except PodspecError as error:
            if not need.present:
                raise images.missing_error(need, error.message) from None
            say_err(f"warning: using the local {need.reference}: {error.message}")
    if pulled:
        observed = replace(observed, images=engine.images())
    if images.uses_sub_path(desired):
        refused = images.unsupported(desired, engine.version())
        if refused:
            raise PodspecError("this Podman cannot do what the manifests ask:\n  " + "\n  ".join(refused),
                               "upgrade Podman, or mount a volume of its own instead of a subPath; nothing was changed")
    problems = []
    for image, users in images.needs_user_check(desired).items():
        if observed.image_id(image) is None:
            continue  # not here yet (dry run): checked when apply has pulled it
        user = str(((engine.inspect_image(image).get("Config") or {}).get("User")) or "")
        problem = images.non_root_problem(image, user, users)
        if problem:
            problems.append(problem)
    if problems:
        raise PodspecError(
            "runAsNonRoot cannot hold:\n  " + "\n  ".join(problems),
            "set securityContext.runAsUser to a non-zero UID (or use an image whose USER is a non-zero UID); "
            "nothing was changed",
        )
    return observed


def colour_wanted() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def say_err(text: str) -> None:
    typer.echo(text, err=True)
