"""The steps commands share: read manifests, name the project, reach Podman, read the host."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import typer

from podspec import project as project_rules

if TYPE_CHECKING:
    from podspec.engine import PodmanEngine
    from podspec.model import DesiredState
    from podspec.observed import ObservedState


def load_desired(paths: list[str]) -> "DesiredState":
    from podspec.loader import load

    return load(paths, stdin=sys.stdin)


def project_name(flag: str | None, paths: list[str]) -> str:
    return project_rules.resolve(flag, os.environ, paths, Path.cwd())


def open_engine(url: str | None, connection: str | None) -> "PodmanEngine":
    from podspec.engine import connect

    return connect(url, connection, os.environ)


def refresh_images(
    engine: "PodmanEngine", desired: "DesiredState", observed: "ObservedState", say: Callable[[str], None]
) -> "ObservedState":
    """Pull what the pull policies ask for; fail before any change when an image cannot be had."""
    from dataclasses import replace

    from podspec import images
    from podspec.errors import PodspecError

    pulled = False
    for need in images.needs(desired, observed):
        if not need.pull:
            if not need.present:
                raise images.missing_error(need, "")
            continue
        say(f"pull {need.reference} (imagePullPolicy {need.policy.value})")
        try:
            engine.pull(need.reference)
            pulled = True
        except PodspecError as error:
            if not need.present:
                raise images.missing_error(need, error.message) from None
            say(f"warning: using the local {need.reference}: {error.message}")
    if pulled:
        observed = replace(observed, images=engine.images())
    return observed


def colour_wanted() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def say_err(text: str) -> None:
    typer.echo(text, err=True)
