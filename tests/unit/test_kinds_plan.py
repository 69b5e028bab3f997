"""ConfigMaps, Secrets and workloads through the diff and the planner, on plain data: which
containers a changed key recreates and why, the Podman secrets made and removed, replicas: 0.

Golden texts in tests/unit/golden/ (regenerate with PODSPEC_UPDATE_GOLDEN=1 and review).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest

from podspec import labels as L
from podspec import render
from podspec.errors import ConflictError, ManifestError
from podspec.loader import load
from podspec.model import DesiredState
from podspec.names import podman_secret_name, secret_name_prefix
from podspec.observed import ObservedSecret, ObservedState
from podspec.plan import StepKind
from podspec.reconcile import delete as deletion
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.reconcile.intent import secret_labels
from podspec.reconcile.secret_diff import wanted_secrets
from tests.unit.hosts import applied as applied_pods
from tests.unit.test_planner import check_golden

SECRET = "Sup3r-s3cret-pw"


def manifests(level: str = "debug", password: str = SECRET, replicas: int = 1) -> str:
    encoded = base64.b64encode(password.encode()).decode()
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-config}}
data: {{LOG_LEVEL: {level}, GREETING: hello, app.conf: "listen 80"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: db}}
data: {{password: {encoded}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: shop}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: reader
      image: docker.io/library/busybox:latest
      env:
        - name: LEVEL
          valueFrom: {{configMapKeyRef: {{name: app-config, key: LOG_LEVEL}}}}
      volumeMounts:
        - {{name: conf, mountPath: /etc/app}}
        - {{name: creds, mountPath: /run/creds}}
    - name: greeter
      image: docker.io/library/busybox:latest
      env:
        - name: GREETING
          valueFrom: {{configMapKeyRef: {{name: app-config, key: GREETING}}}}
    - name: plain
      image: docker.io/library/busybox:latest
  volumes:
    - name: conf
      configMap: {{name: app-config, items: [{{key: app.conf, path: app.conf}}]}}
    - name: creds
      secret: {{secretName: db, defaultMode: 0400}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - {{name: httpd, image: docker.io/library/httpd:2.4}}
"""


def desired(tmp_path: Path, **knobs) -> DesiredState:
    path = tmp_path / "app.yaml"
    path.write_text(manifests(**knobs))
    state = load([str(path)])
    return replace(state, files=("app.yaml",))


def applied(state: DesiredState, project: str = "demo", labels_listed: bool = True) -> ObservedState:
    """The host after podspec applied `state`: its pods and the Podman secrets they read."""
    host = applied_pods(state, project)
    secrets = tuple(
        ObservedSecret(f"id-{name}", name, secret_labels(project, ref) if labels_listed else {}, labels_listed)
        for name, ref in sorted(wanted_secrets(state, project).items())
    )
    return replace(host, secrets=secrets)


def plan_for(state: DesiredState, observed: ObservedState, **flags):
    result = differ.compute(state, observed, "demo", **flags)
    return result, planner.build(result)


def texts(result, plan) -> str:
    return render.diff_text(result) + render.plan_text(plan) + str(render.diff_json(result)) + str(plan)


def test_create_from_empty_makes_the_secrets_first(tmp_path):
    result, plan = plan_for(desired(tmp_path), ObservedState())
    check_golden("kinds-create-from-empty", result, plan)
    kinds = [s.kind for s in plan.steps]
    assert kinds[:2] == [StepKind.CREATE_SECRET, StepKind.CREATE_SECRET]  # app.conf (a file) and password
    assert StepKind.CREATE_SECRET not in kinds[2:]
    made = {s.target: s for s in plan.steps if s.kind is StepKind.CREATE_SECRET}
    assert all(name.startswith(secret_name_prefix("demo")) for name in made)
    assert sorted(s.data for s in made.values()) == [SECRET.encode(), b"listen 80"]
    assert SECRET not in texts(result, plan)


def test_nothing_changed_nothing_to_do(tmp_path):
    state = desired(tmp_path)
    result, plan = plan_for(state, applied(state))
    assert not result.has_changes and plan.empty


def test_a_changed_configmap_key_recreates_only_its_reader(tmp_path):
    result, plan = plan_for(desired(tmp_path, level="info"), applied(desired(tmp_path)))
    check_golden("kinds-configmap-key-changed", result, plan)
    [pod] = result.pods
    assert [(c.name, c.action.value, c.cause) for c in pod.containers] == [
        ("shop-reader", "recreate", "configMap app-config changed")
    ]
    assert result.secrets == ()  # an env value of a ConfigMap is plain env: no Podman secret involved


