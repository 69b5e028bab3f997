"""Saved plans against the private Podman: `diff --save-plan` then `apply --plan` carries out exactly
that plan; a plan is refused, with nothing changed, after a change by hand or a manifest edit."""

from __future__ import annotations

import json

import pytest

from tests.integration.manifests import ids, podspec, sleeper, write

pytestmark = pytest.mark.podman


def two_pods(command: str = "100000") -> str:
    return sleeper("plan-a") + "---\n" + sleeper("plan-b").replace("100000", command)


def test_a_saved_plan_is_applied_exactly_and_holds_no_secret(podman, tmp_path):
    manifest = write(tmp_path, two_pods().replace(
        'command: ["sleep", "100000"]', 'command: ["sleep", "100000"]\n      env:\n        - {name: API_TOKEN, value: hunter2}', 1))
    plan_file = tmp_path / "plan.json"
    saved = podspec(podman, "diff", manifest, "--save-plan", str(plan_file))
    assert saved.exit_code == 2, saved.stderr
    assert f"wrote the plan to {plan_file} (8 steps)" in saved.stderr
    text = plan_file.read_text()
    assert "hunter2" not in text
    data = json.loads(text)
    assert (data["format"], data["version"], data["project"]) == ("podspec-plan", 1, "itest")
    assert [s["action"] for s in data["steps"]] == (["create_network"] + ["create_pod", "create_container", "start_pod"] * 2
                                                    + ["create_volume"])  # the project network, its names record
    assert ids(podman) == {}  # saving a plan changes nothing

    checked = podspec(podman, "apply", "--plan", str(plan_file), manifest, "--dry-run")
    assert checked.exit_code == 2, checked.stderr  # the plan still fits; nothing done
    assert ids(podman) == {}

    applied = podspec(podman, "apply", "--plan", str(plan_file), manifest, "-o", "json")
    assert applied.exit_code == 0, applied.stderr + applied.output
    result = json.loads(applied.output)
    assert [(s["action"], s["resource"], s["cause"]) for s in result["plan"]] == [
        (s["action"], s["resource"], s["cause"]) for s in data["steps"]]
    assert result["result"] == {"status": "applied", "steps_done": 8}  # with the project network and its names record
    assert {"plan-a-main", "plan-b-main"} <= set(ids(podman))

    # The same plan again: the host is no longer what it saw (the pods exist now).
    again = podspec(podman, "apply", "--plan", str(plan_file), manifest)
    assert again.exit_code == 1
    assert "stale plan: container plan-a/main appeared since the plan was made" in again.stderr

    # An empty plan (nothing to do) applies as "nothing to do" while the host stays as it saw it.
    empty = tmp_path / "empty.json"
    assert podspec(podman, "diff", manifest, "--save-plan", str(empty)).exit_code == 0
    done = podspec(podman, "apply", "--plan", str(empty), manifest)
    assert done.exit_code == 0, done.stderr
    assert "Nothing to do." in done.output


def test_a_plan_is_refused_as_stale_after_a_change_by_hand(podman, tmp_path):
    manifest = write(tmp_path, two_pods())
    assert podspec(podman, "apply", manifest).exit_code == 0
    changed = write(tmp_path, two_pods(command="200000"))
    plan_file = str(tmp_path / "plan.json")
    assert podspec(podman, "diff", changed, "--save-plan", plan_file).exit_code == 2

    # By hand: the container the plan keeps is recreated (same name, new ID).
    podman.podman("rm", "-f", "-t", "0", "plan-a-main")
    podman.podman("create", "--pod", "plan-a", "--name", "plan-a-main", "docker.io/library/busybox:latest", "sleep", "1")
    before = ids(podman)
    refused = podspec(podman, "apply", "--plan", plan_file, changed)
    assert refused.exit_code == 1
    assert "stale plan: container plan-a/main was recreated since the plan was made" in refused.stderr
    assert "make a new plan" in refused.stderr and "nothing was changed" in refused.stderr
    assert ids(podman) == before  # nothing changed

    newest = json.loads(podspec(podman, "history", "-o", "json").output)["records"][0]
    assert newest["outcome"] == "failed" and newest["error"].startswith("stale plan:")


