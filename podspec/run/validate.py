"""`validate`: schema, semantic and policy checks of the manifests; no Podman needed."""

from __future__ import annotations

from podspec.run.manifests import Manifests, load
from podspec.run.results import ValidateResult


def validate(manifests: Manifests) -> ValidateResult:
    """The checked manifests, or ManifestError carrying every problem found."""
    return ValidateResult(load(manifests))
