"""Rollbacks through the workflows and the CLI against the FakeEngine (the same cases run against
real Podman in tests/integration/test_rollback.py): `podspec rollback [--to]`, and
`apply --rollback-on-failure` after a failed step or a readiness deadline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.engine.fake import FakeEngine
from podspec.errors import RollbackRefused
from podspec.observed import ContainerState
from podspec.plan import StepKind
from podspec.run import history
from podspec.run.apply import ApplyRequest, DiffRequest, apply, diff
from podspec.run.listener import Recorder
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome, RollbackOutcome
from podspec.run.rollback import RollbackRequest, rollback
from tests.unit.fake_cli import cli_on_fake

IMAGES = ("docker.io/library/busybox:latest",)
runner = CliRunner()


def pod(name: str, command: str, env: str = "") -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "{command}"]{env}
"""


@pytest.fixture
def engine(monkeypatch) -> FakeEngine:
    fake = cli_on_fake(monkeypatch, IMAGES)
    return fake


def applied(engine: FakeEngine, path: Path, text: str, revision: str, **options):
    path.write_text(text)
    return apply(ApplyRequest(Manifests((str(path),)), "demo", revision=revision, **options), lambda: engine)


def command_of(engine: FakeEngine, container: str) -> str:
    """What the container runs (its create body's command, as the fake keeps it)."""
    return engine.containers[container].body["entrypoint"][-1]


