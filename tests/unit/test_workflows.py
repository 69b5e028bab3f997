"""The workflows (podspec.run) against the FakeEngine: what each command does, with plain data.

The FakeEngine keeps the same contract as real Podman (tests/contract/), so these prove the
sequencing (refuse bad input before any error of Podman's and any change, observe once, pull before planning, stop at a failed step,
converge on the next run) without a Podman service.
"""

from __future__ import annotations

import io

import pytest

from podspec.engine.fake import Call, FakeEngine
from podspec.errors import ConflictError, ImageUnavailable, ManifestError, PodmanUnavailable, UsageError
from podspec.observed import ContainerState
from podspec.plan import StepKind
from podspec.reconcile.changes import Action
from podspec.run.apply import ApplyRequest, DiffRequest, apply, diff
from podspec.run.delete import DeleteRequest, delete
from podspec.run.export import ExportRequest, export
from podspec.run.listener import Recorder
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome, PullStatus
from podspec.run.status import status

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
POD = "dynamic-webserver"
TUTORIAL = "manifests/webserver.yaml"


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(images=IMAGES, pullable=IMAGES)


def opener(engine: FakeEngine):
    engine.closed = False
    opened = []

    def connect() -> FakeEngine:
        opened.append(1)
        engine.closed = False
        return engine

    connect.opened = opened  # type: ignore[attr-defined]
    return connect


def request(*paths: str, **options) -> ApplyRequest:
    return ApplyRequest(Manifests(paths or (TUTORIAL,)), project="demo", **options)


def run_calls(engine: FakeEngine) -> list[str]:
    """The plan steps run (an apply's history record, reconcile/history.py, is not a plan step)."""
    kinds = {k.value for k in StepKind}
    return [c.method for c in engine.calls if c.method in kinds and not c.argument.startswith("podspec-history-")]


def test_apply_from_empty_then_again_changes_nothing(engine):
    first = apply(request(), opener(engine))
    assert first.outcome is Outcome.APPLIED and first.steps_done == len(first.plan.steps) > 0
    assert engine.containers[f"{POD}-apache-httpd"].state is ContainerState.RUNNING
    assert engine.closed, "the workflow closes the engine it opened"
    ids = {name: c.id for name, c in engine.containers.items()}
    engine.calls.clear()

    second = apply(request(), opener(engine))
    assert second.outcome is Outcome.NO_CHANGES and second.plan.empty
    assert run_calls(engine) == []
    assert engine.count("observe") == 1, "the host is read once"
    assert {name: c.id for name, c in engine.containers.items()} == ids


def test_dry_run_plans_without_a_single_step(engine):
    recorder = Recorder()
    result = apply(request(dry_run=True), opener(engine), recorder)
    assert result.outcome is Outcome.DRY_RUN and not result.plan.empty
    assert run_calls(engine) == [] and engine.count("pull") == 0
    assert recorder.plan == result.plan and recorder.diff == result.diff


