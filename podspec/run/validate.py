"""`validate`: schema, semantic and policy checks of the manifests; no Podman needed."""

from __future__ import annotations

from dataclasses import replace

from podspec.run.manifests import Manifests, load
from podspec.run.reports import ValidateResult


def validate(manifests: Manifests) -> ValidateResult:
    """The checked manifests, or ManifestError carrying every problem found.

    Each file may be checked on its own: a ConfigMap or Secret its pods read that no file given
    defines is a warning (Kubernetes, too, accepts such a pod); diff and apply need it.

    SOPS-encrypted files are never decrypted here (no key needed, the same verdict in CI and on a
    laptop): their documents' shape is checked and the result lists them as encrypted."""
    return ValidateResult(load(replace(manifests, defined_elsewhere=True, decrypt=None)))