def test_rollback_puts_the_previous_revision_back_and_the_files_then_show_as_pending(engine, tmp_path):
    path = tmp_path / "pods.yaml"
    applied(engine, path, pod("web", "sleep 1001"), "r1")
    applied(engine, path, pod("web", "sleep 1002") + "---\n" + pod("extra", "sleep 5"), "r2")
    assert command_of(engine, "web-main") == "sleep 1002"

    dry = rollback(RollbackRequest("demo", dry_run=True), lambda: engine)
    assert dry.outcome is Outcome.DRY_RUN and dry.pending and command_of(engine, "web-main") == "sleep 1002"
    done = rollback(RollbackRequest("demo"), lambda: engine)
    assert done.outcome is Outcome.APPLIED and done.restored_seq == 1 and done.revision == "r1"
    assert command_of(engine, "web-main") == "sleep 1001"
    assert "extra" not in engine.pods  # made by the later revision: removed
    newest = history.read(engine, "demo")[0]
    assert (newest.outcome, newest.restored, newest.revision) == ("rolled-back", 1, "r1")
    pending = diff(DiffRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert pending.diff.has_changes  # the manifests' change shows as pending

    again = rollback(RollbackRequest("demo", to="r2"), lambda: engine)  # forward again, by revision
    assert again.restored_seq == 2 and command_of(engine, "web-main") == "sleep 1002" and "extra" in engine.pods
    assert rollback(RollbackRequest("demo", to="#2"), lambda: engine).outcome is Outcome.NO_CHANGES


def test_rollback_refuses_clearly_and_changes_nothing(engine, tmp_path):
    with pytest.raises(RollbackRefused, match="no apply is recorded"):
        rollback(RollbackRequest("demo"), lambda: engine)
    path = tmp_path / "pods.yaml"
    applied(engine, path, pod("web", "sleep 1001"), "r1")
    with pytest.raises(RollbackRefused, match="no earlier revision"):
        rollback(RollbackRequest("demo"), lambda: engine)
    with pytest.raises(RollbackRefused, match="no record 'nope'"):
        rollback(RollbackRequest("demo", to="nope"), lambda: engine)
    result = runner.invoke(app, ["rollback", "--project", "demo", "--to", "7"])
    assert result.exit_code == 1 and "no record '7'" in result.stderr and "Traceback" not in result.stderr


def test_a_moved_tag_is_not_followed_the_container_is_made_from_the_image_it_ran(engine, tmp_path):
    path = tmp_path / "pods.yaml"
    first = engine.images_[next(iter(engine.images_))].id
    applied(engine, path, pod("web", "sleep 1001"), "r1")
    applied(engine, path, pod("web", "sleep 1002"), "r2")
    engine.add_image("docker.io/library/busybox:latest", image_id="f" * 64)  # the tag moves
    old = engine.images_[first]  # the old image is still on the host, under another name
    engine.images_[first] = type(old)(first, ("localhost/kept:old",), old.config)
    done = rollback(RollbackRequest("demo"), lambda: engine)
    assert done.pinned and engine.containers["web-main"].image in (first, f"sha256:{first}")


def test_rollback_on_a_failed_step_restores_what_ran(engine, tmp_path):
    path = tmp_path / "pods.yaml"
    applied(engine, path, pod("web", "sleep 1001"), "r1")
    engine.fail(StepKind.START_CONTAINER, "web-main")
    heard = Recorder()
    path.write_text(pod("web", "sleep 1002") + "---\n" + pod("fresh", "sleep 3"))
    result = apply(ApplyRequest(Manifests((str(path),)), "demo", revision="r2", rollback_on_failure=True),
                   lambda: engine, heard)
    assert result.outcome is Outcome.FAILED and result.rollback is not None
    assert result.rollback.outcome is RollbackOutcome.RESTORED
    assert result.rollback.restored == ("web",) and result.rollback.removed == ("fresh",)
    assert command_of(engine, "web-main") == "sleep 1001" and "fresh" not in engine.pods
    assert engine.containers["web-main"].state is ContainerState.RUNNING
    [rolled, failed, first] = history.read(engine, "demo")
    assert (rolled.outcome, failed.outcome, failed.revision, first.revision) == ("rolled-back", "failed", "r2", "r1")
    assert (rolled.revision, rolled.restored) == ("r1", 1)
    assert any("rolling back" in w for w in heard.warnings)


def test_rollback_on_a_readiness_deadline_restores_and_says_what_failed(engine, tmp_path, monkeypatch):
    path = tmp_path / "pods.yaml"
    applied(engine, path, pod("web", "sleep 1001"), "r1")
    real_run = engine.run

    def crashing(step):  # the new version exits as soon as it starts
        real_run(step)
        if step.kind is StepKind.START_CONTAINER and "1002" in json.dumps(engine.inspect_container(step.target)):
            engine.set_state(step.target, ContainerState.EXITED, 1)

    monkeypatch.setattr(engine, "run", crashing)
    path.write_text(pod("web", "sleep 1002"))
    result = runner.invoke(app, ["apply", str(path), "--project", "demo", "--wait", "--timeout", "1",
                                 "--rollback-on-failure", "--revision", "r2"])
    assert result.exit_code == 1
    assert "not ready after 1s" in result.stderr and "rolled back" in result.stderr and "restored web" in result.stderr
    assert command_of(engine, "web-main") == "sleep 1001"
    assert engine.containers["web-main"].state is ContainerState.RUNNING


def test_rollback_on_failure_refuses_before_any_change_when_what_runs_is_in_no_record(engine, tmp_path):
    path = tmp_path / "pods.yaml"
    applied(engine, path, pod("web", "sleep 1001"), "r1")
    for name in list(engine.secrets):  # the history lost (a host from before podspec kept pods)
        del engine.secrets[name]
    before = {n: c.id for n, c in engine.containers.items()}
    path.write_text(pod("web", "sleep 1002"))
    with pytest.raises(RollbackRefused, match="runs a state no history record holds"):
        apply(ApplyRequest(Manifests((str(path),)), "demo", rollback_on_failure=True), lambda: engine)
    assert {n: c.id for n, c in engine.containers.items()} == before


def test_a_rollback_stopped_part_way_converges_when_run_again(engine, tmp_path):
    path = tmp_path / "pods.yaml"
    applied(engine, path, pod("web", "sleep 1001") + "---\n" + pod("db", "sleep 2001"), "r1")
    applied(engine, path, pod("web", "sleep 1002") + "---\n" + pod("db", "sleep 2002"), "r2")
    engine.fail(StepKind.START_CONTAINER, "db-main")  # the rollback dies part way (as a kill would leave it)
    broken = rollback(RollbackRequest("demo", parallel=1), lambda: engine)
    assert broken.outcome is Outcome.FAILED and 0 < broken.steps_done < len(broken.plan.steps)
    again = rollback(RollbackRequest("demo"), lambda: engine)  # the same target: the one it was putting back
    assert again.outcome is Outcome.APPLIED and again.restored_seq == 1
    assert command_of(engine, "web-main") == "sleep 1001" and command_of(engine, "db-main") == "sleep 2001"
    assert all(c.state is ContainerState.RUNNING for c in engine.containers.values() if not c.is_infra)
    assert rollback(RollbackRequest("demo", to="1"), lambda: engine).outcome is Outcome.NO_CHANGES