def test_a_changed_secret_makes_a_new_podman_secret_and_removes_the_old_one_last(tmp_path):
    before = desired(tmp_path)
    result, plan = plan_for(desired(tmp_path, password="n3w-pw"), applied(before))
    check_golden("kinds-secret-value-changed", result, plan)
    steps = [(s.kind, s.cause) for s in plan.steps]
    assert steps[0][0] is StepKind.CREATE_SECRET
    assert steps[-1] == (StepKind.REMOVE_SECRET, "secret db key password: no container reads this value any more")
    assert [c.cause for p in result.pods for c in p.containers] == ["secret db changed"]
    for text in (SECRET, "n3w-pw", base64.b64encode(b"n3w-pw").decode()):
        assert text not in texts(result, plan)


def test_a_secret_still_read_by_a_container_that_stays_is_kept(tmp_path):
    """Without --prune a pod that left the manifests keeps running: its secrets stay."""
    old = desired(tmp_path)
    shopless = replace(desired(tmp_path, password="other"), pods=tuple(p for p in old.pods if p.name != "shop"))
    result, _ = plan_for(shopless, applied(old))
    assert result.secrets == ()
    result, plan = plan_for(shopless, applied(old), prune=True)
    assert sorted(s.action.value for s in result.secrets) == ["remove", "remove"]
    # last, after the containers that read them; then only the project's names record is replaced
    assert [(s.kind, s.target) for s in plan.steps][-4:-2] == [(StepKind.REMOVE_SECRET, s.name) for s in result.secrets]
    assert [(s.kind, s.target) for s in plan.steps][-2:] == [(StepKind.REMOVE_VOLUME, "podspec-names.demo"),
                                                            (StepKind.CREATE_VOLUME, "podspec-names.demo")]


def test_podman_4_3_lists_secrets_without_labels_podspec_knows_its_own_by_name(tmp_path):
    before = desired(tmp_path)
    host = applied(before, labels_listed=False)
    stranger = ObservedSecret("id-x", "handmade", {}, labels_listed=False)
    other_project = ObservedSecret("id-y", secret_name_prefix("elsewhere") + "db-password-0123456789ab", {}, False)
    host = replace(host, secrets=host.secrets + (stranger, other_project))
    assert not plan_for(before, host)[0].has_changes
    result, plan = plan_for(desired(tmp_path, password="n3w"), host)
    old_password = next(n for n, r in wanted_secrets(before, "demo").items() if r.key == "password")
    assert [s.target for s in plan.steps if s.kind is StepKind.REMOVE_SECRET] == [old_password]
    assert old_password == podman_secret_name("demo", wanted_secrets(before, "demo")[old_password])


def test_a_secret_name_held_by_someone_else_is_a_conflict(tmp_path):
    state = desired(tmp_path)
    name = next(iter(wanted_secrets(state, "demo")))
    host = replace(ObservedState(), secrets=(ObservedSecret("id", name, {"owner": "me"}),))
    with pytest.raises(ConflictError, match=f"Podman secret {name}: a Podman secret with this name exists, made by someone else"):
        plan_for(state, host)


def test_replicas_zero_removes_the_pod_podspec_made(tmp_path):
    result, plan = plan_for(desired(tmp_path, replicas=0), applied(desired(tmp_path)))
    check_golden("kinds-deployment-scaled-to-zero", result, plan)
    assert [(s.kind, s.target) for s in plan.steps] == [
        (StepKind.STOP_POD, "web-pod"), (StepKind.REMOVE_POD, "web-pod"),
        # the record no longer names web-pod (replaced last: it holds true meanwhile)
        (StepKind.REMOVE_VOLUME, "podspec-names.demo"), (StepKind.CREATE_VOLUME, "podspec-names.demo")]
    assert plan.steps[0].cause == "Deployment web has replicas: 0"
    # Absent already: nothing to do, and a pod of that name podspec did not make is left alone.
    host = applied(desired(tmp_path, replicas=0))
    assert not plan_for(desired(tmp_path, replicas=0), host)[0].has_changes


def test_delete_removes_the_projects_secrets_and_never_anyone_elses(tmp_path):
    state = desired(tmp_path)
    host = applied(state)
    host = replace(host, secrets=host.secrets + (ObservedSecret("id-x", "handmade", {}),))
    found = deletion.plan(state, host, "demo", volumes=False)
    removed = [s.target for s in found.plan.steps if s.kind is StepKind.REMOVE_SECRET]
    assert sorted(removed) == sorted(wanted_secrets(state, "demo"))
    assert "handmade" not in removed


def test_secret_labels_hold_a_digest_never_the_value(tmp_path):
    state = desired(tmp_path)
    for name, ref in wanted_secrets(state, "demo").items():
        labels = secret_labels("demo", ref)
        assert labels[L.MANAGED_BY] == "podspec" and labels[L.PROJECT] == "demo"
        assert labels[L.DIGEST].startswith("sha256:") and SECRET not in str(labels)
        assert len(name) <= 64
    assert SECRET not in repr(state)