def test_bad_manifests_change_nothing_and_close_what_was_opened(engine, tmp_path):
    """The host is read while the manifests load (run/reading.py); refused manifests leave that read
    unused, change nothing, and the engine it opened is closed."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n")
    for workflow in (apply, diff):
        connect = opener(engine)
        with pytest.raises(ManifestError):
            workflow(request(str(broken)), connect)
        assert engine.changes() == [] and engine.count("pull") == 0
        assert engine.calls[-1] == Call("close")


def test_bad_manifests_come_before_an_unreachable_podman(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n")

    def unreachable() -> FakeEngine:
        raise PodmanUnavailable("cannot connect to Podman at unix:///nowhere", "start it")

    for workflow in (apply, diff):
        with pytest.raises(ManifestError):
            workflow(request(str(broken)), unreachable)
        with pytest.raises(PodmanUnavailable, match="cannot connect to Podman at unix:///nowhere"):
            workflow(request(), unreachable)  # good manifests: now the connection's error


def test_prune_volumes_without_prune_is_refused_before_anything(engine):
    with pytest.raises(UsageError, match="--prune-volumes only works with --prune"):
        apply(request(prune_volumes=True), opener(engine))
    assert engine.calls == []


def test_a_failed_step_is_a_result_and_the_next_apply_converges(engine):
    engine.fail(StepKind.CREATE_CONTAINER, f"{POD}-apache-httpd", "image not known")
    failed = apply(request(), opener(engine))
    assert failed.outcome is Outcome.FAILED
    assert failed.failure is not None and "image not known" in failed.failure.message
    assert failed.steps_done < len(failed.plan.steps)
    assert [s.describe() for s in failed.failure.not_done][-2:] == [f"start pod {POD}", "create volume podspec-names.demo"]

    again = apply(request(), opener(engine))
    assert again.outcome is Outcome.APPLIED
    assert engine.containers[f"{POD}-apache-httpd"].state is ContainerState.RUNNING
    assert apply(request(), opener(engine)).outcome is Outcome.NO_CHANGES


def test_absent_images_are_pulled_before_planning():
    engine = FakeEngine(pullable=IMAGES)
    recorder = Recorder()
    result = apply(request(), opener(engine), recorder)
    assert result.outcome is Outcome.APPLIED
    pulls = [c.argument for c in engine.calls if c.method == "pull"]
    assert sorted(pulls) == sorted(IMAGES)
    first_step = next(i for i, c in enumerate(engine.calls) if c.method == "create_volume")
    assert max(i for i, c in enumerate(engine.calls) if c.method == "pull") < first_step
    started = [e.reference for e in recorder.pulls if e.status is PullStatus.STARTED]
    done = [e.reference for e in recorder.pulls if e.status is PullStatus.DONE]
    assert sorted(started) == sorted(done) == sorted(IMAGES)


def test_an_image_that_cannot_be_had_stops_everything_before_any_change():
    engine = FakeEngine(images=IMAGES[1:])  # httpd absent and not pullable
    with pytest.raises(ImageUnavailable, match="docker.io/library/httpd:2.4 .* is not on the host and cannot be pulled"):
        apply(request(), opener(engine))
    assert run_calls(engine) == []


def test_diff_never_pulls_and_says_what_apply_would_pull():
    engine = FakeEngine(images=IMAGES[:1], pullable=IMAGES)
    recorder = Recorder()
    result = diff(DiffRequest(Manifests((TUTORIAL,)), project="demo"), opener(engine), recorder)
    assert result.diff.has_changes
    assert engine.count("pull") == 0 and run_calls(engine) == []
    assert "image docker.io/library/alpine:latest is not on the host; apply will pull it" in recorder.warnings


def test_conflicts_are_raised_after_the_diff_is_shown(engine):
    apply(request(), opener(engine))
    other = ApplyRequest(Manifests((TUTORIAL,)), project="someone-else")
    recorder = Recorder()
    with pytest.raises(ConflictError):
        apply(other, opener(engine), recorder)
    assert recorder.diff is not None and recorder.diff.conflicts
    assert recorder.plan is None


def test_delete_keeps_volumes_unless_asked(engine):
    apply(request(), opener(engine))
    kept = delete(DeleteRequest(Manifests((TUTORIAL,)), project="demo"), opener(engine))
    assert POD not in engine.pods and "webserver-data" in engine.volumes
    assert kept.volumes_kept == ("webserver-data",)
    gone = delete(DeleteRequest(Manifests((TUTORIAL,)), project="demo", volumes=True), opener(engine))
    assert "webserver-data" not in engine.volumes and gone.volumes_kept == ()


def test_delete_dry_run_changes_nothing(engine):
    apply(request(), opener(engine))
    engine.calls.clear()
    result = delete(DeleteRequest(Manifests((TUTORIAL,)), project="demo", dry_run=True), opener(engine))
    assert [s.kind for s in result.plan.steps][:2] == [StepKind.STOP_POD, StepKind.REMOVE_POD]
    assert run_calls(engine) == []


def test_status_reports_a_container_stopped_by_hand(engine):
    apply(request(), opener(engine))
    engine.set_state(f"{POD}-apache-httpd", ContainerState.EXITED, 137)
    result = status("demo", opener(engine))
    assert [p.name for p in result.pods] == [POD]
    assert f"container {POD}-apache-httpd is exited" in result.pods[0].drift
    repaired = apply(request(), opener(engine))
    assert [(c.name, c.action) for p in repaired.diff.pods for c in p.containers] == [
        (f"{POD}-apache-httpd", Action.START)]


def test_export_of_an_applied_pod_applies_back_with_no_changes(engine, tmp_path):
    apply(request(), opener(engine))
    exported = export(ExportRequest(pods=(POD,)), opener(engine))
    assert exported.pods == 1 and exported.claims == 1
    again = ApplyRequest(Manifests(("-",), stdin=io.StringIO(exported.text)), project="demo")
    assert apply(again, opener(engine)).outcome is Outcome.NO_CHANGES


def test_export_needs_a_pod_name_or_all(engine):
    with pytest.raises(UsageError, match="name at least one pod, or pass --all"):
        export(ExportRequest(), opener(engine))