def test_a_plan_is_refused_as_stale_after_a_manifest_edit(podman, tmp_path):
    (tmp_path / "manifests").mkdir()
    manifest = write(tmp_path / "manifests", two_pods(), name="web.yaml")
    plan_file = str(tmp_path / "plan.json")
    assert podspec(podman, "diff", manifest, "--save-plan", plan_file).exit_code == 2
    write(tmp_path / "manifests", two_pods(command="300000"), name="web.yaml")
    refused = podspec(podman, "apply", "--plan", plan_file, manifest)
    assert refused.exit_code == 1
    assert f"stale plan: {manifest} changed since the plan was made" in refused.stderr
    assert ids(podman) == {}
    # Flags that contradict the plan are refused too, before anything is read.
    other = podspec(podman, "apply", "--plan", plan_file, manifest, "--prune")
    assert other.exit_code == 1 and "the plan was made without --prune" in other.stderr


def test_a_stopped_container_makes_the_plan_stale(podman, tmp_path):
    manifest = write(tmp_path, two_pods())
    assert podspec(podman, "apply", manifest).exit_code == 0
    plan_file = str(tmp_path / "plan.json")
    assert podspec(podman, "diff", manifest, "--save-plan", plan_file).exit_code == 0
    podman.podman("stop", "-t", "0", "plan-b-main")
    refused = podspec(podman, "apply", "--plan", plan_file, manifest)
    assert refused.exit_code == 1
    assert "container plan-b/main was running when the plan was made and is exited now" in refused.stderr


def test_a_plan_file_cannot_add_prune_to_what_the_command_line_reviewed(podman, tmp_path, monkeypatch):
    """The plan file is an artifact anyone who handles it can edit: one that asks for --prune (and
    has the steps to match) is refused unless the command line asks for it too; nothing changes."""
    manifest = write(tmp_path, two_pods())
    assert podspec(podman, "apply", manifest).exit_code == 0
    write(tmp_path, sleeper("plan-a"))
    plan_file = str(tmp_path / "plan.json")
    assert podspec(podman, "diff", manifest, "--prune", "--save-plan", plan_file).exit_code == 2
    before = ids(podman)
    refused = podspec(podman, "apply", "--plan", plan_file, manifest)
    assert refused.exit_code == 1
    assert "the plan asks for --prune, which the command line does not" in refused.stderr
    assert f"podspec apply --plan {plan_file} {manifest} --project itest --prune" in refused.stderr
    assert ids(podman) == before
    bare = podspec(podman, "apply", "--plan", plan_file)
    assert bare.exit_code == 1 and "needs its manifests and options on the command line" in bare.stderr

    # Signed plans (PODSPEC_PLAN_KEY) carry their options; an altered one is refused.
    monkeypatch.setenv("PODSPEC_PLAN_KEY", "s3cret-key")
    assert podspec(podman, "diff", manifest, "--save-plan", plan_file).exit_code == 0  # plan-b stays: nothing to do
    data = json.loads((tmp_path / "plan.json").read_text())
    data["options"]["prune"] = True
    (tmp_path / "plan.json").write_text(json.dumps(data))
    altered = podspec(podman, "apply", "--plan", plan_file)
    assert altered.exit_code == 1 and "its signature does not match" in altered.stderr
    assert ids(podman) == before
    assert podspec(podman, "diff", manifest, "--prune", "--save-plan", plan_file).exit_code == 2
    done = podspec(podman, "apply", "--plan", plan_file)
    assert done.exit_code == 0, done.stderr
    assert "plan-b-main" not in ids(podman) and ids(podman)["plan-a-main"] == before["plan-a-main"]


def test_the_command_diff_prints_is_the_one_that_applies_the_plan(podman, tmp_path, monkeypatch):
    """What a user types: `diff --prune --save-plan` in the manifests' repository (the default
    project, relative paths) prints the apply command; that command, as printed, carries it out."""
    import shlex

    from typer.testing import CliRunner

    from podspec.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "my manifests").mkdir()
    (tmp_path / "my manifests" / "pods.yaml").write_text(sleeper("typed-a") + "---\n" + sleeper("typed-b"))

    def run(*args: str):
        return CliRunner().invoke(app, [*args, "--url", podman.url], catch_exceptions=False)

    assert run("apply", "my manifests/").exit_code == 0
    (tmp_path / "my manifests" / "pods.yaml").write_text(sleeper("typed-a"))
    saved = run("diff", "my manifests/", "--prune", "--save-plan", "plan.json")
    assert saved.exit_code == 2, saved.stderr
    printed = saved.stderr.split("carry it out with: ", 1)[1].strip()
    assert printed == "podspec apply --plan plan.json 'my manifests/' --prune"
    done = run(*shlex.split(printed)[1:])
    assert done.exit_code == 0, done.stderr
    assert "typed-b-main" not in ids(podman) and "typed-a-main" in ids(podman)
