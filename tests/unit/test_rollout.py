"""Deployment rollouts (reconcile/rollout.py): the plan in phases of copies, each gated on the
previous one's readiness; and the workflow stopping a stalled rollout (on the FakeEngine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.engine.fake import FakeEngine
from podspec.loader import load
from podspec.model import Rollout
from podspec.observed import ContainerState
from podspec.plan import StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.reconcile.rollout import copy_index, phases
from podspec.run.apply import ApplyRequest, apply
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


def test_the_strategy_sets_the_batch_and_the_deadline(tmp_path):
    assert loaded(tmp_path, deployment("a", replicas=4)).pods[0].rollout == Rollout(1, 30)  # 25% of 4
    rolling = "  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 2, maxSurge: 0}}\n"
    assert loaded(tmp_path, deployment("a", replicas=4, strategy=rolling)).pods[0].rollout == Rollout(2, 30)
    half = "  strategy: {rollingUpdate: {maxUnavailable: 50%}}\n"
    assert loaded(tmp_path, deployment("a", replicas=4, strategy=half)).pods[0].rollout == Rollout(2, 30)
    recreate = "  strategy: {type: Recreate}\n"
    assert loaded(tmp_path, deployment("a", replicas=3, strategy=recreate)).pods[0].rollout == Rollout(3, 30)
    assert [copy_index(p) for p in loaded(tmp_path, deployment("a", replicas=3)).pods] == [0, 1, 2]


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


def test_a_stalled_rollout_stops_before_the_next_copy(tmp_path):
    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    path = tmp_path / "d.yaml"
    path.write_text(deployment("sleep 1", replicas=2, deadline=1))
    assert apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine).outcome is Outcome.APPLIED
    second = engine.containers["web-pod-1-httpd"].id
    real_run = engine.run

    def crashing(step):  # the new version exits as soon as it starts
        real_run(step)
        if step.kind is StepKind.START_CONTAINER and "sleep 2" in str(engine.containers[step.target].body):
            engine.set_state(step.target, ContainerState.EXITED, 1)

    engine.run = crashing  # type: ignore[method-assign]
    path.write_text(deployment("sleep 2", replicas=2, deadline=1))
    result = apply(ApplyRequest(Manifests((str(path),)), "demo"), lambda: engine)
    assert result.outcome is Outcome.FAILED and result.failure is not None
    assert "the rollout of Deployment web stalled" in result.failure.message
    assert engine.containers["web-pod-1-httpd"].id == second  # never touched
    assert result.failure.not_done and {s.lane for s in result.failure.not_done} == {"web-pod-1"}
    back = rollback(RollbackRequest("demo"), lambda: engine)  # after a failed apply: back to the last that ran
    assert back.restored_seq == 1 and "sleep 1" in str(engine.containers["web-pod-httpd"].body)
    assert engine.containers["web-pod-1-httpd"].id == second


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