def test_the_create_body_reads_secrets_by_name_and_never_holds_a_value(tmp_path):
    from podspec.engine.specgen import container_body
    from podspec.reconcile.intent import container_labels, pod_intent

    path = tmp_path / "p.yaml"
    path.write_text((Path(__file__).parents[1] / "fixtures/valid/configmaps-secrets.yaml").read_text())
    state = load([str(path)])
    pod = state.pod("shop")
    intent = pod_intent(pod).containers[0]
    body = container_body(pod, pod.containers[0], intent.role, container_labels("demo", pod.name, intent))
    names = wanted_secrets(state, "demo")
    by_key = {(r.source, r.key): n for n, r in names.items()}
    assert body["env"]["LEVEL"] == "debug" and body["env"]["POD_NAME"] == "shop"  # ConfigMap values: plain env
    assert body["secret_env"] == {
        "DB_PASSWORD": by_key["db", "password"], "DB_password": by_key["db", "password"], "DB_user": by_key["db", "user"],
    }
    assert body["secrets"] == [
        {"Source": by_key["app-config", "LOG_LEVEL"], "Target": "/etc/level", "UID": 0, "GID": 0, "Mode": 0o644},
        {"Source": by_key["db", "password"], "Target": "/run/creds/password", "UID": 0, "GID": 0, "Mode": 0o400},
        {"Source": by_key["db", "user"], "Target": "/run/creds/user", "UID": 0, "GID": 0, "Mode": 0o400},
        {"Source": by_key["app-config", "index.html"], "Target": "/srv/html/site/index.html", "UID": 0, "GID": 0,
         "Mode": 0o600},
    ]
    assert "mounts" not in body and "volumes" not in body
    assert set(body["labels"][L.SECRETS].split(",")) == {s["Source"] for s in body["secrets"]}
    assert "sekret" not in str(body) and "admin" not in str(body)


def test_replicas_are_copies_on_one_host_and_scaling_down_removes_the_last_ones(tmp_path):
    three = desired(tmp_path, replicas=3)
    assert [(p.name, p.workload) for p in three.pods if p.workload] == [
        ("web-pod", "Deployment web"), ("web-pod-1", "Deployment web"), ("web-pod-2", "Deployment web")]
    result, plan = plan_for(three, applied(desired(tmp_path)))
    assert [(s.kind, s.target) for s in plan.steps if s.kind is StepKind.CREATE_POD] == [
        (StepKind.CREATE_POD, "web-pod-1"), (StepKind.CREATE_POD, "web-pod-2")]
    made = next(s for s in plan.steps if s.target == "web-pod-1")
    assert dict(made.labels)[L.WORKLOAD] == "Deployment web"

    host = applied(three)
    assert not plan_for(three, host)[0].has_changes
    result, plan = plan_for(desired(tmp_path, replicas=1), host)
    assert [(s.kind, s.target, s.cause) for s in plan.steps if s.kind is StepKind.REMOVE_POD] == [
        (StepKind.REMOVE_POD, "web-pod-1", "Deployment web has replicas: 1; volumes are kept"),
        (StepKind.REMOVE_POD, "web-pod-2", "Deployment web has replicas: 1; volumes are kept")]
    result, plan = plan_for(desired(tmp_path, replicas=0), host)
    assert sorted(s.target for s in plan.steps if s.kind is StepKind.REMOVE_POD) == ["web-pod", "web-pod-1", "web-pod-2"]
    # Another project's copies are never touched.
    one = desired(tmp_path, replicas=1)
    theirs = applied(three, project="other")
    copies = tuple(p for p in theirs.pods if p.name in ("web-pod-1", "web-pod-2"))
    mine = applied(one)
    host = replace(mine, pods=mine.pods + copies,
                   containers=mine.containers + tuple(c for c in theirs.containers if c.pod_name in ("web-pod-1", "web-pod-2")))
    assert not plan_for(one, host)[0].has_changes


def test_replicas_that_would_take_the_same_host_port_are_refused(tmp_path):
    text = manifests(replicas=2).replace("- {name: httpd, image: docker.io/library/httpd:2.4}",
                                         "- {name: httpd, image: docker.io/library/httpd:2.4, ports: [{containerPort: 80, hostPort: 8080}]}")
    path = tmp_path / "app.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError) as refused:
        load([str(path)])
    [problem] = [p for p in refused.value.problems if p.path == "spec.replicas"]
    assert problem.message == "2 replicas with hostPort 8080: copies on one Podman host would take the same host port"
