"""The engine contract for Podman secrets (ConfigMap and Secret keys), on the FakeEngine and a real
Podman: made before the containers that read them, observed as the project's (by labels, or on 4.3
by name), refused as Podman refuses, removed. The values never come back."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from podspec.engine.protocol import Engine
from podspec.errors import EngineError
from podspec.loader import load
from podspec.names import owns_secret
from podspec.plan import Plan, Step, StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from tests.contract.test_engine_contract import engine as engine
from tests.integration.podman_tcp import podman_tcp  # noqa: F401 - the tcp:// engine goes through it
from tests.integration.sshd import sshd  # noqa: F401 - the ssh:// engine goes through it

PROJECT = "contract"
POD = "contract-cfg"
VALUE = "c0ntract-Value"

MANIFEST = f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{app.conf: "listen 80"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData: {{token: {VALUE}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: {POD}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      volumeMounts:
        - {{name: conf, mountPath: /etc/app}}
        - {{name: creds, mountPath: /run/creds}}
  volumes:
    - {{name: conf, configMap: {{name: settings}}}}
    - {{name: creds, secret: {{secretName: creds, defaultMode: 0400}}}}
"""


@pytest.fixture
def clean(engine) -> Iterator[Engine]:
    """The real Podman's purge leaves secrets: remove the project's after each test."""
    yield engine
    state = engine.observe()
    for pod in state.pods:
        if pod.name == POD:
            for kind in (StepKind.STOP_POD, StepKind.REMOVE_POD):
                engine.run(Step(kind, POD, "clean up", timeout=1))
    for secret in state.secrets:
        if owns_secret(PROJECT, secret.name, dict(secret.labels), secret.labels_listed):
            engine.run(Step(StepKind.REMOVE_SECRET, secret.name, "clean up"))


def plan(engine: Engine, tmp_path: Path, text: str = MANIFEST) -> Plan:
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    return planner.build(differ.compute(load([str(path)]), engine.observe(), PROJECT))


def test_secrets_come_first_and_are_observed_as_the_projects(clean, tmp_path):
    engine = clean
    steps = plan(engine, tmp_path).steps
    assert [s.kind for s in steps][:2] == [StepKind.CREATE_SECRET, StepKind.CREATE_SECRET]
    for s in steps:
        engine.run(s)
    state = engine.observe()
    ours = [s for s in state.secrets if owns_secret(PROJECT, s.name, dict(s.labels), s.labels_listed)]
    assert sorted(s.name for s in ours) == sorted(s.target for s in steps[:2])
    assert all(s.labels_listed is not engine.version().startswith("4.") for s in ours)
    assert VALUE not in repr(state)
    assert plan(engine, tmp_path).empty  # applied: nothing more to do


def test_podman_refuses_a_taken_name_an_unknown_secret_and_a_container_without_its_secret(clean, tmp_path):
    engine = clean
    steps = plan(engine, tmp_path).steps
    first = steps[0]
    engine.run(first)
    with pytest.raises(EngineError, match="secret name in use"):
        engine.run(first)
    with pytest.raises(EngineError, match="no such secret"):
        engine.run(Step(StepKind.REMOVE_SECRET, "contract-no-such-secret", "test"))
    # The pod is created, then its container, whose second secret was never made.
    create_pod = next(s for s in steps if s.kind is StepKind.CREATE_POD)
    create_container = next(s for s in steps if s.kind is StepKind.CREATE_CONTAINER)
    engine.run(next(s for s in steps if s.kind is StepKind.CREATE_NETWORK))  # the project network the pod joins
    engine.run(create_pod)
    with pytest.raises(EngineError, match="no such secret"):
        engine.run(create_container)
    engine.run(Step(StepKind.REMOVE_SECRET, first.target, "test"))
    assert first.target not in {s.name for s in engine.observe().secrets}
