"""ConfigMap, Secret, Deployment and Job documents in the loader: what they become, and the exact
problems (file:line:col) of invalid ones. Secret values never appear in a message or a repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.errors import ManifestError
from podspec.loader import load
from podspec.model import InitContainerType, KeyRef, SourceKind, VolumeKind

ROOT = Path(__file__).resolve().parents[2]
INVALID = "tests/fixtures/invalid-kinds"
VALID = "tests/fixtures/valid"


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def problems(path: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load([path])
    return [str(p).replace(path, "F") for p in caught.value.problems]


CASES = {
    "references.yaml": [
        "F:7:3: data.bad/key: invalid key 'bad/key' (at most 253 letters, digits, '-', '_' and '.')",
        "F:14:13: data.password: the value of password is not valid base64 "
        "(encode it with `base64 -w0`, or put the plain text under stringData)",
        "F:20:7: type: a kubernetes.io/tls Secret needs the keys tls.crt, tls.key (as a Kubernetes API server requires it)",
        "F:33:31: spec.containers[0].env[0].valueFrom.configMapKeyRef.name: ConfigMap app-confg is not defined in the "
        "manifests (did you mean app-config? add a ConfigMap document named app-confg beside the pods, "
        "or mark the reference optional: true)",
        "F:36:49: spec.containers[0].env[1].valueFrom.configMapKeyRef.key: key LEVEL is not in ConfigMap app-config "
        "(its keys: LOG_LEVEL, bad/key; or mark the reference optional: true)",
        "F:39:38: spec.containers[0].env[2].valueFrom.secretKeyRef.key: key user is not in Secret db "
        "(its keys: password; or mark the reference optional: true)",
        "F:42:35: spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: env D: fieldPath status.podIP is not "
        "supported: it is a cluster's or a running pod's field, unknown before the pod is created "
        "(supported: metadata.name, metadata.namespace, metadata.labels['KEY'], metadata.annotations['KEY'], "
        "spec.nodeName; or set a value)",
        "F:45:42: spec.containers[0].env[4].valueFrom.resourceFieldRef.resource: env E: limits.memory is not set in "
        "this container's resources (set resources.limits.memory: podspec computes the value from the manifest, "
        "not from the host's total as kube play does)",
        "F:47:11: spec.containers[0].env[5].value: env F has both value and valueFrom (keep one)",
        "F:51:23: spec.containers[0].envFrom[0].secretRef.name: Secret missing is not defined in the manifests "
        "(add a Secret document named missing beside the pods, or mark the reference optional: true)",
        "F:53:44: spec.containers[0].volumeMounts[0].subPath: subPath nothing is not a file or directory of volume cfg "
        "(its files: none)",
        "F:59:14: spec.volumes[0].configMap.items[0].key: key missing-key is not in ConfigMap app-config "
        "(its keys: LOG_LEVEL, bad/key; or mark the reference optional: true)",
        "F:62:9: spec.volumes[1].secret.secretName: Secret nope is not defined in the manifests "
        "(add a Secret document named nope beside the pods, or mark the reference optional: true)",
    ],
    "workloads.yaml": [
        "F:8:19: spec.selector.matchLabels.app: the selector app=web does not match the template's labels "
        "(add the label app: web to spec.template.metadata.labels; Kubernetes refuses such a Deployment)",
        "F:16:29: spec.template.spec.containers[0].securityContext.runAsGroup: runAsGroup needs runAsUser on Podman "
        "(Podman sets the user as uid:gid); add runAsUser",
        "F:23:16: spec.completions: completions 3: one Podman host runs one pod per Job "
        "(use completions: 1, or run this Job on Kubernetes)",
        "F:26:7: spec.template.spec: a Job's pod needs restartPolicy Never or OnFailure "
        "(Kubernetes refuses other values for a Job; set restartPolicy: OnFailure or Never)",
        'F:30:13: apiVersion: unsupported apiVersion "v1" (supported apiVersions: apps/v1)',
        "F:44:3: metadata.name: pod web-pod is defined twice (first defined at F:4:3; rename or remove one)",
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_file_reports_exactly(name):
    assert problems(f"{INVALID}/{name}") == CASES[name]


def test_every_invalid_fixture_has_a_case():
    assert {p.name for p in (ROOT / INVALID).glob("*.yaml")} == set(CASES)


def test_a_secret_value_is_never_shown():
    """Not in the base64 message, not in the model's repr."""
    with pytest.raises(ManifestError) as caught:
        load([f"{INVALID}/references.yaml"])
    assert "not base64!" not in str(caught.value)
    state = load([f"{VALID}/configmaps-secrets.yaml"])
    assert state.secrets[0].value("password") == b"sekret"
    assert "sekret" not in repr(state) and "c2VrcmV0" not in repr(state)

