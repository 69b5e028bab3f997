"""`podspec diff -o markdown` against the private Podman: the pull-request comment a pipeline posts."""

from __future__ import annotations

import pytest

from tests.integration.manifests import podspec, sleeper, write

pytestmark = pytest.mark.podman


def test_diff_markdown_before_and_after_apply(podman, tmp_path):
    text = sleeper("pr-web").replace(
        'command: ["sleep", "100000"]',
        'command: ["sleep", "100000"]\n      env:\n        - {name: API_TOKEN, value: hunter2}\n        - {name: MODE, value: plain}')
    manifest = write(tmp_path, text)
    before = podspec(podman, "diff", manifest, "-o", "markdown")
    assert before.exit_code == 2, before.stderr
    assert before.output.splitlines()[:9] == [
        "<!-- podspec diff: project itest -->",
        "### podspec diff: project `itest`",
        "",
        "**2 to create, 0 to recreate, 0 to replace, 0 to start, 0 to remove**",
        "",
        "| Object | Change | Why |",
        "| --- | --- | --- |",
        "| network `podspec-itest` | create | the project's pods reach each other by name on it |",
        "| pod `pr-web` | create | not on the host |",
    ]
    assert "<summary>pod <code>pr-web</code>: create</summary>" in before.output
    assert "hunter2" not in before.output

    assert podspec(podman, "apply", manifest).exit_code == 0
    changed = write(tmp_path, text.replace("hunter2", "hunter3"), name="changed.yaml")
    after = podspec(podman, "diff", changed, "-o", "markdown")
    assert after.exit_code == 2
    assert "| pod `pr-web` | recreate main | the manifest changed |" in after.output
    assert "hunter" not in after.output
    assert 'containers[main].env[API_TOKEN]: "(redacted)" -> "(redacted)"' in after.output

    same = podspec(podman, "diff", manifest, "-o", "markdown")
    assert same.exit_code == 0
    assert "**No changes**: the host matches the manifests." in same.output
    assert "| pod `pr-web` | up to date |  |" in same.output
