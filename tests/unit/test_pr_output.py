"""Pull-request output: `diff -o markdown`, `validate -o markdown` and `validate -o github`, against
golden files in tests/unit/golden/ (regenerate with PODSPEC_UPDATE_GOLDEN=1 and review the diff),
the escaping rules, and the CLI for validate (diff's CLI runs against Podman: tests/integration)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec import render
from podspec.cli import app
from podspec.errors import Origin, Problem, UsageError
from podspec.model import EnvVar
from podspec.observed import ContainerState, ObservedPod, ObservedState, PodStatus
from podspec.reconcile import diff as differ
from podspec.run.reports import ValidateResult
from tests.unit.hosts import SIDECAR, applied, state, webserver, with_container, with_state

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parents[2]
UPDATER = "dynamic-webserver-apache-httpd-index-updater"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PODSPEC_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with PODSPEC_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()


def _conflict():
    hand_made = ObservedPod("x", "dynamic-webserver", PodStatus.RUNNING)
    return differ.compute(state(webserver()), ObservedState(pods=(hand_made,)), "demo")


DIFFS = {
    "create-from-empty": lambda: differ.compute(state(webserver()), ObservedState(), "demo"),
    "no-changes": lambda: differ.compute(state(webserver()), applied(state(webserver())), "demo"),
    "sidecar-command-changed": lambda: differ.compute(
        state(webserver(sidecar=SIDECAR.replace("sleep 10", "sleep 5"))), applied(state(webserver())), "demo"),
    "host-port-changed": lambda: differ.compute(state(webserver(port=9090)), applied(state(webserver())), "demo"),
    "container-stopped-by-hand": lambda: differ.compute(
        state(webserver()), with_state(applied(state(webserver())), UPDATER, ContainerState.EXITED), "demo"),
    "prune-pod-dropped": lambda: differ.compute(
        state(replace(webserver(), name="other")), applied(state(webserver())), "demo", prune=True),
    "secret-env-changed": lambda: differ.compute(
        state(with_container(webserver(), "apache-httpd", env=(EnvVar("DB_PASSWORD", "hunter2"), EnvVar("MODE", "a|b")))),
        applied(state(webserver())), "demo"),
    "conflict": _conflict,
}


@pytest.mark.parametrize("name", sorted(DIFFS))
def test_diff_markdown_matches_golden(name):
    text = render.diff_markdown(DIFFS[name]())
    assert "hunter2" not in text
    check_golden(f"diff-{name}.md", text)


PROBLEMS = (
    Problem(Origin("manifests/web.yaml", 9, 7), "spec.containers[0].imagee", 'unknown field "imagee"', "did you mean image?"),
    Problem(Origin("manifests/web.yaml", 14, 11), "spec.containers[0].env[0].value",
            "100% odd: a value with a\nnewline, a comma: and <html> | *stars* `ticks`", "fix it, then: retry"),
    Problem(Origin("manifests/odd, name:1.yaml"), "", "cannot read: Permission denied"),
)


def test_validate_markdown_matches_golden():
    check_golden("validate-problems.md", render.validate_markdown(None, tuple(sorted(PROBLEMS))))


def test_validate_markdown_when_valid():
    from podspec.model import DesiredState

    result = ValidateResult(DesiredState(pods=(webserver(),), files=("a.yaml", "b.yaml")))
    check_golden("validate-valid.md", render.validate_markdown(result))


def test_github_annotations_match_golden_and_escape_as_the_runner_expects():
    text = render.github_annotations(tuple(sorted(PROBLEMS)))
    check_golden("validate-problems.github.txt", text)
    lines = text.splitlines()
    assert len(lines) == 3  # a newline in a message never starts a new command
    assert lines[0] == ("::error file=manifests/odd%2C name%3A1.yaml,title=podspec validate::cannot read: Permission denied")
    assert "100%25 odd: a value with a%0Anewline" in lines[2]
    assert lines[2].startswith("::error file=manifests/web.yaml,line=14,col=11,title=podspec validate::")
    assert render.github_annotations(()) == ""
    assert render.github_error(UsageError("bad, really: bad", "x")) == "::error title=podspec::bad, really: bad (x)\n"


def test_markdown_escaping():
    assert render.md_text("<b>*x*</b> | `y`") == "&lt;b&gt;\\*x\\*&lt;/b&gt; \\| \\`y\\`"


# ------------------------------------------------------------------------------------- the CLI

runner = CliRunner()


@pytest.fixture
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_cli_validate_markdown(in_repo_root):
    bad = runner.invoke(app, ["validate", "-o", "markdown", "tests/fixtures/invalid/unknown-field.yaml"])
    assert bad.exit_code == 1
    assert bad.stdout.startswith("<!-- podspec validate -->\n### podspec validate\n\n**2 problems** in 1 file;")
    assert "- **9:7** `spec.containers[0].imagee`: unknown field \"imagee\" (did you mean image?)" in bad.stdout
    good = runner.invoke(app, ["validate", "-o", "markdown", "tests/fixtures/valid/tutorial-generate-kube.yaml"])
    assert (good.exit_code, good.stdout.splitlines()[-1]) == (0, "**Valid**: 1 file, 1 pod, 0 volume claims.")


def test_cli_validate_github(in_repo_root):
    bad = runner.invoke(app, ["validate", "-o", "github", "tests/fixtures/invalid/unknown-field.yaml"])
    assert bad.exit_code == 1
    assert bad.stdout.splitlines() == [
        "::error file=tests/fixtures/invalid/unknown-field.yaml,line=9,col=7,title=podspec validate::"
        "spec.containers[0].imagee: unknown field \"imagee\" (did you mean image?)",
        "::error file=tests/fixtures/invalid/unknown-field.yaml,line=10,col=7,title=podspec validate::"
        "spec.containers[0].portz: unknown field \"portz\" (did you mean ports?)",
    ]
    good = runner.invoke(app, ["validate", "-o", "github", "tests/fixtures/valid/tutorial-generate-kube.yaml"])
    assert (good.exit_code, good.stdout) == (0, "")


def test_cli_markdown_and_github_only_where_they_make_sense(in_repo_root):
    assert runner.invoke(app, ["status", "-o", "markdown"]).exit_code == 2  # typer: not a choice
    assert runner.invoke(app, ["diff", "-o", "github", "manifests/"]).exit_code == 2


def test_diff_markdown_shows_a_pod_joining_the_network_as_the_text_does():
    from podspec.reconcile.network import AttachAction, Attachment, NetworkChanges

    diff = differ.compute(state(webserver()), applied(state(webserver())), "demo")
    joining = Attachment("dynamic-webserver", AttachAction.CONNECT, "0123abcd", "podspec-demo",
                         "on Podman's default network, not the project's")
    diff = replace(diff, network=NetworkChanges("podspec-demo", attachments=(joining,)))
    row = "| pod `dynamic-webserver` | connect to network podspec-demo | on Podman's default network, not the project's |"
    markdown = render.diff_markdown(diff)
    assert row in markdown.splitlines()
    assert "up to date" not in markdown  # the pod's only row is its change
    assert "~ pod dynamic-webserver: connect to network podspec-demo" in render.diff_text(diff)
