"""What podspec accepts is real Kubernetes: manifests/ and the valid fixtures pass the official schema.

Checked offline with `kubernetes-validate` (it ships the OpenAPI schemas of each release), strict
(unknown fields are errors), against the newest release it ships. The exports the integration tests
produce are checked with `kubernetes_problems` too (tests/integration/test_export.py).
A file that podspec accepts and Kubernetes rejects is a bug in podspec's schema: report it, do not
weaken this check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def kubernetes_version() -> str:
    from kubernetes_validate import utils

    return utils.latest_version()


def kubernetes_problems(text: str) -> list[str]:
    """Every document of a YAML stream checked against the Kubernetes schema; [] when all pass."""
    import kubernetes_validate
    from kubernetes_validate.utils import ValidationError

    problems = []
    version = kubernetes_version()
    for index, document in enumerate(yaml.safe_load_all(text)):
        if document is None:
            continue
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except ValidationError as error:
            where = "/".join(str(p) for p in error.path)
            kind = document.get("kind") if isinstance(document, dict) else "?"
            problems.append(f"document {index} ({kind}): {where}: {error.message}")
    return problems


def valid_manifest_files() -> list[Path]:
    """manifests/ and every fixture directory of input podspec accepts (all but the *invalid* ones
    and the corpus of real manifests: valid/, equivalent/, and any added later)."""
    files = sorted((ROOT / "manifests").rglob("*.y*ml"))
    for directory in sorted(FIXTURES.iterdir()):
        # corpus/ holds real manifests as published, valid or not (test_corpus.py pins their verdicts)
        if directory.is_dir() and "invalid" not in directory.name and directory.name != "corpus":
            files += sorted(directory.rglob("*.y*ml"))
    return files


def test_the_files_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in valid_manifest_files()}
    assert "manifests/webserver.yaml" in names
    assert "tests/fixtures/valid/tutorial-generate-kube.yaml" in names


def test_a_recent_kubernetes_release_is_used():
    major, minor = (int(x) for x in kubernetes_version().split(".")[:2])
    assert (major, minor) >= (1, 30)


def test_the_check_rejects_what_kubernetes_rejects():
    bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - {name: a, image: b, bogus: 1}\n"
    assert len(kubernetes_problems(bad)) == 1
    assert "bogus" in kubernetes_problems(bad)[0]


@pytest.mark.parametrize("path", valid_manifest_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_podspec_accepts_and_kubernetes_accepts(path: Path):
    from podspec.loader import load

    load([str(path)])  # a valid fixture: podspec accepts it
    assert kubernetes_problems(path.read_text()) == []
