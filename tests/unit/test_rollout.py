"""Deployment rollouts (reconcile/rollout.py): the plan in phases of copies, each gated on the
previous one's readiness; and the workflow stopping a stalled rollout (on the FakeEngine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec import names
from podspec.engine.fake import FakeEngine
from podspec.errors import ManifestError
from podspec.loader import load
from podspec.model import Rollout
from podspec.observed import ContainerState
from podspec.plan import StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.reconcile.rollout import copy_index, phases
from podspec.run.apply import ApplyRequest, DiffRequest, apply, diff
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome
from podspec.run.rollback import RollbackRequest, rollback

IMAGES = ("docker.io/library/busybox:latest",)


def deployment(command: str, replicas: int = 3, strategy: str = "", deadline: int = 30) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  progressDeadlineSeconds: {deadline}
  selector: {{matchLabels: {{app: web}}}}
{strategy}  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: httpd
          image: docker.io/library/busybox:latest
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "{command}"]
"""


def loaded(tmp_path: Path, text: str):
    path = tmp_path / "d.yaml"
    path.write_text(text)
    return load([str(path)])


def test_the_strategy_sets_surge_batch_and_deadline_as_kubernetes_rounds(tmp_path):
    # 25%/25% by default: maxSurge rounded up, maxUnavailable down
    assert loaded(tmp_path, deployment("a", replicas=4)).pods[0].rollout == Rollout(1, 30, surge=1)
    assert loaded(tmp_path, deployment("a", replicas=2)).pods[0].rollout == Rollout(0, 30, surge=1)
    assert loaded(tmp_path, deployment("a", replicas=10)).pods[0].rollout == Rollout(2, 30, surge=3)
    rolling = "  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 2, maxSurge: 0}}\n"
    assert loaded(tmp_path, deployment("a", replicas=4, strategy=rolling)).pods[0].rollout == Rollout(2, 30)
    half = "  strategy: {rollingUpdate: {maxUnavailable: 50%}}\n"
    assert loaded(tmp_path, deployment("a", replicas=4, strategy=half)).pods[0].rollout == Rollout(2, 30, surge=1)
    # both resolving to 0 by rounding: one in place, as Kubernetes' ResolveFenceposts does
    none = "  strategy: {rollingUpdate: {maxUnavailable: 25%, maxSurge: 0}}\n"
    assert loaded(tmp_path, deployment("a", replicas=2, strategy=none)).pods[0].rollout == Rollout(1, 30)
    recreate = "  strategy: {type: Recreate}\n"
    assert loaded(tmp_path, deployment("a", replicas=3, strategy=recreate)).pods[0].rollout == Rollout(3, 30)
    assert [copy_index(p) for p in loaded(tmp_path, deployment("a", replicas=3)).pods] == [0, 1, 2]
    path = tmp_path / "d.yaml"  # both written as 0: Kubernetes refuses it
    path.write_text(deployment("a", strategy="  strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 0}}\n"))
    with pytest.raises(ManifestError) as caught:
        load([str(path)])
    assert "maxUnavailable may not be 0 when maxSurge is 0" in str(caught.value.problems)


def test_a_copy_with_a_host_port_cannot_surge_and_the_plan_says_why(tmp_path):
    text = deployment("sleep 1", replicas=1).replace(
        "          command:", "          ports: [{containerPort: 80, hostPort: 18080}]\n          command:")
    single = loaded(tmp_path, text)
    assert single.pods[0].rollout == Rollout(1, 30, in_place="hostPort 18080")
    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    path = tmp_path / "d.yaml"
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    path.write_text(text.replace("sleep 1", "sleep 2"))
    found = diff(DiffRequest(Manifests((str(path),)), "demo"), lambda: engine).diff
    assert [p.name for p in found.pods] == ["web-pod"]  # in place, under its own name
    assert "in place: hostPort 18080 cannot be taken twice on one host (maxSurge not used)" in found.pods[0].containers[0].cause


def test_copy_names_are_written_and_read_in_one_home():
    w = "Deployment web"
    assert [names.copy_name("web", i) for i in range(3)] == ["web-pod", "web-pod-1", "web-pod-2"]
    assert [names.other_name(n, w) for n in ("web-pod", "web-pod-b", "web-pod-12", "web-pod-12-b")] == [
        "web-pod-b", "web-pod", "web-pod-12-b", "web-pod-12"]
    assert [names.copy_of(n, w) for n in ("web-pod-b", "web-pod-3-b", "web-pod-x", "web-pod-03", "web-pod")] == [
        "web-pod", "web-pod-3", "", "", "web-pod"]
    assert names.copy_of("web-pod", "Job web") == "" and names.copy_index("web-pod-3-b", w) == 3