def test_configmaps_and_secrets_reach_env_and_files():
    state = load([f"{VALID}/configmaps-secrets.yaml"])
    assert [c.name for c in state.config_maps] == ["app-config"]
    assert [(s.name, s.type) for s in state.secrets] == [("db", "Opaque"), ("registry-pull", "kubernetes.io/dockerconfigjson")]
    db = state.secrets[0]
    assert db.value("password") == b"sekret" and db.value("user") == b"admin"  # data decoded; stringData as text
    [app] = state.pod("shop").containers
    env = dict(app.effective_env())
    assert env["LEVEL"] == "debug" and env["POD_NAME"] == "shop" and env["APP"] == "shop"
    assert env["MEMORY_MI"] == "64" and env["CPU_MILLIS"] == "500"  # requests.cpu falls back to the limit
    assert "MISSING_OK" not in env  # an optional key that is absent: no variable, as in Kubernetes
    assert env["LOG_LEVEL"] == "debug" and "logo.bin" not in env  # envFrom takes data, not binaryData
    password = env["DB_PASSWORD"]
    assert isinstance(password, KeyRef) and password.kind is SourceKind.SECRET and password.value == ""
    assert password.digest.startswith("sha256:") and env["DB_password"] == password
    html, creds, level = state.pod("shop").volumes
    assert html.kind is VolumeKind.CONFIG_MAP and [(f.path, oct(f.mode)) for f in html.files] == [("site/index.html", "0o600")]
    assert [(f.path, oct(f.mode)) for f in creds.files] == [("password", "0o400"), ("user", "0o400")]
    assert [path for path, _ in level.files_at("LOG_LEVEL")] == [""]


def test_env_wins_over_env_from_as_in_kubernetes(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: from-map, B: map}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: x\n    image: busybox\n"
        "    env: [{name: A, value: own}]\n    envFrom: [{configMapRef: {name: c}}]\n"
    )
    [container] = load([str(path)]).pods[0].containers
    assert dict(container.effective_env()) == {"A": "own", "B": "map"}


def test_workloads_become_pods_named_as_kube_play_names_them():
    state = load([f"{VALID}/workloads.yaml"])
    assert [p.name for p in state.pods] == ["migrate-pod", "web-pod"]
    web = state.pod("web-pod")
    assert web.workload == "Deployment web" and dict(web.labels) == {"app": "web", "tier": "front"}
    assert web.init_container_type is InitContainerType.ALWAYS  # kube play reads it from the Deployment
    assert web.origin.line == 2 and web.locations.of(("spec", "containers", 0, "image")).line == 29
    assert state.pod("migrate-pod").restart_policy.value == "OnFailure"
    assert [(a.name, a.reason) for a in state.absent_pods] == [("paused-pod", "Deployment paused has replicas: 0")]
    assert web.rollout is not None and web.rollout.batch == 1  # strategy is honoured (reconcile/rollout.py)
    keep = "(keep it for Kubernetes; --strict makes this an error)"
    assert [str(w).replace(f"{VALID}/workloads.yaml", "F") for w in state.warnings] == [
        f"F:18:3: spec.revisionHistoryLimit: revisionHistoryLimit is ignored on a single Podman host "
        f"(it is about the ReplicaSets a cluster keeps) {keep}",
        "F:54:3: spec.backoffLimit: backoffLimit is ignored on a single Podman host "
        f"(it is about the Job controller's retries; the pod's restartPolicy applies) {keep}",
        "F:55:3: spec.ttlSecondsAfterFinished: ttlSecondsAfterFinished is ignored on a single Podman host "
        f"(it is about the Job controller's clean-up of finished Jobs) {keep}",
    ]


def test_an_empty_value_podman_cannot_hold_is_refused_where_it_is_mounted(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(Path(ROOT / "tests/fixtures/valid/configmaps-secrets.yaml").read_text().replace("user: admin", 'user: ""'))
    said = "key user of Secret db is empty: a Podman secret, which podspec makes of it, holds 1 to 511999 bytes"
    assert problems(str(path)) == [
        f"F:69:11: spec.containers[0].envFrom[1].secretRef: {said} (give it a value)",
        f"F:82:7: spec.volumes[1].secret: {said} (give it a value)",
    ]


def test_strict_makes_the_workload_warnings_errors():
    with pytest.raises(ManifestError) as caught:
        load([f"{VALID}/workloads.yaml"], strict=True)
    assert [p.path for p in caught.value.problems] == [
        "spec.revisionHistoryLimit", "spec.backoffLimit", "spec.ttlSecondsAfterFinished",
    ]
