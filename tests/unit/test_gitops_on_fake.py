"""Revisions, history and saved plans through the workflows and the CLI against the FakeEngine
(the same cases run against real Podman in tests/integration/test_history.py and test_saved_plan.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.engine.fake import FakeEngine
from podspec.errors import StalePlan
from podspec.observed import ContainerState
from podspec.plan import StepKind
from podspec.run import history
from podspec.run.apply import ApplyRequest, DiffRequest, apply, diff
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome
from tests.unit.fake_cli import cli_on_fake

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
ROOT = Path(__file__).resolve().parents[2]
POD = "dynamic-webserver"
runner = CliRunner()


@pytest.fixture
def engine(monkeypatch) -> FakeEngine:
    fake = cli_on_fake(monkeypatch, IMAGES)
    return fake


@pytest.fixture
def manifest(tmp_path) -> str:
    path = tmp_path / "webserver.yaml"
    shutil.copy(ROOT / "manifests" / "webserver.yaml", path)
    return str(path)


def test_every_apply_is_recorded_with_one_call_and_status_shows_the_revision(engine, manifest):
    first = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r1"), lambda: engine)
    assert first.record is not None and (first.record.seq, first.record.outcome) == (1, "applied")
    assert engine.count(StepKind.CREATE_SECRET.value, first.record.volume) == 1
    assert first.record.volume.startswith("podspec-history-") and "-000001-" in first.record.volume
    engine.calls.clear()
    second = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r2"), lambda: engine)
    assert second.outcome is Outcome.NO_CHANGES
    calls = [c.method for c in engine.calls]
    # Nothing to do: one read (the host, then the images the manifests name), no lock (as diff), and
    # the record: one call, no extra read.
    assert calls == ["observe", "images_named", "create_secret", "close"]
    dry = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r3", dry_run=True), lambda: engine)
    assert dry.record is None
    assert [(r.seq, r.revision, r.outcome, r.unchanged) for r in history.read(engine, "demo")] == [
        (2, "r2", "no-changes", (POD,)), (1, "r1", "applied", ())]

    status = runner.invoke(app, ["status", "-o", "json"])
    assert json.loads(status.stdout)["pods"][0]["revision"] == "r2"
    listed = runner.invoke(app, ["history", "-p", "demo"])
    assert listed.exit_code == 0 and listed.stdout.splitlines()[1].split()[3:6] == ["demo", "r2", "no-changes"]


def test_an_apply_that_would_only_repeat_the_newest_record_writes_none(engine, manifest):
    apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r1"), lambda: engine)
    checked = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r1"), lambda: engine)
    assert checked.record is not None and (checked.record.seq, checked.record.outcome) == (2, "no-changes")
    engine.calls.clear()
    again = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r1"), lambda: engine)
    assert again.outcome is Outcome.NO_CHANGES and again.record is not None and again.record.seq == 2  # it stands for this one
    assert [c.method for c in engine.calls] == ["observe", "images_named", "close"]  # one read, no write
    newer = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r2"), lambda: engine)  # another revision: recorded
    assert newer.record is not None and newer.record.seq == 3
    assert [(r.seq, r.revision, r.outcome) for r in history.read(engine, "demo")] == [
        (3, "r2", "no-changes"), (2, "r1", "no-changes"), (1, "r1", "applied")]


def test_an_apply_with_changes_takes_the_lock_and_plans_from_a_reading_made_under_it(engine, manifest):
    first = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r1"), lambda: engine)
    assert first.outcome is Outcome.APPLIED
    calls = [c.method for c in engine.calls]
    # The reading without the lock found changes: the lock, then the host read again under it.
    assert calls[:4] == ["observe", "images_named", "create_lock", "observe"]
    assert calls[-4:] == ["create_secret", "lock_labels", "remove_lock", "close"]  # recorded under the lock


def test_the_host_changing_between_the_first_reading_and_the_lock_is_planned_from_the_second(engine, manifest):
    apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r1"), lambda: engine)
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED)  # the host drifts: an apply has something to do
    real_create_lock = engine.create_lock

    def another_apply_first(name, labels):  # ... and another apply repairs it before this one gets the lock
        engine.set_state(f"{POD}-apache-httpd", ContainerState.RUNNING)
        return real_create_lock(name, labels)

    engine.create_lock = another_apply_first  # type: ignore[method-assign]
    engine.calls.clear()
    result = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r2"), lambda: engine)
    assert result.outcome is Outcome.NO_CHANGES and result.plan.empty  # planned from the reading under the lock
    assert engine.count("observe") == 2 and engine.count("start_container") == 0


def test_an_apply_with_nothing_to_do_does_not_wait_for_a_held_lock(engine, manifest):
    from podspec.errors import LockTimeout
    from podspec.run.hostlock import lease_labels, lock_name

    apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r1"), lambda: engine)
    held = {**lease_labels("demo", "apply", 900, "other", 0.0 + 10**10), "io.podspec.lock.pid": "1"}
    assert engine.create_lock(lock_name("demo"), held)  # held by a live holder (another process)
    unchanged = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r2", lock_timeout=0), lambda: engine)
    assert unchanged.outcome is Outcome.NO_CHANGES and unchanged.record is not None and unchanged.record.seq == 2
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED)
    with pytest.raises(LockTimeout):  # something to do: it waits for the lock, and gives up
        apply(ApplyRequest(Manifests((manifest,)), "demo", revision="r3", lock_timeout=0), lambda: engine)


def test_a_failed_step_is_recorded_with_the_pod_not_done(engine, manifest):
    engine.fail(StepKind.START_POD)
    result = apply(ApplyRequest(Manifests((manifest,)), "demo", revision="bad"), lambda: engine)
    assert result.outcome is Outcome.FAILED
    [record] = history.read(engine, "demo")
    assert (record.outcome, record.changed, record.not_done) == ("failed", (), (POD,))
    assert "start pod" in record.error


def test_a_record_that_cannot_be_written_is_a_warning_not_a_failure(engine, manifest):
    from podspec.run.listener import Recorder

    engine.fail(StepKind.CREATE_SECRET, "", times=-1)
    heard = Recorder()
    result = apply(ApplyRequest(Manifests((manifest,)), "demo"), lambda: engine, heard)
    assert result.outcome is Outcome.APPLIED and result.record is None
    assert any("could not record this apply" in w for w in heard.warnings)


def test_a_saved_plan_applies_exactly_or_is_refused(engine, manifest, tmp_path):
    saved = diff(DiffRequest(Manifests((manifest,)), "demo", save_plan=True), lambda: engine).saved
    assert saved is not None and len(saved.steps) == 8
    done = apply(ApplyRequest(Manifests((manifest,)), "demo", saved=saved), lambda: engine)
    assert done.outcome is Outcome.APPLIED and done.steps_done == 8

    unchanged = diff(DiffRequest(Manifests((manifest,)), "demo", save_plan=True), lambda: engine).saved
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED)
    ids = {n: c.id for n, c in engine.containers.items()}
    with pytest.raises(StalePlan, match="container dynamic-webserver/apache-httpd was running when the plan was made"):
        apply(ApplyRequest(Manifests((manifest,)), "demo", saved=unchanged), lambda: engine)
    assert {n: c.id for n, c in engine.containers.items()} == ids


def test_cli_save_plan_then_apply_plan_and_a_manifest_edit(engine, manifest, tmp_path):
    plan_file = str(tmp_path / "plan.json")
    saved = runner.invoke(app, ["diff", manifest, "-p", "demo", "--save-plan", plan_file])
    assert saved.exit_code == 2 and "wrote the plan to" in saved.stderr
    Path(manifest).write_text(Path(manifest).read_text().replace("sleep 10", "sleep 11"))
    refused = runner.invoke(app, ["apply", "--plan", plan_file, manifest, "-p", "demo"])
    assert refused.exit_code == 1
    assert f"stale plan: {manifest} changed since the plan was made" in refused.stderr
    assert engine.count("observe") == 1  # only the diff's: the refusal needed no Podman
    assert runner.invoke(app, ["apply"]).exit_code == 1  # no paths, no plan