def test_changed_copies_are_replaced_one_batch_per_phase_and_shared_removals_come_last(tmp_path):
    first = loaded(tmp_path, deployment("sleep 1"))
    engine = FakeEngine(images=IMAGES)
    plan = planner.build(differ.compute(first, engine.observe(), "demo"))
    made = phases(plan, first)
    assert [tuple(p.name for p in phase.gate) for phase in made] == [("web-pod",), ("web-pod-1",), ()]
    assert [{s.lane for s in phase.plan.steps} - {""} for phase in made] == [{"web-pod"}, {"web-pod-1"}, {"web-pod-2"}]
    assert sum(len(p.plan.steps) for p in made) == len(plan.steps) and made[0].deadline == 30
    single = loaded(tmp_path, deployment("sleep 1", replicas=1))
    one = planner.build(differ.compute(single, engine.observe(), "demo"))
    assert phases(one, single) == (phases(one, single)[0],) and phases(one, single)[0].plan == one  # nothing to gate


def crash_on(engine: FakeEngine, command: str) -> None:
    """Containers whose command has `command` exit as soon as they start."""
    real_run = engine.run

    def crashing(step):
        real_run(step)
        if step.kind in (StepKind.START_CONTAINER, StepKind.START_POD):
            for name, c in engine.containers.items():
                if command in str(c.body):
                    engine.set_state(name, ContainerState.EXITED, 1)

    engine.run = crashing  # type: ignore[method-assign]


def stalling(tmp_path):
    """Two copies of `sleep 1` applied, then the manifest moved to `sleep 2`, whose containers crash:
    its rollout stalls. Returns the engine, the manifest and the old copies' container IDs."""
    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    path = tmp_path / "d.yaml"
    path.write_text(deployment("sleep 1", replicas=2, deadline=1))
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    before = {name: c.id for name, c in engine.containers.items()}
    crash_on(engine, "sleep 2")
    path.write_text(deployment("sleep 2", replicas=2, deadline=1))
    return engine, path, before


def test_a_stalled_surge_stops_before_any_old_copy_goes_and_never_leaks_a_copy(tmp_path):
    engine, path, before = stalling(tmp_path)
    result = apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert result.outcome is Outcome.FAILED and result.failure is not None
    assert "the rollout of Deployment web stalled" in result.failure.message and "web-pod-b" in result.failure.message
    assert {n: engine.containers[n].id for n in before} == before  # no old copy was touched
    assert sorted(engine.pods) == ["web-pod", "web-pod-1", "web-pod-b"]  # the surge copy stays, as Kubernetes' new pods do
    assert {s.target for s in result.failure.not_done if s.kind is StepKind.REMOVE_POD} == {"web-pod", "web-pod-1"}
    # The next apply (a fixed version) converges to exactly two copies, without an old one down first.
    path.write_text(deployment("sleep 3", replicas=2, deadline=1))
    fixed = apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert fixed.outcome is Outcome.APPLIED, fixed.failure
    assert sorted(engine.pods) == ["web-pod-1-b", "web-pod-b"]
    assert all("sleep 3" in str(engine.containers[f"{p}-httpd"].body) for p in engine.pods)
    again = apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert again.outcome is Outcome.NO_CHANGES and again.plan.empty


def test_a_stalled_surge_rolls_back_to_exactly_the_copies_that_ran(tmp_path):
    engine, path, before = stalling(tmp_path)
    result = apply(ApplyRequest(Manifests((str(path),)), "demo", rollback_on_failure=True), lambda: engine)
    assert result.outcome is Outcome.FAILED and result.rollback is not None and result.rollback.restored_ok
    assert result.rollback.removed == ("web-pod-1-b", "web-pod-b")  # the new copies the plan made, or would have
    assert sorted(engine.pods) == ["web-pod", "web-pod-1"] and {n: c.id for n, c in engine.containers.items()} == before
    # `podspec rollback` after a plain failed apply does the same
    failed = apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert failed.outcome is Outcome.FAILED and "web-pod-b" in engine.pods
    back = rollback(RollbackRequest("demo"), lambda: engine)
    assert back.outcome is Outcome.APPLIED and back.restored_seq == 3  # the rollback's record: what #1 held
    assert sorted(engine.pods) == ["web-pod", "web-pod-1"] and {n: c.id for n, c in engine.containers.items()} == before


