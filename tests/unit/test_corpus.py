"""Real public manifests (tests/fixtures/corpus/): each file's verdict is pinned in verdicts.tsv.

The corpus holds Pod manifests and the documents beside them, as their authors published them,
from four kinds of source: kubernetes/website's examples, kubernetes/examples, Podman's own tests
and documentation (manifests embedded there, taken out whole), and third-party `podman kube play`
repositories. Each file names its source (repository, path, commit) in its first line.

A verdict is `accepted`, or `refused` with a fragment of the first problem: the field it names and
the start of the message (a field Podman cannot honour, or a real error in the file). A change in
what podspec accepts shows up here file by file; update verdicts.tsv on purpose when it is meant.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podspec.errors import ManifestError
from podspec.loader import load

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
SOURCE = re.compile(r"# source: https://github\.com/[\w.-]+/[\w.-]+ path \S+.* commit [0-9a-f]{40}$")


def corpus_files() -> list[str]:
    return sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml"))


def verdicts() -> dict[str, tuple[str, str]]:
    table = {}
    for line in (CORPUS / "verdicts.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, verdict, *fragment = line.split("\t")
        table[name] = (verdict, fragment[0] if fragment else "")
    return table


def test_the_corpus_is_large_and_varied_and_every_file_has_a_verdict():
    files = corpus_files()
    assert len(files) >= 100
    sources = {f.split("/")[0] for f in files}
    kinds = {"kubernetes-website", "kubernetes-examples", "containers-podman"} & sources
    assert len(kinds) == 3 and len(sources - kinds) >= 1, sources  # and third-party kube play repositories
    assert sorted(verdicts()) == files


@pytest.mark.parametrize("name", corpus_files())
def test_each_file_names_its_source(name):
    first = (CORPUS / name).read_text(encoding="utf-8").splitlines()[0]
    assert SOURCE.match(first), first


@pytest.mark.parametrize("name", corpus_files())
def test_each_files_verdict_holds(name):
    verdict, fragment = verdicts()[name]
    try:
        load([str(CORPUS / name)], defined_elsewhere=True)  # as `podspec validate FILE` reads it
    except ManifestError as error:
        first = error.problems[0]
        said = (f"{first.path}: " if first.path else "") + first.message
        assert verdict == "refused", f"accepted before, now refused: {said}"
        assert fragment in said, said
        return
    assert verdict == "accepted", f"refused before ({fragment}), now accepted"