def test_copies_surge_under_their_other_name_each_ready_before_the_old_one_goes(tmp_path):
    from podspec.run.listener import Recorder

    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    path = tmp_path / "d.yaml"
    path.write_text(deployment("sleep 1", replicas=2))
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    path.write_text(deployment("sleep 2", replicas=2))
    planned = diff(DiffRequest(Manifests((str(path),)), "demo"), lambda: engine).diff
    causes = {p.name: p.cause for p in planned.pods}
    assert causes == {
        "web-pod": "the old version of copy web-pod: removed once web-pod-b is ready",
        "web-pod-1": "the old version of copy web-pod-1: removed once web-pod-1-b is ready",
        "web-pod-b": "the new version of copy web-pod (the manifest changed), started beside web-pod (maxSurge 1), "
                     "which goes once this one is ready",
        "web-pod-1-b": "the new version of copy web-pod-1 (the manifest changed), started beside web-pod-1 (maxSurge 1), "
                       "which goes once this one is ready",
    }
    # what changes between the old copy and the new one, as a change in place would show it
    shown = {p.name: [(f.path, f.old, f.new) for f in p.fields] for p in planned.pods if p.name.endswith("-b")}
    assert shown == {name: [("containers[httpd].command[2]", "sleep 1", "sleep 2")] for name in ("web-pod-b", "web-pod-1-b")}
    order: list[str] = []
    real_run = engine.run

    def seen(step):
        real_run(step)
        if step.kind in (StepKind.START_POD, StepKind.REMOVE_POD):
            order.append(f"{step.kind.value} {step.target} ({len(engine.pods)} pods)")

    engine.run = seen  # type: ignore[method-assign]
    heard = Recorder()
    result = apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine, heard)
    assert result.outcome is Outcome.APPLIED
    # never more than replicas + maxSurge copies; each new one ready before an old one goes
    assert order == ["start_pod web-pod-b (3 pods)", "remove_pod web-pod (2 pods)",
                     "start_pod web-pod-1-b (3 pods)", "remove_pod web-pod-1 (2 pods)"]
    assert [i for i in heard.infos if i.startswith("Rollout")] == [
        "Rollout of Deployment web: waiting for web-pod-b to be ready before the next copies ...",
        "Rollout of Deployment web: web-pod-b ready.",
        "Rollout of Deployment web: waiting for web-pod-1-b to be ready before the next copies ...",
        "Rollout of Deployment web: web-pod-1-b ready."]
    assert engine.pods["web-pod-b"].body["hostname"] == "web-pod"  # what the copy sees of itself: its copy name
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).plan.empty  # read back: no change
    assert result.record is not None and set(result.record.running) == {"web-pod-b", "web-pod-1-b"}
    path.write_text(deployment("sleep 3", replicas=3))  # the next change moves them back; a third copy is made
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    assert sorted(engine.pods) == ["web-pod", "web-pod-1", "web-pod-2"] and "hostname" not in engine.pods["web-pod"].body
    path.write_text(deployment("sleep 3", replicas=1))  # and scaling down takes whichever name a copy runs under
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    assert sorted(engine.pods) == ["web-pod"]


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    monkeypatch.setattr("podspec.run.readiness.POLL_SECONDS", 0.05)


def test_a_rollback_of_a_deployment_replaces_its_copies_one_at_a_time_too(tmp_path):
    from podspec.run.listener import Recorder

    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    path = tmp_path / "d.yaml"
    for command in ("sleep 1", "sleep 2"):
        path.write_text(deployment(command, replicas=2))
        assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    heard = Recorder()
    back = rollback(RollbackRequest("demo"), lambda: engine, heard)
    assert back.outcome is Outcome.APPLIED and back.restored_seq == 1
    assert any("Rollout of Deployment web: waiting for web-pod to be ready" in i for i in heard.infos)
    assert all("sleep 1" in str(engine.containers[c].body) for c in ("web-pod-httpd", "web-pod-1-httpd"))


def test_a_copy_is_found_under_either_name_by_delete_stop_and_start(tmp_path):
    from podspec.run.delete import DeleteRequest, delete
    from podspec.run.lifecycle import LifecycleRequest, start, stop

    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    path = tmp_path / "d.yaml"
    for command in ("sleep 1", "sleep 2"):  # the second apply surges: the copies run as web-pod-b, web-pod-1-b
        path.write_text(deployment(command, replicas=2))
        assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    assert sorted(engine.pods) == ["web-pod-1-b", "web-pod-b"]
    stopped = stop(LifecycleRequest(pods=("web-pod",)), lambda: engine)  # named as the manifests name the copy
    assert stopped.pods == ("web-pod-b",)
    assert start(LifecycleRequest(pods=("web-pod",), wait=False), lambda: engine).pods == ("web-pod-b",)
    delete(DeleteRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert engine.pods == {}


def test_four_copies_take_one_surge_and_one_in_place_per_batch(tmp_path):
    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    path = tmp_path / "d.yaml"
    path.write_text(deployment("sleep 1", replicas=4))  # 25%/25%: maxSurge 1, maxUnavailable 1
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    most, real_run = [0], engine.run

    def counted(step):
        real_run(step)
        most[0] = max(most[0], len(engine.pods))

    engine.run = counted  # type: ignore[method-assign]
    path.write_text(deployment("sleep 2", replicas=4))
    result = apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert result.outcome is Outcome.APPLIED
    # copies 0 and 2 surged (the first of each batch of two), 1 and 3 changed in place
    assert sorted(engine.pods) == ["web-pod-1", "web-pod-2-b", "web-pod-3", "web-pod-b"]
    assert most[0] == 5  # replicas + maxSurge, never more
    assert all("sleep 2" in str(engine.containers[f"{p}-httpd"].body) for p in engine.pods)
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).plan.empty


def test_a_pod_named_like_a_copys_second_name_is_refused(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(deployment("sleep 1", replicas=2) + """---
apiVersion: v1
kind: Pod
metadata: {name: web-pod-1-b}
spec:
  containers: [{name: x, image: docker.io/library/busybox:latest}]
""")
    with pytest.raises(ManifestError) as caught:
        load([str(path)])
    assert "pod web-pod-1-b has the name Deployment web's copy web-pod-1 runs under during a rollout" in str(caught.value.problems)
